/* SPDX-License-Identifier: Apache-2.0 */
/* Where a token's PIN comes from: the URI's pin-source (a file only the
 * user can read), else the environment. Never the command line. */
#ifndef NB_SIGN_PIN_SOURCE_H
#define NB_SIGN_PIN_SOURCE_H

#include <stddef.h>

#define NB_PIN_MAX 256

/* Reads the PIN into pin (NB_PIN_MAX + 1 bytes), from pin_source when it
 * is not NULL ("file:/abs/path" or "/abs/path"), else from the variable
 * env_name, which is then wiped and removed from the environment. Returns
 * the PIN's length, 0 when neither gives one, or -1 (with a message on
 * stderr) when the source is refused. */
long nb_pin_read(const char *pin_source, const char *env_name, char *pin);

#endif
