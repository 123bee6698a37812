/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual card's command processing, without pcscd: the AKİS commands
 * (docs/card-profile.md) and our own unlock design. */
#include <string.h>

#include "authority.h"
#include "card.h"
#include "hex.h"
#include "profile.h"
#include "testutil.h"

static nb_vcard card;
static int saves, fail_saves;

static int save(void *arg, const nb_card_state *st)
{
    (void)arg;
    (void)st;
    saves++;
    return fail_saves ? -1 : 0;
}

static void setup_with(const char *how)
{
    memset(&card, 0, sizeof(card));
    uint8_t master[16];
    nb_hex_decode("4E4553425249444745444D4F4B455931", 32, master, 16);
    ck_assert_int_eq(nb_card_state_init(&card.state, "NB0000000001", master, how), 0);
    card.save = save;
    saves = fail_saves = 0;
    nb_vcard_power(&card);
}

static void setup(void)
{
    setup_with("fresh");
}

/* Sends hex, returns the SW; response data (if wanted) into data. */
static unsigned send_apdu(const char *hex, uint8_t *data, size_t *data_len)
{
    uint8_t cmd[300], resp[600];
    long n = nb_hex_decode(hex, strlen(hex), cmd, sizeof(cmd));
    ck_assert_int_ge(n, 0);
    size_t len = nb_vcard_process(&card, cmd, (size_t)n, resp, sizeof(resp));
    ck_assert_uint_ge(len, 2);
    if (data != NULL) {
        memcpy(data, resp, len - 2);
        *data_len = len - 2;
    }
    return (unsigned)((resp[len - 2] << 8) | resp[len - 1]);
}

static unsigned sw(const char *hex)
{
    return send_apdu(hex, NULL, NULL);
}

/* PIN fields: ASCII digits padded with FF to 8 bytes. */
#define PIN_123456 "313233343536FFFF"
#define PIN_111111 "313131313131FFFF"
#define PIN_654321 "363534333231FFFF"
#define PIN_2468024 "32343638303234FF"
#define PUK_12345678 "3132333435363738"
#define PUK_00000000 "3030303030303030"

/* The authority's unlock: authenticate with the admin key, then RESET
 * RETRY COUNTER P1=03 under secure messaging. Returns its status word. */
static unsigned authority_unlock(void)
{
    uint8_t challenge[8];
    size_t n;
    ck_assert_uint_eq(send_apdu("0084000008", challenge, &n), 0x9000);
    char auth[256], rrc[256];
    ck_assert_int_eq(authority_unlock_apdus(DEMO_SERIAL, challenge, auth, rrc), 0);
    ck_assert_uint_eq(sw(auth), 0x9000);
    return sw(rrc);
}

/* The FCI's security byte (tag 90), from an FCI answer. */
static unsigned fci_security(const uint8_t *fci, size_t n)
{
    for (size_t i = 2; i + 2 < n; i += 2 + fci[i + 1])
        if (fci[i] == 0x90 && fci[i + 1] == 1)
            return fci[i + 2];
    ck_abort_msg("no tag 90 in the FCI");
    return 0;
}

