/* SPDX-License-Identifier: Apache-2.0 */
/* Reader state flags as protocol strings, shared by the reader and card
 * commands. */
#ifndef NB_READERS_H
#define NB_READERS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "backend.h"

#define NB_MAX_READERS 15        /* reported and watched; plus the PnP pseudo-reader */
#define NB_MAX_WAIT_MS 3600000.0 /* wait-for-change's longest timeout_ms */

/* Adds the names of the set flags ("present", "inuse", ...) as an array
 * member called name. Returns the array or NULL. */
cJSON *nb_state_to_json(cJSON *parent, const char *name, uint32_t state);

/* Adds the card status flags ("present", "powered", "specific", ...)
 * of a connected card as an array member called name. */
cJSON *nb_card_status_to_json(cJSON *parent, const char *name, uint32_t status);

/* Reads an array of flag names back into flags; -1 on an unknown name. */
int nb_state_from_json(const cJSON *array, uint32_t *state);

/* Reads the reader names into names (capacity cap >= 2) as a
 * double-NUL-terminated list, terminators forced whatever the service
 * returned. "No readers" is success with an empty list. Returns a PC/SC
 * code. */
uint32_t nb_read_reader_names(const nb_backend *b, nb_context ctx, char *names, size_t cap);

/* Adds "atr": hex, or null when len is 0. */
void nb_add_atr(cJSON *parent, const uint8_t *atr, size_t len);

#endif
