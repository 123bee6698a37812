/* SPDX-License-Identifier: Apache-2.0 */
#include "card.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "apdu.h"
#include "wipe.h"

#define SW_OK 0x9000
#define SW_END_OF_FILE 0x6282
#define SW_WRONG_LE 0x6C00
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
    card->key_selected = 0;
    card->have_challenge = 0;
    card->new_pin_armed = 0;
    nb_wipe(card->challenge, sizeof(card->challenge));
    nb_sm_end(&card->sm);
}

static int persist(nb_vcard *card)
{
    return card->save != NULL ? card->save(card->save_arg, &card->state) : 0;
}

/* A PIN field of len bytes: 'min'..'max' ASCII digits, then FF padding
 * (none, when the digits fill it). Returns 0 and the digits in out
 * (room for max + 1), or a status word. */
static uint16_t read_pin_field(const uint8_t *field, size_t len, size_t min, size_t max, char *out)
{
    size_t n = 0;
    while (n < len && field[n] != 0xFF) {
        if (field[n] < '0' || field[n] > '9')
            return SW_WRONG_DATA;
        n++;
    }
    for (size_t i = n; i < len; i++)
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

/* The PIN's bounds by reference: the PIN 6-8 digits, the PUK exactly 8. */
static size_t ref_min(int is_pin)
{
    return is_pin ? NB_PIN_MIN : NB_PUK_LEN;
}

static size_t ref_max(int is_pin)
{
    return is_pin ? NB_PIN_MAX : NB_PUK_LEN;
}

/* VERIFY, plain ISO (AKİS: OpenSC's akis driver sends the ISO command).
 * The PIN is its digits, FF-padded or not, in 6 to 16 bytes. */
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
    if (a->apdu_case != 3 || a->lc < NB_PIN_MIN || a->lc > NB_PIN_FIELD_MAX)
        return SW_WRONG_LENGTH;
    char presented[NB_PIN_MAX + 1];
    uint16_t sw = read_pin_field(data, a->lc, ref_min(is_pin), ref_max(is_pin), presented);
    if (sw == 0) {
        sw = check_secret(card, presented, is_pin ? card->state.pin : card->state.puk, tries,
                          is_pin ? NB_PIN_TRIES : NB_PUK_TRIES);
        if (is_pin)
            card->pin_verified = sw == SW_OK;
    }
    nb_wipe(presented, sizeof(presented));
    return sw;
}

/* Sets a new PIN (or PUK) with full tries. */
static uint16_t set_secret(nb_vcard *card, int is_pin, const char *value)
{
    nb_card_state saved = card->state;
    if (is_pin) {
        memcpy(card->state.pin, value, strlen(value) + 1);
        card->state.pin_tries = NB_PIN_TRIES;
    } else {
        memcpy(card->state.puk, value, strlen(value) + 1);
        card->state.puk_tries = NB_PUK_TRIES;
    }
    uint16_t sw = SW_OK;
    if (persist(card) != 0) {
        card->state = saved;
        sw = SW_MEMORY_FAILURE;
    }
    nb_wipe(&saved, sizeof(saved));
    card->pin_verified = 0;
    return sw;
}

/* Our own: the new PIN alone (P1=01, P2=81), only as the command right
 * after the authority's protected RESET RETRY COUNTER (armed). The field
 * is the PIN's digits, FF-padded or not, 6 to 16 bytes. */
static uint16_t new_pin_only(nb_vcard *card, const nb_apdu *a, const uint8_t *data, int armed)
{
    if (!armed)
        return SW_CONDITIONS;
    if (a->apdu_case != 3 || a->lc < NB_PIN_MIN || a->lc > NB_PIN_FIELD_MAX)
        return SW_WRONG_LENGTH;
    char new_pin[NB_PIN_MAX + 1] = "";
    uint16_t sw = read_pin_field(data, a->lc, NB_PIN_MIN, NB_PIN_MAX, new_pin);
    if (sw == 0)
        sw = set_secret(card, 1, new_pin);
    nb_wipe(new_pin, sizeof(new_pin));
    return sw;
}

/* AKİS's form: data = L(old) || old || L(new) || new; the reference in
 * P1/P2 as the public driver writes it (bit 8 set: P1=02, P2=ref & 7F). */