START_TEST(select_follows_akis_p1_rules)
{
    uint8_t data[300];
    size_t n;
    /* P1=00 selects a DF by id, P1=02 an EF: AKİS tells them apart. */
    ck_assert_uint_eq(sw("00A4000C025015"), 0x9000);
    ck_assert_uint_eq(sw("00A4020C02C000"), 0x9000);
    ck_assert_uint_eq(sw("00A4000C02C000"), 0x6A82); /* an EF asked for as a DF */
    ck_assert_uint_eq(sw("00A4020C025015"), 0x6A82); /* a DF asked for as an EF */
    ck_assert_uint_eq(sw("00A4020C022F02"), 0x6A82); /* EF.SN lives in the MF */
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(sw("00A4020C022F02"), 0x9000);
    /* P1=08: a path from the MF, with or without 3F00. */
    ck_assert_uint_eq(sw("00A4080C045015C000"), 0x9000);
    ck_assert_uint_eq(sw("00A4080C063F005015C000"), 0x9000);
    ck_assert_uint_eq(sw("00A4080C023F00"), 0x9000);
    ck_assert_uint_eq(sw("00A4080C04C0005015"), 0x6A82);
    ck_assert_uint_eq(sw("00A4080C035015C0"), 0x6700);
    /* By name (ours): "PKCS-15" or the PKCS#15 AID. */
    ck_assert_uint_eq(sw("00A4040C07504B43532D3135"), 0x9000);
    ck_assert_uint_eq(sw("00A4040C0CA000000063504B43532D3135"), 0x9000);
    ck_assert_uint_eq(sw("00A4040C03AABBCC"), 0x6A82);
    ck_assert_uint_eq(sw("00A4010C023F00"), 0x6A86);
    ck_assert_uint_eq(sw("00A4000402" "3F00"), 0x6A86);
    /* P2=00: the FCI, 6F with 83 fid, 82 type, 80 size and 90 security. */
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(send_apdu("00A4020002" "2F02" "00", data, &n), 0x9000);
    ck_assert_uint_eq(n, 2 + data[1]);
    static const uint8_t fci[] = {0x6F, 0x0E, 0x83, 0x02, 0x2F, 0x02, 0x82, 0x01, 0x01,
                                  0x80, 0x02, 0x00, 0x0C, 0x90, 0x01, 0x12};
    ck_assert_uint_eq(n, sizeof(fci));
    ck_assert_int_eq(memcmp(data, fci, sizeof(fci)), 0);
    ck_assert_uint_eq(send_apdu("00A40000023F0000", data, &n), 0x9000);
    ck_assert_uint_eq(data[0], 0x6F);
    ck_assert_uint_eq(fci_security(data, n), 0x02);
}
END_TEST

START_TEST(the_security_byte_tracks_the_pin)
{
    uint8_t data[64];
    size_t n;
    const unsigned want[] = {0x12, 0x52, 0x92, 0xD2}; /* 3, 2, 1, 0 tries left */
    for (int wrong = 0; wrong <= 3; wrong++) {
        if (wrong > 0)
            sw("0020008108" PIN_111111);
        ck_assert_uint_eq(send_apdu("00A40800043F002F0200", data, &n), 0x9000);
        ck_assert_uint_eq(fci_security(data, n), want[wrong]);
    }
}
END_TEST

START_TEST(files_and_data)
{
    uint8_t data[300];
    size_t n;
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    ck_assert_uint_eq(sw("00A4020C022F02"), 0x9000);
    ck_assert_uint_eq(send_apdu("00B0000000", data, &n), 0x6282);
    ck_assert_uint_eq(n, 12);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(send_apdu("00B0000404", data, &n), 0x9000);
    ck_assert_int_eq(memcmp(data, "0000", 4), 0);
    ck_assert_uint_eq(sw("00B0001001"), 0x6B00);
    ck_assert_uint_eq(send_apdu("00CA005A00", data, &n), 0x9000);
    ck_assert_int_eq(memcmp(data, "NB0000000001", 12), 0);
    ck_assert_uint_eq(sw("00CA00FF00"), 0x6A88);
    ck_assert_uint_eq(sw("00EE0000"), 0x6D00);
    ck_assert_uint_eq(sw("B0A4000C023F00"), 0x6E00);
    ck_assert_uint_eq(sw("00A4"), 0x6700);
    ck_assert_uint_eq(sw("0084000010"), 0x6700);
}
END_TEST

/* Reads the selected EF whole (at most 255 bytes). */
static size_t read_all(uint8_t *out)
{
    size_t n = 0;
    unsigned s = send_apdu("00B00000FF", out, &n);
    ck_assert(s == 0x9000 || s == 0x6282);
    return n;
}

