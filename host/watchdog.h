/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded card exchanges. PC/SC offers no timeout for a card that stops
 * answering (a virtual reader waits for ever), so a watchdog thread does:
 * when one exchange lasts longer than the limit, or the browser closes the
 * port meanwhile, it answers the pending request with unresponsive-card
 * (or nothing, when the port is closed) and ends the host process. The
 * kernel then closes the pcscd connection, which releases the card and
 * any transaction. The browser starts a fresh host on its next request. */
#ifndef NB_WATCHDOG_H
#define NB_WATCHDOG_H

#include <stdint.h>

#define NB_CARD_TIMEOUT_MS_DEFAULT 30000u

/* Starts the watchdog for a host whose stdin/stdout are in_fd/out_fd. */
int nb_watchdog_start(int in_fd, int out_fd, uint32_t limit_ms);
void nb_watchdog_stop(void);

/* Around every call that can block on the card or the reader.
 * reply_id_json: the pending request's id as JSON text ("null" when
 * none), for the reply the watchdog may send. limit_ms: how long this call
 * may take; 0 for the card timeout given at start (a pinpad entry takes
 * the reader's own timeout plus a margin). */
void nb_watchdog_enter(const char *reply_id_json, uint32_t limit_ms);
void nb_watchdog_leave(void);

/* While on (a signed script has sent its first APDU), a closed port does
 * not end the host: the script runs to its end, each exchange still
 * bounded by its limit; the host then reads the end of its input and
 * exits. */
void nb_watchdog_finish_first(int on);

#endif
