/* SPDX-License-Identifier: Apache-2.0 */
/* What the page may send to the card. Outside a signed script only
 * commands that cannot change the card pass. */
#ifndef NB_POLICY_H
#define NB_POLICY_H

#include "apdu.h"

#define NB_INS_VERIFY 0x20
#define NB_INS_CHANGE_REFERENCE_DATA 0x24
#define NB_INS_RESET_RETRY_COUNTER 0x2C
#define NB_INS_SELECT 0xA4
#define NB_INS_GET_RESPONSE 0xC0

/* Returns 1 when a plain transmit (no signed script) may send this APDU;
 * else 0 with *why set. */
int nb_policy_plain_transmit(const nb_apdu *apdu, const char **why);

/* Returns 1 when the APDU's data must never be logged or echoed (PINs,
 * PUKs, new reference data, authentication cryptograms). */
int nb_policy_data_is_secret(const nb_apdu *apdu);

#endif
