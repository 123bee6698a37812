/* SPDX-License-Identifier: Apache-2.0 */
/* The card's state file: "key=value" lines, written atomically (temporary
 * file, fsync, rename) so that a crash or a pulled card loses nothing. */
#ifndef NB_VCARD_STATE_H
#define NB_VCARD_STATE_H

#include "card.h"

/* Demo-only authority master key (docs/card-profile.md). Never a real key. */
#define NB_DEMO_MASTER_KEY "4E4553425249444745444D4F4B455931"

int nb_state_load(const char *path, nb_card_state *st);
int nb_state_save(const char *path, const nb_card_state *st);
/* Loads the state, or creates it (init: fresh, pin-locked, puk-locked;
 * NULL: load, else create fresh) when there is none; a damaged file is
 * never replaced without init. Returns 0, or -1 with *why set. */
int nb_state_open(const char *path, const char *serial, const char *master_hex, const char *init,
                  nb_card_state *st, const char **why);
/* Another card of the same serial (control command reset-state): a new
 * state from the demo master key, saved. Returns 0 or -1. */
int nb_state_reinit(const char *path, nb_card_state *st, const char *how);

#endif