START_TEST(the_certificate_is_where_pkcs15_looks)
{
    static const uint8_t cert[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    card.cert = cert;
    card.cert_len = sizeof(cert);
    uint8_t data[300];
    /* EF.DIR names the PKCS#15 application and its path. */
    ck_assert_uint_eq(sw("00A4020C022F00"), 0x9000);
    size_t n = read_all(data);
    static const uint8_t aid[] = {0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x00, 0x63, 0x50,
                                  0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35};
    ck_assert_uint_eq(data[0], 0x61);
    ck_assert_uint_eq(data[1], n - 2);
    ck_assert_int_eq(memcmp(data + 2, aid, sizeof(aid)), 0);
    ck_assert_int_eq(memcmp(data + n - 6, "\x51\x04\x3F\x00\x50\x15", 6), 0);
    /* ODF: certificates (A4) at a path; that path is the CDF. */
    ck_assert_uint_eq(sw("00A4080C045015" "5031"), 0x9000);
    n = read_all(data);
    ck_assert_uint_eq(data[0], 0xA4);
    ck_assert_uint_eq(n, 12);
    char path[32];
    snprintf(path, sizeof(path), "00A4080C06%02X%02X%02X%02X%02X%02X", data[6], data[7], data[8],
             data[9], data[10], data[11]);
    ck_assert_uint_eq(sw(path), 0x9000);
    /* CDF: one certificate object whose value is at a path: EF.CERT. */
    n = read_all(data);
    ck_assert_uint_eq(data[0], 0x30);
    ck_assert_uint_eq(data[1], n - 2);
    const uint8_t *p = data + n - 8;
    ck_assert_uint_eq(p[0], 0x04);
    ck_assert_uint_eq(p[1], 0x06);
    snprintf(path, sizeof(path), "00A4080C06%02X%02X%02X%02X%02X%02X", p[2], p[3], p[4], p[5], p[6],
             p[7]);
    ck_assert_str_eq(path, "00A4080C063F005015C000");
    ck_assert_uint_eq(sw(path), 0x9000);
    n = read_all(data);
    ck_assert_uint_eq(n, sizeof(cert));
    ck_assert_int_eq(memcmp(data, cert, sizeof(cert)), 0);
    /* TokenInfo carries the serial. */
    ck_assert_uint_eq(sw("00A4020C025032"), 0x9000);
    n = read_all(data);
    ck_assert_uint_eq(data[0], 0x30);
    ck_assert_uint_eq(data[1], n - 2);
    ck_assert_int_eq(memcmp(data + 5, "\x04\x0CNB0000000001", 14), 0);
}
END_TEST

START_TEST(directory_lists_the_current_df)
{
    uint8_t data[300];
    size_t n;
    ck_assert_uint_eq(send_apdu("8018000000", data, &n), 0x9000);
    ck_assert_uint_eq(n, 3 * 20);
    static const uint8_t mf[3][3] = {{0x2F, 0x2F, 0x00}, {0x2F, 0x2F, 0x02}, {0x3D, 0x50, 0x15}};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(memcmp(data + 20 * i, mf[i], 3), 0);
    ck_assert_uint_eq(sw("00A4000C025015"), 0x9000);
    ck_assert_uint_eq(send_apdu("8018000000", data, &n), 0x9000);
    ck_assert_uint_eq(n, 4 * 20);
    for (size_t i = 0; i < n; i += 20)
        ck_assert_uint_eq(data[i], 0x2F);
    ck_assert_uint_eq(data[60 + 1], 0xC0);
    ck_assert_uint_eq(sw("8018000010"), 0x6C50); /* Le too short: the right length */
    ck_assert_uint_eq(sw("80180100" "00"), 0x6A86);
    ck_assert_uint_eq(sw("80180000"), 0x6700);
}
END_TEST

START_TEST(get_data_system_and_life_cycle)
{
    uint8_t data[300];
    size_t n;
    ck_assert_uint_eq(send_apdu("00CA01064D", data, &n), 0x9000);
    ck_assert_uint_eq(n, 77);
    ck_assert_int_eq(memcmp(data + 55, "NB0000000001", 12), 0);
    ck_assert_uint_eq(send_apdu("00CA010600", data, &n), 0x9000);
    ck_assert_uint_eq(n, 77);
    ck_assert_uint_eq(sw("00CA010610"), 0x6C4D);
    ck_assert_uint_eq(send_apdu("00CA01040A", data, &n), 0x9000);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(data[6], 0xA5); /* user life cycle */
    ck_assert_uint_eq(sw("00CA010500"), 0x6A88);
}
END_TEST

START_TEST(logout_mse_and_personalisation)
{
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x9000);
    ck_assert_uint_eq(sw("801A0000"), 0x9000); /* LOGOUT ends the verified state */
    ck_assert_uint_eq(sw("00200081"), 0x63C3);
    ck_assert_uint_eq(sw("801A0100"), 0x6A86);
    ck_assert_uint_eq(sw("0022C301"), 0x9000);
    ck_assert(card.key_selected);
    ck_assert_uint_eq(sw("0022C302"), 0x6A88);
    ck_assert_uint_eq(sw("0022C10001"), 0x6A86);
    /* A holder's card (user life cycle) refuses the personalisation
     * commands: CREATE EF, CREATE DF, DELETE FILE, SET LIFE CYCLE. */
    ck_assert_uint_eq(sw("801580B0024401"), 0x6985);
    ck_assert_uint_eq(sw("80100000024402"), 0x6985);
    ck_assert_uint_eq(sw("8016020002C000"), 0x6985);
    ck_assert_uint_eq(sw("80090002"), 0x6985);
    ck_assert_uint_eq(sw("80A4000C023F00"), 0x6D00);
    ck_assert_uint_eq(sw("84A4000C023F00"), 0x6E00);
}
END_TEST