static uint16_t change_akis(nb_vcard *card, const nb_apdu *a, const uint8_t *data)
{
    uint8_t ref = (uint8_t)(a->p2 | 0x80);
    int is_pin = ref == NB_REF_PIN;
    if (!is_pin && ref != NB_REF_PUK)
        return SW_REF_NOT_FOUND;
    if (a->apdu_case != 3 || a->lc < 2)
        return SW_WRONG_LENGTH;
    size_t old_len = data[0];
    if (1 + old_len + 1 > a->lc || old_len > NB_PIN_FIELD_MAX)
        return SW_WRONG_DATA;
    size_t new_len = data[1 + old_len];
    if (2 + old_len + new_len != a->lc || new_len > NB_PIN_FIELD_MAX)
        return SW_WRONG_DATA;
    char old_value[NB_PIN_MAX + 1] = "", new_value[NB_PIN_MAX + 1] = "";
    unsigned *tries = is_pin ? &card->state.pin_tries : &card->state.puk_tries;
    uint16_t sw = read_pin_field(data + 1, old_len, ref_min(is_pin), ref_max(is_pin), old_value);
    if (sw == 0)
        sw = read_pin_field(data + 2 + old_len, new_len, ref_min(is_pin), ref_max(is_pin), new_value);
    if (sw == 0)
        sw = check_secret(card, old_value, is_pin ? card->state.pin : card->state.puk, tries,
                          is_pin ? NB_PIN_TRIES : NB_PUK_TRIES);
    if (sw == SW_OK)
        sw = set_secret(card, is_pin, new_value);
    nb_wipe(old_value, sizeof(old_value));
    nb_wipe(new_value, sizeof(new_value));
    return sw;
}

/* armed: the previous command was the authority's protected RESET RETRY
 * COUNTER (P1=03), in this power-on session. */
