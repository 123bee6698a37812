/* The host's main loop: a reader thread takes frames from the browser so
 * that a new request can interrupt a long wait; the main thread handles
 * requests one at a time and is the only writer of replies. */
#ifndef NB_RELAY_H
#define NB_RELAY_H

#include "session.h"

/* Runs until stdin ends or can no longer be trusted. Returns the exit code:
 * 0 after a clean EOF, 1 after a framing error that desynchronised the
 * stream or a write failure. Closes the session before returning. */
int nb_relay_run(nb_session *s, int in_fd, int out_fd);

#endif
