/* SPDX-License-Identifier: Apache-2.0 */
/* launch.exe PROGRAM [ARG...]: starts PROGRAM the way Chrome and Firefox
 * start a native host on Windows, with anonymous pipes from CreatePipe on
 * its stdin and stdout, and relays its own stdin and stdout to them. Under
 * wine a test's Unix pipes cannot be peeked; through this the host sees
 * the same kind of pipe a browser gives it. Test code only. */
#include <stdio.h>
#include <string.h>

#include <windows.h>

static HANDLE child_in;

/* Copies from one handle to the other until the end or an error. */
static void relay(HANDLE from, HANDLE to)
{
    char buf[65536];
    DWORD n = 0, written = 0;
    while (ReadFile(from, buf, sizeof(buf), &n, NULL) && n > 0)
        if (!WriteFile(to, buf, n, &written, NULL))
            break;
}

static DWORD WINAPI feed_child(LPVOID unused)
{
    (void)unused;
    relay(GetStdHandle(STD_INPUT_HANDLE), child_in);
    CloseHandle(child_in); /* the host sees the port close */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: launch.exe PROGRAM [ARG...]\n");
        return 2;
    }
    char command[8192] = "";
    size_t used = 0;
    for (int i = 1; i < argc; i++) {
        int n = snprintf(command + used, sizeof(command) - used, "%s\"%s\"", i > 1 ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(command) - used)
            return 2;
        used += (size_t)n;
    }
    SECURITY_ATTRIBUTES inherit = {sizeof(inherit), NULL, TRUE};
    HANDLE in_read, out_read, out_write;
    if (!CreatePipe(&in_read, &child_in, &inherit, 0) || !CreatePipe(&out_read, &out_write, &inherit, 0))
        return 3;
    SetHandleInformation(child_in, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOA si;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_read;
    si.hStdOutput = out_write;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(NULL, command, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return 4;
    CloseHandle(in_read);
    CloseHandle(out_write);
    HANDLE feeder = CreateThread(NULL, 0, feed_child, NULL, 0, NULL);
    relay(out_read, GetStdHandle(STD_OUTPUT_HANDLE));
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    (void)feeder; /* may still block on our stdin; the process ends anyway */
    return (int)code;
}
