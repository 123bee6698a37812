/* SPDX-License-Identifier: Apache-2.0 */
/* The host's main loop: reads a frame, answers it, one at a time. During
 * a wait-for-change a watcher thread cancels the wait as soon as the page
 * sends anything or closes the port. */
#ifndef NB_RELAY_H
#define NB_RELAY_H

#include "session.h"

/* Runs until stdin ends or can no longer be trusted. Returns the exit code:
 * 0 after a clean EOF, 1 after a framing error that desynchronised the
 * stream or a write failure. Closes the session before returning. */
int nb_relay_run(nb_session *s, int in_fd, int out_fd);

#endif