START_TEST(verify_and_counters)
{
    ck_assert_uint_eq(sw("00200081"), 0x63C3);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x63C2);
    ck_assert_uint_eq(sw("00200081"), 0x63C2); /* a query spends nothing */
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x9000);
    ck_assert_uint_eq(sw("00200081"), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("0020008106313233343536"), 0x9000); /* unpadded */
    ck_assert_uint_eq(sw("002000810F313233343536FFFFFFFFFFFFFFFFFF"), 0x9000); /* 15 bytes */
    ck_assert_uint_eq(sw("00200081053132333435"), 0x6700);    /* under 6 bytes */
    ck_assert_uint_eq(sw("0020008111313233343536FFFFFFFFFFFFFFFFFFFFFF"), 0x6700); /* over 16 */
    ck_assert_uint_eq(sw("0020008108313233FFFFFFFFFF"), 0x6A80); /* too short */
    ck_assert_uint_eq(sw("002000810831323334353AFFFF"), 0x6A80); /* not a digit */
    ck_assert_uint_eq(sw("002000810831323334FF3536FF"), 0x6A80); /* gap */
    ck_assert_uint_eq(card.state.pin_tries, 3);                 /* formats spend nothing */
    ck_assert_uint_eq(sw("0020008308" PIN_123456), 0x6A88);
    ck_assert_uint_eq(sw("00200082"), 0x63CA);
}
END_TEST

START_TEST(case_change_pin_knowing_the_old_one)
{
    /* AKİS's form: P1=02, P2=ref & 7F, data L(old) old L(new) new. */
    ck_assert_uint_eq(sw("002402010F" "06313233343536" "0732343638303234"), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x63C2);
    ck_assert_uint_eq(sw("0020008108" PIN_2468024), 0x9000);
    ck_assert_str_eq(card.state.pin, "2468024");
    ck_assert_uint_eq(sw("002402010F" "06313131313131" "0736353433323131"), 0x63C2);
    ck_assert_uint_eq(sw("002402010F" "0732343638303234" "0631FFFFFFFFFF"), 0x6A80); /* 1 digit */
    ck_assert_uint_eq(sw("002402010F" "0732343638303234" "06363534333231"), 0x9000);
    ck_assert_str_eq(card.state.pin, "654321");
    /* The lengths must add up. */
    ck_assert_uint_eq(sw("002402010F" "0832343638303234" "06363534333231"), 0x6A80);
    ck_assert_uint_eq(sw("002402010F" "0632343638303234" "06363534333231"), 0x6A80);
    ck_assert_uint_eq(sw("0024020101" "00"), 0x6700);
    ck_assert_uint_eq(sw("00240201"), 0x6700);
    /* The PUK (82) the same way: P2=02. */
    ck_assert_uint_eq(sw("0024020212" "08" PUK_12345678 "08" PUK_00000000), 0x9000);
    ck_assert_str_eq(card.state.puk, "00000000");
    /* P1=01 names a reference without bit 8; ours has none. The old
     * fixed-field form (P1=00) is gone. */
    ck_assert_uint_eq(sw("002401010E" "06313233343536" "06313233343536"), 0x6A88);
    ck_assert_uint_eq(sw("0024008110" PIN_123456 PIN_654321), 0x6A86);
    ck_assert_uint_eq(sw("002402030E" "06313233343536" "06313233343536"), 0x6A88);
    ck_assert_str_eq(card.state.pin, "654321");
}
END_TEST

