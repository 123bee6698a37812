/* SPDX-License-Identifier: Apache-2.0 */
#include "card.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "apdu.h"
#include "wipe.h"

/* TS=3B, T0=88 (TD1 follows, 8 historical bytes), TD1=01 (T=1),
 * historical: 80 (compact-TLV follows) 66 "AKISNB", TCK. */
const uint8_t nb_vcard_atr[] = {0x3B, 0x88, 0x01, 0x80, 0x66, 0x41,
                                0x4B, 0x49, 0x53, 0x4E, 0x42, 0x73};
const size_t nb_vcard_atr_len = sizeof(nb_vcard_atr);

static const uint8_t pkcs15_name[] = {0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35};

#define SW_OK 0x9000
#define SW_END_OF_FILE 0x6282
#define SW_AUTH_FAILED 0x6300
#define SW_MEMORY_FAILURE 0x6581
#define SW_WRONG_LENGTH 0x6700
#define SW_SECURITY_STATUS 0x6982
#define SW_BLOCKED 0x6983
#define SW_REF_NOT_USABLE 0x6984
#define SW_CONDITIONS 0x6985
#define SW_WRONG_DATA 0x6A80
#define SW_FILE_NOT_FOUND 0x6A82
#define SW_WRONG_P1P2 0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_OFFSET 0x6B00
#define SW_INS 0x6D00
#define SW_CLA 0x6E00

typedef struct {
    uint8_t *data;
    size_t cap;
    size_t len;
} response;

static int put(response *r, const void *bytes, size_t n)
{
    if (r->len + n > r->cap)
        return -1;
    memcpy(r->data + r->len, bytes, n);
    r->len += n;
    return 0;
}

int nb_card_state_init(nb_card_state *st, const char *serial, const uint8_t master[NB_KEY_LEN],
                       const char *how)
{
    memset(st, 0, sizeof(*st));
    size_t n = strlen(serial);
    if (n == 0 || n > NB_SERIAL_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((serial[i] >= '0' && serial[i] <= '9') || (serial[i] >= 'A' && serial[i] <= 'Z')))
            return -1;
    memcpy(st->serial, serial, n + 1);
    memcpy(st->pin, "123456", 7);
    memcpy(st->puk, "12345678", 9);
    st->pin_tries = NB_PIN_TRIES;
    st->puk_tries = NB_PUK_TRIES;
    if (strcmp(how, "pin-locked") == 0) {
        st->pin_tries = 0;
    } else if (strcmp(how, "puk-locked") == 0) {
        st->pin_tries = 0;
        st->puk_tries = 0;
    } else if (strcmp(how, "fresh") != 0) {
        return -1;
    }
    return nb_derive_admin_key(master, serial, st->admin_key);
}

void nb_vcard_power(nb_vcard *card)
{
    card->current_df = NB_FILE_MF;
    card->ef_selected = 0;
    card->pin_verified = 0;
    card->have_challenge = 0;
    card->new_pin_armed = 0;
    nb_wipe(card->challenge, sizeof(card->challenge));
    nb_sm_end(&card->sm);
}

static int persist(nb_vcard *card)
{
    return card->save != NULL ? card->save(card->save_arg, &card->state) : 0;
}

/* A PIN field: 8 bytes, 'min'..'max' ASCII digits then FF padding.
 * Returns 0 and the digits in out, or a status word. */
static uint16_t read_pin_field(const uint8_t *field, size_t min, size_t max, char *out)
{
    size_t n = 0;
    while (n < NB_PIN_FIELD && field[n] != 0xFF) {
        if (field[n] < '0' || field[n] > '9')
            return SW_WRONG_DATA;
        n++;
    }
    for (size_t i = n; i < NB_PIN_FIELD; i++)
        if (field[i] != 0xFF)
            return SW_WRONG_DATA;
    if (n < min || n > max)
        return SW_WRONG_DATA;
    memcpy(out, field, n);
    out[n] = '\0';
    return 0;
}