static uint16_t cmd_change_reference_data(nb_vcard *card, const nb_apdu *a, const uint8_t *data,
                                          int armed)
{
    if (a->p1 == 0x01 && a->p2 == NB_REF_PIN)
        return new_pin_only(card, a, data, armed);
    if (a->p1 == 0x02 && (a->p2 & 0x80) == 0)
        return change_akis(card, a, data);
    if (a->p1 == 0x01)
        return SW_REF_NOT_FOUND; /* AKİS's P1=01 names a reference without bit 8: none here */
    return SW_WRONG_P1P2;
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
         * sets a new one (new_pin_only). */
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
    uint16_t sw = read_pin_field(data, NB_PIN_FIELD, NB_PUK_LEN, NB_PUK_LEN, puk);
    if (sw == 0 && a->p1 == 0x00)
        sw = read_pin_field(data + NB_PIN_FIELD, NB_PIN_FIELD, NB_PIN_MIN, NB_PIN_MAX, new_pin);
    if (sw == 0)
        sw = check_secret(card, puk, card->state.puk, &card->state.puk_tries, NB_PUK_TRIES);
    if (sw == SW_OK && a->p1 == 0x00) {
        sw = set_secret(card, 1, new_pin);
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

static const uint8_t *file_content(nb_vcard *card, nb_card_file f, size_t *len)
{
    nb_file_source src = {card->state.serial, card->cert, card->cert_len};
    return nb_file_content(f, &src, card->file_scratch, sizeof(card->file_scratch), len);
}

/* The security byte: the file's bits and the PIN's state (AKİS: 0x40 a
 * wrong PIN was entered once, 0x80 the last try; blocked: both, ours). */
static uint8_t security_byte(const nb_vcard *card, nb_card_file f)
{
    uint8_t b = nb_file_security(f);
    unsigned tries = card->state.pin_tries;
    if (tries == 0)
        b |= 0xC0;
    else if (tries == 1)
        b |= 0x80;
    else if (tries < NB_PIN_TRIES)
        b |= 0x40;
    return b;
}

static uint16_t selected(nb_vcard *card, nb_card_file f, int want_fci, response *r)
{
    size_t size = 0;
    if (nb_file_is_df(f)) {
        card->current_df = f;
        card->ef_selected = 0;
    } else {
        card->current_df = nb_file_parent(f);
        card->current_ef = f;
        card->ef_selected = 1;
        file_content(card, f, &size);
    }
    if (want_fci) {
        uint8_t fci[64];
        size_t n = nb_file_fci(f, size, security_byte(card, f), fci, sizeof(fci));
        put(r, fci, n);
    }
    return SW_OK;
}

/* SELECT by path (P1=08): file ids from the MF, with or without 3F00
 * first; every one but the last is a DF. */
static uint16_t select_path(const uint8_t *path, size_t len, nb_card_file *out)
{
    if (len == 0 || len % 2 != 0 || len > 8)
        return SW_WRONG_LENGTH;
    nb_card_file at = NB_FILE_MF;
    size_t i = 0;
    if (path[0] == 0x3F && path[1] == 0x00)
        i = 2;
    for (; i < len; i += 2) {
        if (!nb_file_is_df(at) || nb_file_child(at, (uint16_t)(path[i] << 8 | path[i + 1]), &at) != 0)
            return SW_FILE_NOT_FOUND;
    }
    *out = at;
    return 0;
}

/* SELECT, AKİS's P1 rules: 00 a DF by id, 02 an EF by id (under the
 * current DF), 08 a path from the MF; 04 (by name) is ours, for the
 * PKCS#15 application. P2 00 answers the FCI, 0C nothing. */
static uint16_t cmd_select(nb_vcard *card, const nb_apdu *a, const uint8_t *data, response *r)
{
    if (a->p2 != 0x00 && a->p2 != 0x0C)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 3 && a->apdu_case != 4)
        return SW_WRONG_LENGTH;
    int want_fci = a->p2 == 0x00;
    nb_card_file f;
    if (a->p1 == 0x04) {
        if (nb_file_by_name(data, a->lc, &f) != 0)
            return SW_FILE_NOT_FOUND;
        return selected(card, f, want_fci, r);
    }
    if (a->p1 == 0x08) {
        uint16_t sw = select_path(data, a->lc, &f);
        return sw != 0 ? sw : selected(card, f, want_fci, r);
    }
    if (a->p1 != 0x00 && a->p1 != 0x02)
        return SW_WRONG_P1P2;
    if (a->lc != 2)
        return SW_WRONG_LENGTH;
    uint16_t fid = (uint16_t)((data[0] << 8) | data[1]);
    int want_df = a->p1 == 0x00;
    if (want_df && fid == 0x3F00)
        f = NB_FILE_MF;
    else if (want_df && fid == nb_file_id(card->current_df))
        f = card->current_df;
    else if (nb_file_child(card->current_df, fid, &f) != 0)
        return SW_FILE_NOT_FOUND;
    if (nb_file_is_df(f) != want_df)
        return SW_FILE_NOT_FOUND; /* AKİS tells EF and DF apart */
    return selected(card, f, want_fci, r);
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
    size_t size = 0;
    const uint8_t *content = file_content(card, card->current_ef, &size);
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
        put(r, content + offset, n);
    return sw;
}

/* Answers len bytes to a case-2 command: all of them when Le allows
 * (00 = 256), else 6Cxx with the right length. */
static uint16_t answer_exactly(const nb_apdu *a, const uint8_t *bytes, size_t len, response *r)
{
    if (a->le < len)
        return (uint16_t)(SW_WRONG_LE | len);
    put(r, bytes, len);
    return SW_OK;
}

/* GET DATA. AKİS: P1=01 P2=06 the system data (77 bytes, the 12-byte
 * serial at offset 55), P1=01 P2=04 10 bytes whose byte 6 is the life
 * cycle. Ours: P1=00 P2=5A the serial alone. */
static uint16_t cmd_get_data(nb_vcard *card, const nb_apdu *a, response *r)
{
    if (a->apdu_case != 2)
        return SW_WRONG_LENGTH;
    size_t serial_len = strlen(card->state.serial);
    if (a->p1 == 0x00 && a->p2 == 0x5A) {
        put(r, card->state.serial, serial_len);
        return SW_OK;
    }
    if (a->p1 == 0x01 && a->p2 == 0x06) {
        uint8_t system[0x4D];
        memset(system, 0, sizeof(system));
        memset(system + 55, ' ', 12); /* a shorter serial, space-padded */
        memcpy(system + 55, card->state.serial, serial_len < 12 ? serial_len : 12);
        return answer_exactly(a, system, sizeof(system), r);
    }
    if (a->p1 == 0x01 && a->p2 == 0x04) {
        uint8_t memory[10] = {0};
        memory[6] = NB_LIFE_CYCLE_USER;
        return answer_exactly(a, memory, sizeof(memory), r);
    }
    return SW_REF_NOT_FOUND;
}

/* MANAGE SECURITY ENVIRONMENT, AKİS's form: 00 22 C3 ref (no data)
 * selects a key by reference. The card knows one (ours: 01); no key
 * operation follows in this model. */
static uint16_t cmd_manage_security_environment(nb_vcard *card, const nb_apdu *a)
{
    if (a->p1 != 0xC3)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 1)
        return SW_WRONG_LENGTH;
    if (a->p2 != NB_KEY_REF_SIGN)
        return SW_REF_NOT_FOUND;
    card->key_selected = 1;
    return SW_OK;
}