START_TEST(case_forgotten_pin_authority_unlock)
{
    /* The new-PIN-only change is refused until the authority unlocks. */
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x6985);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982); /* no session */
    ck_assert_uint_eq(sw("002C0381"), 0x6982);                           /* not under SM */
    saves = 0;
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert(card.new_pin_armed);
    ck_assert_int_eq(saves, 0); /* nothing of the permission is saved */
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_111111), 0x6985); /* exactly once */
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
}
END_TEST

/* The card's half of "an interrupted unlock leaves the card as it was":
 * the permission to set a PIN without the old one lasts for exactly the
 * command after the authority's protected RESET RETRY COUNTER. A reset
 * (what pcscd does when the host dies inside its transaction, or a pulled
 * card) or any other command in between ends it, and the card is blocked
 * as before. */
static void lock_and_unlock(void)
{
    setup_with("pin-locked");
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 0); /* still blocked on record */
}

static void still_blocked(void)
{
    ck_assert(!card.new_pin_armed);
    ck_assert_uint_eq(sw("0024018108" PIN_111111), 0x6985);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x6983);
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    ck_assert_uint_eq(card.state.pin_tries, 0);
    ck_assert_str_eq(card.state.pin, "123456");
}

START_TEST(an_interrupted_unlock_leaves_the_card_blocked)
{
    /* Reset or power loss between the protected step and the new PIN. */
    lock_and_unlock();
    nb_vcard_power(&card);
    still_blocked();
    /* Another program's command slips in (a VERIFY query, a SELECT). */
    lock_and_unlock();
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    still_blocked();
    lock_and_unlock();
    ck_assert_uint_eq(sw("00A4000C023F00"), 0x9000);
    still_blocked();
    /* A malformed command in between ends it too. */
    lock_and_unlock();
    ck_assert_uint_eq(sw("00A4"), 0x6700);
    still_blocked();
    /* A fresh unlock still works afterwards. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_654321), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
}
END_TEST

START_TEST(the_new_pin_field_may_be_wider)
{
    /* A pinpad's PIN block (pad_to up to 15) or no padding at all. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("002401810F" "3234363831333537FFFFFFFFFFFFFF"), 0x9000);
    ck_assert_str_eq(card.state.pin, "24681357");
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018106" "363534333231"), 0x9000);
    ck_assert_str_eq(card.state.pin, "654321");
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018111" "363534333231FFFFFFFFFFFFFFFFFFFFFF"), 0x6700); /* 17 */
    ck_assert_uint_eq(sw("0024018108" PIN_111111), 0x6985); /* that was its one command */
    ck_assert_str_eq(card.state.pin, "654321");
}
END_TEST

START_TEST(profiles)
{
    const char *names[] = {"v1.3", "v1.2.1", "v1.2", "v1.0"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const nb_vcard_profile *p = nb_vcard_profile_find(names[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->atr[0], 0x3B);
        uint8_t x = 0;
        for (size_t j = 1; j < p->atr_len; j++)
            x ^= p->atr[j];
        ck_assert_uint_eq(x, 0); /* TCK */
        int uekae = 0;
        for (size_t j = 0; j + 5 <= p->atr_len; j++)
            uekae |= memcmp(p->atr + j, "UEKAE", 5) == 0;
        ck_assert(uekae);
        /* T=1 announced in TD1 or TD2 */
        ck_assert(memcmp(p->atr + 3, "\x81\x31", 2) == 0 || memcmp(p->atr + 4, "\x81\x31", 2) == 0);
    }
    ck_assert_ptr_eq(nb_vcard_profile_find(NULL), nb_vcard_profile_find("v1.3"));
    ck_assert_ptr_eq(nb_vcard_profile_find(""), nb_vcard_profile_find("v1.3"));
    ck_assert_ptr_null(nb_vcard_profile_find("v9"));
    const nb_vcard_profile *d = nb_vcard_profile_find(NULL);
    static const uint8_t v13[] = {0x3B, 0x9F, 0x96, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x67, 0x55, 0x45, 0x4B,
                                  0x41, 0x45, 0x12, 0x93, 0x31, 0x80, 0x73, 0xB3, 0xA1, 0x80, 0x6B};
    ck_assert_uint_eq(d->atr_len, sizeof(v13));
    ck_assert_int_eq(memcmp(d->atr, v13, sizeof(v13)), 0);
}
END_TEST

START_TEST(case_locked_after_three_wrong_tries)
{
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C2);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C1);
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C0);
    ck_assert_uint_eq(sw("0020008108" PIN_123456), 0x6983);
    ck_assert_uint_eq(sw("00200081"), 0x6983);
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    ck_assert_uint_eq(sw("0024018108" PIN_2468024), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_2468024), 0x9000);
    ck_assert_uint_eq(card.state.pin_tries, 3);
}
END_TEST

