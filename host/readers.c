/* SPDX-License-Identifier: Apache-2.0 */
/* Reader and card state flags as protocol strings; reader names as PC/SC
 * gives them. Shared by the commands and doctor. */
#include "readers.h"

#include <string.h>

#include "errors.h"
#include "hex.h"

typedef struct {
    uint32_t flag;
    const char *name;
} flag_name;

static const flag_name state_names[] = {
    {NB_STATE_UNKNOWN, "unknown"},     {NB_STATE_UNAVAILABLE, "unavailable"},
    {NB_STATE_EMPTY, "empty"},         {NB_STATE_PRESENT, "present"},
    {NB_STATE_ATRMATCH, "atrmatch"},   {NB_STATE_EXCLUSIVE, "exclusive"},
    {NB_STATE_INUSE, "inuse"},         {NB_STATE_MUTE, "mute"},
    {NB_STATE_UNPOWERED, "unpowered"},
};

static const flag_name card_status_names[] = {
    {NB_CARD_UNKNOWN, "unknown"},   {NB_CARD_ABSENT, "absent"},
    {NB_CARD_PRESENT, "present"},   {NB_CARD_SWALLOWED, "swallowed"},
    {NB_CARD_POWERED, "powered"},   {NB_CARD_NEGOTIABLE, "negotiable"},
    {NB_CARD_SPECIFIC, "specific"},
};

/* Adds the names of the set flags as an array member. */
static cJSON *flags_to_json(cJSON *parent, const char *name, uint32_t flags, const flag_name *table,
                            size_t count)
{
    cJSON *array = cJSON_AddArrayToObject(parent, name);
    for (size_t i = 0; array != NULL && i < count; i++)
        if (flags & table[i].flag)
            cJSON_AddItemToArray(array, cJSON_CreateString(table[i].name));
    return array;
}

cJSON *nb_state_to_json(cJSON *parent, const char *name, uint32_t state)
{
    return flags_to_json(parent, name, state, state_names, sizeof(state_names) / sizeof(state_names[0]));
}

cJSON *nb_card_status_to_json(cJSON *parent, const char *name, uint32_t status)
{
    return flags_to_json(parent, name, status, card_status_names,
                         sizeof(card_status_names) / sizeof(card_status_names[0]));
}

int nb_state_from_json(const cJSON *array, uint32_t *state)
{
    *state = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsString(item))
            return -1;
        size_t i = 0;
        size_t n = sizeof(state_names) / sizeof(state_names[0]);
        while (i < n && strcmp(state_names[i].name, item->valuestring) != 0)
            i++;
        if (i == n)
            return -1;
        *state |= state_names[i].flag;
    }
    return 0;
}

void nb_add_atr(cJSON *parent, const uint8_t *atr, size_t len)
{
    if (len == 0) {
        cJSON_AddNullToObject(parent, "atr");
        return;
    }
    char hex[2 * NB_MAX_ATR + 1];
    nb_hex_encode(atr, len, hex);
    cJSON_AddStringToObject(parent, "atr", hex);
}

/* Reads the reader names into a double-NUL list. Returns a PC/SC code;
 * "no readers" is success with an empty list. */
uint32_t nb_read_reader_names(const nb_backend *b, nb_context ctx, char *names, size_t cap)
{
    size_t len = cap - 2;
    uint32_t rv = b->list_readers(b->self, ctx, names, &len);
    if (rv == NB_SCARD_E_NO_READERS_AVAILABLE)
        len = 0;
    else if (rv != NB_SCARD_S_SUCCESS)
        return rv;
    /* Never trust the terminators: force them. */
    if (len > cap - 2)
        len = cap - 2;
    names[len] = '\0';
    names[len + 1] = '\0';
    return NB_SCARD_S_SUCCESS;
}
