/* SPDX-License-Identifier: Apache-2.0 */
/* The ATRs the virtual card can answer with: real AKİS ATRs from the
 * public list pcsc-tools ships (smartcard_list.txt). The card's commands
 * are the same whichever profile answers the reset. */
#ifndef NB_VCARD_PROFILE_H
#define NB_VCARD_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define NB_ATR_MAX 33

typedef struct {
    const char *name; /* what --profile and VCARD_PROFILE take */
    const char *what; /* as the public list names the card */
    uint8_t atr[NB_ATR_MAX];
    size_t atr_len;
} nb_vcard_profile;

/* The profile of this name; NULL (or "") gives the default, AKİS v1.3.
 * Returns NULL for an unknown name. */
const nb_vcard_profile *nb_vcard_profile_find(const char *name);

/* The names, comma-separated, for usage messages. */
const char *nb_vcard_profile_names(void);

#endif