START_TEST(puk_unblocks_and_blocks_after_ten)
{
    setup_with("pin-locked");
    ck_assert_uint_eq(sw("002C000110" PUK_12345678 PIN_654321), 0x6A88); /* P2 00 */
    ck_assert_uint_eq(sw("002C048110" PUK_12345678 PIN_654321), 0x6A86);
    ck_assert_uint_eq(sw("002C008110" PUK_12345678 PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("0020008108" PIN_654321), 0x9000);
    ck_assert_uint_eq(sw("002C018108" PUK_12345678), 0x9000);
    for (unsigned left = 9; left > 0; left--)
        ck_assert_uint_eq(sw("002C018108" PUK_00000000), 0x63C0 | left);
    ck_assert_uint_eq(sw("002C018108" PUK_00000000), 0x63C0);
    ck_assert_uint_eq(sw("002C018108" PUK_12345678), 0x6983);
    ck_assert_uint_eq(sw("00200082"), 0x6983);
    ck_assert_uint_eq(card.state.puk_tries, 0);
}
END_TEST

START_TEST(a_failed_save_changes_nothing)
{
    fail_saves = 1;
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x6581);
    ck_assert_uint_eq(card.state.pin_tries, 3);
    ck_assert_uint_eq(sw("002402010E" "06313233343536" "06363534333231"), 0x6581);
    ck_assert_str_eq(card.state.pin, "123456");
    fail_saves = 0;
    saves = 0;
    ck_assert_uint_eq(sw("0020008108" PIN_111111), 0x63C2);
    ck_assert_int_eq(saves, 1); /* the try was saved before the answer */
}
END_TEST

START_TEST(sm_session_rules)
{
    ck_assert_uint_eq(sw("00820000280000000000000000000000000000000000000000000000000000000000000000000000000000000028"), 0x6985);
    uint8_t challenge[8];
    size_t n;
    ck_assert_uint_eq(send_apdu("0084000008", challenge, &n), 0x9000);
    ck_assert_uint_eq(sw("00820000280000000000000000000000000000000000000000000000000000000000000000000000000000000028"), 0x6300);
    ck_assert(!card.sm.active);
    /* Reset (power) ends an established session. */
    ck_assert_uint_eq(authority_unlock(), 0x9000);
    nb_vcard_power(&card);
    ck_assert(!card.sm.active);
    ck_assert_uint_eq(sw("0C2C03810A8E080102030405060708" "00"), 0x6982);
}
END_TEST

static Suite *card_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, select_follows_akis_p1_rules);
    tcase_add_test(tc, the_security_byte_tracks_the_pin);
    tcase_add_test(tc, files_and_data);
    tcase_add_test(tc, the_certificate_is_where_pkcs15_looks);
    tcase_add_test(tc, directory_lists_the_current_df);
    tcase_add_test(tc, get_data_system_and_life_cycle);
    tcase_add_test(tc, logout_mse_and_personalisation);
    tcase_add_test(tc, the_new_pin_field_may_be_wider);
    tcase_add_test(tc, profiles);
    tcase_add_test(tc, verify_and_counters);
    tcase_add_test(tc, case_change_pin_knowing_the_old_one);
    tcase_add_test(tc, case_forgotten_pin_authority_unlock);
    tcase_add_test(tc, case_locked_after_three_wrong_tries);
    tcase_add_test(tc, an_interrupted_unlock_leaves_the_card_blocked);
    tcase_add_test(tc, puk_unblocks_and_blocks_after_ten);
    tcase_add_test(tc, a_failed_save_changes_nothing);
    tcase_add_test(tc, sm_session_rules);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(card_suite)