static int secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* Checks a presented secret against a counter: the try is spent and
 * saved before comparing, so pulling the card cannot win a free try. */
static uint16_t check_secret(nb_vcard *card, const char *presented, const char *stored,
                             unsigned *tries, unsigned max_tries)
{
    if (*tries == 0)
        return SW_BLOCKED;
    unsigned before = *tries;
    (*tries)--;
    if (persist(card) != 0) {
        *tries = before;
        return SW_MEMORY_FAILURE;
    }
    if (secret_equal(presented, stored)) {
        *tries = max_tries;
        if (persist(card) != 0)
            return SW_MEMORY_FAILURE;
        return SW_OK;
    }
    return (uint16_t)(0x63C0 | (*tries & 0x0F));
}

static uint16_t cmd_verify(nb_vcard *card, const nb_apdu *a, const uint8_t *data)
{
    if (a->p1 != 0x00)
        return SW_WRONG_P1P2;
    int is_pin = a->p2 == NB_REF_PIN;
    if (!is_pin && a->p2 != NB_REF_PUK)
        return SW_REF_NOT_FOUND;
    unsigned *tries = is_pin ? &card->state.pin_tries : &card->state.puk_tries;
    if (a->apdu_case == 1) { /* status query: spends nothing */
        if (*tries == 0)
            return SW_BLOCKED;
        if (is_pin && card->pin_verified)
            return SW_OK;
        return (uint16_t)(0x63C0 | (*tries & 0x0F));
    }
    if (a->apdu_case != 3)
        return SW_WRONG_LENGTH;
    if (a->lc != NB_PIN_FIELD)
        return SW_WRONG_LENGTH;
    char presented[NB_PIN_MAX + 1];
    uint16_t sw = is_pin ? read_pin_field(data, NB_PIN_MIN, NB_PIN_MAX, presented)
                         : read_pin_field(data, NB_PUK_LEN, NB_PUK_LEN, presented);
    if (sw == 0) {
        sw = check_secret(card, presented, is_pin ? card->state.pin : card->state.puk, tries,
                          is_pin ? NB_PIN_TRIES : NB_PUK_TRIES);
        if (is_pin)
            card->pin_verified = sw == SW_OK;
    }
    nb_wipe(presented, sizeof(presented));
    return sw;
}

/* Sets a new PIN with full tries. */
static uint16_t set_pin(nb_vcard *card, const char *new_pin)
{
    nb_card_state saved = card->state;
    memcpy(card->state.pin, new_pin, strlen(new_pin) + 1);
    card->state.pin_tries = NB_PIN_TRIES;
    uint16_t sw = SW_OK;
    if (persist(card) != 0) {
        card->state = saved;
        sw = SW_MEMORY_FAILURE;
    }
    nb_wipe(&saved, sizeof(saved));
    card->pin_verified = 0;
    return sw;
}

/* armed: the previous command was the authority's protected RESET RETRY
 * COUNTER (P1=03), in this power-on session. */
static uint16_t cmd_change_reference_data(nb_vcard *card, const nb_apdu *a, const uint8_t *data,
                                          int armed)
{
    if (a->p2 != NB_REF_PIN)
        return SW_REF_NOT_FOUND;
    if (a->p1 != 0x00 && a->p1 != 0x01)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 3)
        return SW_WRONG_LENGTH;
    char old_pin[NB_PIN_MAX + 1] = "", new_pin[NB_PIN_MAX + 1] = "";
    uint16_t sw;
    if (a->p1 == 0x01) { /* new PIN only, right after an authority unlock */
        if (!armed)
            return SW_CONDITIONS;
        if (a->lc != NB_PIN_FIELD)
            return SW_WRONG_LENGTH;
        sw = read_pin_field(data, NB_PIN_MIN, NB_PIN_MAX, new_pin);
        if (sw == 0)
            sw = set_pin(card, new_pin);
    } else {
        if (a->lc != 2 * NB_PIN_FIELD)
            return SW_WRONG_LENGTH;
        sw = read_pin_field(data, NB_PIN_MIN, NB_PIN_MAX, old_pin);
        if (sw == 0)
            sw = read_pin_field(data + NB_PIN_FIELD, NB_PIN_MIN, NB_PIN_MAX, new_pin);
        if (sw == 0)
            sw = check_secret(card, old_pin, card->state.pin, &card->state.pin_tries, NB_PIN_TRIES);
        if (sw == SW_OK)
            sw = set_pin(card, new_pin);
    }
    nb_wipe(old_pin, sizeof(old_pin));
    nb_wipe(new_pin, sizeof(new_pin));
    return sw;
}

