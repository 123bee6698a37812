/* SPDX-License-Identifier: Apache-2.0 */
#include "nonce.h"
#include "platform.h"
#include "wipe.h"

#include <string.h>


int nb_nonce_issue(nb_nonce_table *t, uint32_t handle, time_t now, uint8_t out[NB_NONCE_BYTES])
{
    nb_nonce *slot = &t->slots[0];
    for (size_t i = 0; i < NB_NONCE_SLOTS; i++) {
        nb_nonce *n = &t->slots[i];
        if (!n->in_use) {
            slot = n;
            break;
        }
        if (n->issued < slot->issued)
            slot = n;
    }
    if (nb_random_bytes(out, NB_NONCE_BYTES) != 0)
        return -1;
    memcpy(slot->value, out, NB_NONCE_BYTES);
    slot->handle = handle;
    slot->issued = now;
    slot->in_use = 1;
    return 0;
}

static const nb_nonce *find(const nb_nonce_table *t, const uint8_t value[NB_NONCE_BYTES])
{
    for (size_t i = 0; i < NB_NONCE_SLOTS; i++)
        if (t->slots[i].in_use && nb_equal_secret(t->slots[i].value, value, NB_NONCE_BYTES))
            return &t->slots[i];
    return NULL;
}

nb_error nb_nonce_check(const nb_nonce_table *t, const uint8_t value[NB_NONCE_BYTES],
                        uint32_t handle, time_t now)
{
    const nb_nonce *n = find(t, value);
    if (n == NULL)
        return NB_ERR_NONCE_REPLAYED;
    if (n->handle != handle)
        return NB_ERR_NONCE_WRONG_HANDLE;
    if (now < n->issued || now - n->issued > NB_NONCE_LIFETIME)
        return NB_ERR_NONCE_EXPIRED;
    return NB_OK;
}

void nb_nonce_consume(nb_nonce_table *t, const uint8_t value[NB_NONCE_BYTES])
{
    nb_nonce *n = (nb_nonce *)find(t, value);
    if (n != NULL)
        memset(n, 0, sizeof(*n));
}

void nb_nonce_forget_handle(nb_nonce_table *t, uint32_t handle)
{
    for (size_t i = 0; i < NB_NONCE_SLOTS; i++)
        if (t->slots[i].in_use && t->slots[i].handle == handle)
            memset(&t->slots[i], 0, sizeof(t->slots[i]));
}
