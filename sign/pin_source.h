/* SPDX-License-Identifier: Apache-2.0 */
/* Where a token's PIN comes from: the URI's pin-source, else the
 * environment. Never the command line.
 *
 * A PIN file is a regular file (not a link), owned by this user or root,
 * that neither its group nor others can write, others cannot read, and
 * its group can read only when root owns it. It holds one line: the PIN,
 * then at most one line end (LF or CR LF); any other CR, LF or NUL is
 * refused, as is an empty PIN or one longer than NB_PIN_MAX. */
#ifndef NB_SIGN_PIN_SOURCE_H
#define NB_SIGN_PIN_SOURCE_H

#include <stddef.h>

#define NB_PIN_MAX 256

/* Reads the PIN into pin (NB_PIN_MAX + 1 bytes), from pin_source when it
 * is not NULL ("file:/abs/path" or "/abs/path"), else from the variable
 * env_name (the same one-line rule), which is then wiped and removed from
 * the environment. Returns the PIN's length, 0 when neither gives one, or
 * -1 (with a message on stderr that never shows the PIN) when the source
 * is refused. */
long nb_pin_read(const char *pin_source, const char *env_name, char *pin);

#endif