static uint16_t cmd_reset_retry_counter(nb_vcard *card, const nb_apdu *a, const uint8_t *data,
                                        int under_sm)
{
    if (a->p2 != NB_REF_PIN)
        return SW_REF_NOT_FOUND;
    if (a->p1 == 0x03) { /* authority unlock: only inside the admin session */
        if (!under_sm)
            return SW_SECURITY_STATUS;
        if (a->apdu_case != 1)
            return SW_WRONG_LENGTH;
        /* Nothing is saved: the PIN stays blocked until the next command
         * sets a new one (cmd_change_reference_data). */
        card->new_pin_armed = 1;
        card->pin_verified = 0;
        return SW_OK;
    }
    if (a->p1 != 0x00 && a->p1 != 0x01)
        return SW_WRONG_P1P2;
    size_t want = a->p1 == 0x00 ? 2 * NB_PIN_FIELD : NB_PIN_FIELD;
    if (a->apdu_case != 3 || a->lc != want)
        return SW_WRONG_LENGTH;
    char puk[NB_PIN_MAX + 1] = "", new_pin[NB_PIN_MAX + 1] = "";
    uint16_t sw = read_pin_field(data, NB_PUK_LEN, NB_PUK_LEN, puk);
    if (sw == 0 && a->p1 == 0x00)
        sw = read_pin_field(data + NB_PIN_FIELD, NB_PIN_MIN, NB_PIN_MAX, new_pin);
    if (sw == 0)
        sw = check_secret(card, puk, card->state.puk, &card->state.puk_tries, NB_PUK_TRIES);
    if (sw == SW_OK && a->p1 == 0x00) {
        sw = set_pin(card, new_pin);
    } else if (sw == SW_OK) {
        card->state.pin_tries = NB_PIN_TRIES;
        if (persist(card) != 0)
            sw = SW_MEMORY_FAILURE;
    }
    nb_wipe(puk, sizeof(puk));
    nb_wipe(new_pin, sizeof(new_pin));
    return sw;
}

static uint16_t cmd_get_challenge(nb_vcard *card, const nb_apdu *a, response *r)
{
    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 2 || a->le != NB_RND_LEN)
        return SW_WRONG_LENGTH;
    if (RAND_bytes(card->challenge, NB_RND_LEN) != 1)
        return SW_MEMORY_FAILURE;
    card->have_challenge = 1;
    put(r, card->challenge, NB_RND_LEN);
    return SW_OK;
}

static uint16_t cmd_mutual_authenticate(nb_vcard *card, const nb_apdu *a, const uint8_t *data,
                                        response *r)
{
    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if ((a->apdu_case != 3 && a->apdu_case != 4) || a->lc != NB_AUTH_LEN)
        return SW_WRONG_LENGTH;
    if (!card->have_challenge)
        return SW_CONDITIONS;
    card->have_challenge = 0; /* one challenge, one attempt */
    uint8_t k_ic[NB_KEY_LEN], k_ifd[NB_KEY_LEN], answer[NB_AUTH_LEN];
    uint16_t sw = SW_AUTH_FAILED;
    if (nb_auth_card_answer(card->state.admin_key, card->challenge, data, answer, k_ifd, k_ic) == 0 &&
        nb_sm_start(&card->sm, k_ifd, k_ic) == 0) {
        put(r, answer, sizeof(answer));
        sw = SW_OK;
    }
    nb_wipe(k_ic, sizeof(k_ic));
    nb_wipe(k_ifd, sizeof(k_ifd));
    return sw;
}

