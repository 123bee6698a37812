/* SPDX-License-Identifier: Apache-2.0 */
/* One way to wipe: every buffer that held card data, a script, a PIN, a
 * key or a frame body is wiped through here before it is left or freed.
 * And one way to compare secrets: in constant time. Neither needs
 * libcrypto, so that a host that never runs a script never loads it. */
#ifndef NB_WIPE_H
#define NB_WIPE_H

#include <stddef.h>

/* Overwrites len bytes in a way the compiler keeps. */
void nb_wipe(void *p, size_t len);

/* Wipes a block from malloc, all of it as the allocator sized it, then
 * frees it. NULL is fine. */
void nb_free_wiped(void *p);

/* Whether a and b hold the same n bytes; the time taken does not depend
 * on where they differ. */
int nb_equal_secret(const void *a, const void *b, size_t n);

#endif
