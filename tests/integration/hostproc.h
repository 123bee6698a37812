/* SPDX-License-Identifier: Apache-2.0 */
/* Integration test helpers: run build/nesbridge-host as a browser would,
 * speak framed JSON to it, and steer the virtual card. */
#ifndef NB_HOSTPROC_H
#define NB_HOSTPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define IT_READER "nesbridge Virtual Reader 00 00"
#define IT_ORIGIN "https://kamusm.gov.tr"
#define IT_CHROME_CALLER "chrome-extension://ffpjpdkbfkaajpicelpogecbmppnpjkp/"

typedef struct {
    pid_t pid;
    int to_host;   /* host's stdin */
    int from_host; /* host's stdout */
} hostproc;

/* Starts $NB_BUILD/nesbridge-host with the given caller argument. */
void host_start(hostproc *h, const char *caller);
/* Sends raw bytes / one JSON frame. */
void host_send_raw(hostproc *h, const void *bytes, size_t len);
void host_send(hostproc *h, const char *json);
/* Reads one reply within timeout_ms; NULL on timeout or EOF. */
cJSON *host_recv(hostproc *h, int timeout_ms);
/* Sends a command and returns its reply (must arrive within 5 s). */
cJSON *host_call(hostproc *h, const char *cmd, const char *args_json);
/* Closes stdin and waits up to timeout_ms; returns the exit status, or
 * -1 if still running (then kills it). */
int host_close(hostproc *h, int timeout_ms);

const char *reply_code(const cJSON *reply);  /* "ok" or the error code */
const cJSON *reply_result(const cJSON *reply, const char *field);

/* Sends a control command to the virtual card; returns its answer line. */
const char *vcard_control(const char *command);
/* Waits until the card is (present=1) or is not (0) in the reader. */
void vcard_wait_present(int present);

double now_seconds(void);

#endif