static size_t file_size(const nb_vcard *card, nb_card_file f)
{
    return f == NB_FILE_EF_SN ? strlen(card->state.serial) : f == NB_FILE_EF_CERT ? card->cert_len : 0;
}

static const uint8_t *file_data(const nb_vcard *card, nb_card_file f)
{
    return f == NB_FILE_EF_SN ? (const uint8_t *)card->state.serial : card->cert;
}

/* FCP template: 62 L 82 01 type 83 02 FID [80 02 size]. */
static void put_fcp(response *r, uint16_t fid, int is_df, size_t size)
{
    uint8_t fcp[14];
    size_t n = 0;
    fcp[n++] = 0x62;
    fcp[n++] = 0;
    fcp[n++] = 0x82;
    fcp[n++] = 0x01;
    fcp[n++] = is_df ? 0x38 : 0x01;
    fcp[n++] = 0x83;
    fcp[n++] = 0x02;
    fcp[n++] = (uint8_t)(fid >> 8);
    fcp[n++] = (uint8_t)fid;
    if (!is_df) {
        fcp[n++] = 0x80;
        fcp[n++] = 0x02;
        fcp[n++] = (uint8_t)(size >> 8);
        fcp[n++] = (uint8_t)size;
    }
    fcp[1] = (uint8_t)(n - 2);
    put(r, fcp, n);
}

static uint16_t cmd_select(nb_vcard *card, const nb_apdu *a, const uint8_t *data, response *r)
{
    if (a->p2 != 0x00 && a->p2 != 0x0C)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 3 && a->apdu_case != 4)
        return SW_WRONG_LENGTH;
    int want_fcp = a->p2 == 0x00;
    if (a->p1 == 0x04) {
        if (a->lc != sizeof(pkcs15_name) || memcmp(data, pkcs15_name, sizeof(pkcs15_name)) != 0)
            return SW_FILE_NOT_FOUND;
        card->current_df = NB_FILE_DF_PKCS15;
        card->ef_selected = 0;
        if (want_fcp)
            put_fcp(r, 0x5015, 1, 0);
        return SW_OK;
    }
    if (a->p1 != 0x00)
        return SW_WRONG_P1P2;
    if (a->lc != 2)
        return SW_WRONG_LENGTH;
    uint16_t fid = (uint16_t)((data[0] << 8) | data[1]);
    if (fid == 0x3F00) {
        card->current_df = NB_FILE_MF;
        card->ef_selected = 0;
        if (want_fcp)
            put_fcp(r, fid, 1, 0);
        return SW_OK;
    }
    if (fid == 0x5015 && card->current_df == NB_FILE_MF) {
        card->current_df = NB_FILE_DF_PKCS15;
        card->ef_selected = 0;
        if (want_fcp)
            put_fcp(r, fid, 1, 0);
        return SW_OK;
    }
    nb_card_file ef;
    if (fid == 0x2F02 && card->current_df == NB_FILE_MF)
        ef = NB_FILE_EF_SN;
    else if (fid == 0xC000 && card->current_df == NB_FILE_DF_PKCS15)
        ef = NB_FILE_EF_CERT;
    else
        return SW_FILE_NOT_FOUND;
    card->ef_selected = 1;
    card->current_ef = ef;
    if (want_fcp)
        put_fcp(r, fid, 0, file_size(card, ef));
    return SW_OK;
}

static uint16_t cmd_read_binary(nb_vcard *card, const nb_apdu *a, response *r)
{
    if (a->p1 & 0x80)
        return SW_WRONG_P1P2; /* short EF identifiers are not supported */
    if (a->apdu_case != 2)
        return SW_WRONG_LENGTH;
    if (!card->ef_selected)
        return SW_CONDITIONS;
    size_t offset = ((size_t)a->p1 << 8) | a->p2;
    size_t size = file_size(card, card->current_ef);
    if (offset > size)
        return SW_OFFSET;
    size_t room = r->cap - r->len - 2;
    size_t n = size - offset;
    size_t want = a->le < room ? a->le : room;
    uint16_t sw = SW_OK;
    if (n < a->le)
        sw = SW_END_OF_FILE;
    if (n > want)
        n = want;
    if (n > 0) /* an empty EF (no certificate loaded) has no data pointer */
        put(r, file_data(card, card->current_ef) + offset, n);
    return sw;
}