/* DIRECTORY (80 18 00 00, Le): the current DF's files, 20 bytes each. */
static uint16_t cmd_directory(nb_vcard *card, const nb_apdu *a, response *r)
{
    if (a->p1 != 0 || a->p2 != 0)
        return SW_WRONG_P1P2;
    if (a->apdu_case != 2)
        return SW_WRONG_LENGTH;
    uint8_t list[NB_FILE_COUNT * NB_DIRECTORY_ENTRY];
    size_t n = 0;
    for (int i = 0; i < NB_FILE_COUNT; i++) {
        nb_card_file f = (nb_card_file)i;
        if (f == NB_FILE_MF || nb_file_parent(f) != card->current_df)
            continue;
        size_t size = 0;
        file_content(card, f, &size);
        nb_file_directory_entry(f, size, security_byte(card, f), list + n);
        n += NB_DIRECTORY_ENTRY;
    }
    return answer_exactly(a, list, n, r);
}

static uint16_t dispatch_iso(nb_vcard *card, const nb_apdu *a, const uint8_t *apdu, int under_sm,
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
    case 0x22:
        return cmd_manage_security_environment(card, a);
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

/* AKİS's own commands (CLA 80). The personalisation commands (CREATE EF
 * 15, CREATE DF 10, DELETE FILE 16, SET LIFE CYCLE 09) are refused: a
 * holder's card is in the user life cycle. */
static uint16_t dispatch_proprietary(nb_vcard *card, const nb_apdu *a, response *r)
{
    switch (a->ins) {
    case 0x18:
        return cmd_directory(card, a, r);
    case 0x1A: /* LOGOUT */
        if (a->p1 != 0 || a->p2 != 0)
            return SW_WRONG_P1P2;
        if (a->apdu_case != 1)
            return SW_WRONG_LENGTH;
        card->pin_verified = 0;
        return SW_OK;
    case 0x15:
    case 0x10:
    case 0x16:
    case 0x09:
        return SW_CONDITIONS;
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
    if (a.cla != 0x00 && a.cla != 0x0C && a.cla != 0x80)
        return finish(&r, SW_CLA);
    if (a.extended && a.ins != 0xB0)
        return finish(&r, SW_WRONG_LENGTH); /* only READ BINARY takes extended Le */

    if (a.cla != 0x0C) {
        nb_sm_end(&card->sm); /* a plain command ends any SM session */
        uint16_t sw = a.cla == 0x80 ? dispatch_proprietary(card, &a, &r)
                                    : dispatch_iso(card, &a, cmd, 0, armed, &r);
        return finish(&r, sw);
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
    sw = dispatch_iso(card, &inner, plain, 1, armed, &inner_r);
    nb_wipe(plain, sizeof(plain));
    size_t out_len = 0;
    if (nb_sm_wrap_response(&card->sm, inner_data, inner_r.len, sw, resp, cap, &out_len) != 0) {
        nb_sm_end(&card->sm);
        return finish(&r, 0x6F00);
    }
    nb_wipe(inner_data, sizeof(inner_data));
    return out_len;
}
