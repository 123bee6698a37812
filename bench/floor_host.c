/* SPDX-License-Identifier: Apache-2.0 */
/* The floor of a cold start: the least a native-messaging host can do.
 * It reads one frame, writes one fixed reply and exits: no JSON, no
 * libraries but libc. make bench times nesbridge-host against it. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    uint32_t length = 0;
    static char body[1 << 16];
    if (read(0, &length, sizeof(length)) != (ssize_t)sizeof(length) || length > sizeof(body))
        return 1;
    for (size_t got = 0; got < length;) {
        ssize_t n = read(0, body + got, length - got);
        if (n <= 0)
            return 1;
        got += (size_t)n;
    }
    static const char reply[] = "{\"id\":1,\"ok\":true,\"result\":{\"protocol\":1}}";
    char frame[sizeof(uint32_t) + sizeof(reply)];
    uint32_t reply_len = sizeof(reply) - 1;
    memcpy(frame, &reply_len, sizeof(reply_len));
    memcpy(frame + sizeof(reply_len), reply, reply_len);
    return write(1, frame, sizeof(reply_len) + reply_len) == (ssize_t)(sizeof(reply_len) + reply_len) ? 0 : 1;
}
