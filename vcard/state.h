/* SPDX-License-Identifier: Apache-2.0 */
/* The card's state file: "key=value" lines, written atomically (temporary
 * file, fsync, rename) so that a crash or a pulled card loses nothing. */
#ifndef NB_VCARD_STATE_H
#define NB_VCARD_STATE_H

#include "card.h"

int nb_state_load(const char *path, nb_card_state *st);
int nb_state_save(const char *path, const nb_card_state *st);

#endif
