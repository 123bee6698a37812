/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"

#include <stddef.h>

/* Commands that read, select or ask; none of them changes the card. */
static const uint8_t read_only_ins[] = {
    0xA4,       /* SELECT */
    0xB0, 0xB1, /* READ BINARY */
    0xB2, 0xB3, /* READ RECORD */
    0xCA, 0xCB, /* GET DATA */
    0x84,       /* GET CHALLENGE */
    0xC0,       /* GET RESPONSE */
};

/* Commands whose data carries a secret. */
static const uint8_t secret_ins[] = {
    NB_INS_VERIFY, NB_INS_CHANGE_REFERENCE_DATA, NB_INS_RESET_RETRY_COUNTER,
    0x82, /* EXTERNAL AUTHENTICATE */
    0x86, 0x87, /* GENERAL AUTHENTICATE */
    0x88, /* INTERNAL AUTHENTICATE */
    0x2A, /* PERFORM SECURITY OPERATION */
    0x22, /* MANAGE SECURITY ENVIRONMENT */
    0xDA, 0xDB, /* PUT DATA (keys) */
};

static int ins_in(uint8_t ins, const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == ins)
            return 1;
    return 0;
}

int nb_policy_plain_transmit(const nb_apdu *apdu, const char **why)
{
    uint8_t cla = apdu->cla;
    if (cla & 0x80) {
        *why = "proprietary class bytes are refused outside a signed script";
        return 0;
    }
    if ((cla & 0xE0) == 0x20) {
        *why = "reserved class bytes are refused";
        return 0;
    }
    if (cla & 0x10) {
        *why = "command chaining is refused outside a signed script";
        return 0;
    }
    if (apdu->ins == NB_INS_VERIFY) {
        /* P1=00 asks for the retry counter and spends no try; P1=FF would
         * reset the security status, logging other programs out. */
        if (apdu->apdu_case == 1 && apdu->p1 == 0x00)
            return 1;
        *why = "VERIFY other than a bare retry-counter query (P1=00, no data, no Le) needs a signed script";
        return 0;
    }
    if (ins_in(apdu->ins, read_only_ins, sizeof(read_only_ins)))
        return 1;
    *why = "this instruction may change the card and needs a signed script";
    return 0;
}

int nb_policy_data_is_secret(const nb_apdu *apdu)
{
    if (apdu->cla & 0x80)
        return 1; /* proprietary: meaning unknown, treat as secret */
    /* Secure messaging indication: bits 4-3 in the first interindustry
     * class, bit 6 in the further interindustry class. */
    int secure_messaging = (apdu->cla & 0x40) ? (apdu->cla & 0x20) : (apdu->cla & 0x0C);
    if (secure_messaging)
        return 1;
    return ins_in(apdu->ins, secret_ins, sizeof(secret_ins));
}
