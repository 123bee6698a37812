/* SPDX-License-Identifier: Apache-2.0 */
/* One way to wipe: every buffer that held card data, a script, a PIN, a
 * key or a frame body is wiped through here before it is left or freed. */
#ifndef NB_WIPE_H
#define NB_WIPE_H

#include <stddef.h>

/* Overwrites len bytes in a way the compiler keeps. */
void nb_wipe(void *p, size_t len);

/* Wipes a block from malloc, all of it as the allocator sized it, then
 * frees it. NULL is fine. */
void nb_free_wiped(void *p);

#endif