static uint16_t cmd_get_data(nb_vcard *card, const nb_apdu *a, response *r)
{
    if (a->apdu_case != 2)
        return SW_WRONG_LENGTH;
    if (a->p1 != 0x00 || a->p2 != 0x5A)
        return SW_REF_NOT_FOUND;
    put(r, card->state.serial, strlen(card->state.serial));
    return SW_OK;
}

static uint16_t dispatch(nb_vcard *card, const nb_apdu *a, const uint8_t *apdu, int under_sm,
                         int armed, response *r)
{
    const uint8_t *data = apdu + a->data_offset;
    switch (a->ins) {
    case 0xA4:
        return cmd_select(card, a, data, r);
    case 0xB0:
        return cmd_read_binary(card, a, r);
    case 0xCA:
        return cmd_get_data(card, a, r);
    case 0x20:
        return cmd_verify(card, a, data);
    case 0x24:
        return cmd_change_reference_data(card, a, data, armed);
    case 0x2C:
        return cmd_reset_retry_counter(card, a, data, under_sm);
    case 0x84:
        return cmd_get_challenge(card, a, r);
    case 0x82:
        return cmd_mutual_authenticate(card, a, data, r);
    default:
        return SW_INS;
    }
}

static size_t finish(response *r, uint16_t sw)
{
    r->data[r->len++] = (uint8_t)(sw >> 8);
    r->data[r->len++] = (uint8_t)sw;
    return r->len;
}

size_t nb_vcard_process(nb_vcard *card, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
    /* Two bytes are kept for the status word. */
    response r = {resp, cap - 2, 0};
    /* The new-PIN permission lasts exactly one command, whatever it is. */
    int armed = card->new_pin_armed;
    card->new_pin_armed = 0;
    nb_apdu a;
    const char *why = NULL;
    if (nb_apdu_parse(cmd, len, &a, &why) != 0)
        return finish(&r, SW_WRONG_LENGTH);
    if (a.cla != 0x00 && a.cla != 0x0C)
        return finish(&r, SW_CLA);
    if (a.extended && a.ins != 0xB0)
        return finish(&r, SW_WRONG_LENGTH); /* only READ BINARY takes extended Le */

    if (a.cla == 0x00) {
        nb_sm_end(&card->sm); /* a plain command ends any SM session */
        return finish(&r, dispatch(card, &a, cmd, 0, armed, &r));
    }

    if (!card->sm.active)
        return finish(&r, SW_SECURITY_STATUS);
    uint8_t plain[5 + 255 + 1];
    size_t plain_len = 0;
    uint16_t sw = 0;
    if (nb_sm_unwrap_command(&card->sm, cmd, len, plain, sizeof(plain), &plain_len, &sw) != 0) {
        nb_sm_end(&card->sm);
        return finish(&r, sw);
    }
    nb_apdu inner;
    if (nb_apdu_parse(plain, plain_len, &inner, &why) != 0) {
        nb_sm_end(&card->sm);
        return finish(&r, 0x6988);
    }
    uint8_t inner_data[258];
    response inner_r = {inner_data, 256, 0};
    sw = dispatch(card, &inner, plain, 1, armed, &inner_r);
    nb_wipe(plain, sizeof(plain));
    size_t out_len = 0;
    if (nb_sm_wrap_response(&card->sm, inner_data, inner_r.len, sw, resp, cap, &out_len) != 0) {
        nb_sm_end(&card->sm);
        return finish(&r, 0x6F00);
    }
    nb_wipe(inner_data, sizeof(inner_data));
    return out_len;
}
