/* SPDX-License-Identifier: Apache-2.0 */
/* Integration: the pinpad reader (ifd/, our IFD handler inside the real
 * pcscd) and its card, through the real host: list-readers sees its
 * features, the authority's unlock with `pinpad: true` completes when the
 * holder types on the keypad (pinpad.sock), cancel and timeout leave the
 * card blocked, and PIN structures sent straight through SCardControl are
 * read as the CCID spec says. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "authority.h"
#include "backend.h"
#include "errors.h"
#include "hex.h"
#include "hostproc.h"
#include "testutil.h"

#define PINPAD_READER "nesbridge Pinpad Reader 00 00"
#define PINPAD_SERIAL "NB0000000002"
#define AKIS_V13_ATR "3B9F968131FE45806755454B41451293318073B3A1806B"
/* host/pinpad.c's control code arithmetic is the driver's: CCID's. */
#define IOCTL_VERIFY (0x42000000u + 0x330000u + 0x06u)
#define IOCTL_MODIFY (0x42000000u + 0x330000u + 0x07u)

static hostproc host;
static EVP_PKEY *authority_key;
static int handle;
static char atr[80];

static const char *build_dir(void)
{
    return getenv("NB_BUILD") != NULL ? getenv("NB_BUILD") : "build";
}

/* One line to the pinpad card's control socket; its answer. */
static const char *pinpad(const char *command)
{
    static char answer[400];
    char path[4096];
    snprintf(path, sizeof(path), "%s/vcard-run/pinpad.sock", build_dir());
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(path), sizeof(addr.sun_path));
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    char line[256];
    snprintf(line, sizeof(line), "%s\n", command);
    ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    ssize_t got = read(fd, answer, sizeof(answer) - 1);
    close(fd);
    answer[got > 0 ? got : 0] = '\0';
    return answer;
}

static void make_trust(void)
{
    char dir[1024], path[4200], abs[4096];
    snprintf(dir, sizeof(dir), "%s/it-pinpad", build_dir());
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/trust", dir);
    mkdir(path, 0755);
    authority_key = authority_new_key(0);
    snprintf(path, sizeof(path), "%s/trust/authority.pem", dir);
    ck_assert_int_eq(authority_write_public(authority_key, path), 0);
    chmod(path, 0644);
    ck_assert_ptr_nonnull(realpath(dir, abs));
    snprintf(path, sizeof(path), "%s/nesbridge.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "trust_dir = %s/trust\n", abs);
    fclose(f);
    chmod(path, 0600);
    setenv("NESBRIDGE_CONFIG", path, 1);
}

static void drop_trust(void)
{
    EVP_PKEY_free(authority_key);
}

static void setup(void)
{
    pinpad("insert");
    ck_assert_str_eq(pinpad("reset-state pin-locked"), "ok state pin-locked\n");
    host_start(&host, IT_CHROME_CALLER);
    cJSON_Delete(host_call(&host, "hello", "{\"protocol\":1}"));
    cJSON *r = host_call(&host, "connect", "{\"reader\":\"" PINPAD_READER "\"}");
    ck_assert_str_eq(reply_code(r), "ok");
    handle = reply_result(r, "handle")->valueint;
    snprintf(atr, sizeof(atr), "%s", reply_result(r, "atr")->valuestring);
    cJSON_Delete(r);
}

static void teardown(void)
{
    ck_assert_int_eq(host_close(&host, 1000), 0);
}

/* get-nonce, GET CHALLENGE, the authority's signed script for the pinpad
 * card with a pad_to-byte PIN field; then run-script with pinpad: true. */
static void send_pinpad_unlock(unsigned pad_to)
{
    char args[8192];
    snprintf(args, sizeof(args), "{\"handle\":%d}", handle);
    cJSON *r = host_call(&host, "get-nonce", args);
    ck_assert_str_eq(reply_code(r), "ok");
    char nonce[65];
    snprintf(nonce, sizeof(nonce), "%s", reply_result(r, "nonce")->valuestring);
    cJSON_Delete(r);
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"0084000008\"}", handle);
    r = host_call(&host, "transmit", args);
    ck_assert_str_eq(reply_result(r, "sw")->valuestring, "9000");
    uint8_t rnd_ic[8];
    ck_assert_int_eq(nb_hex_decode(reply_result(r, "data")->valuestring, 16, rnd_ic, 8), 8);
    cJSON_Delete(r);
    char json[2048];
    ck_assert_int_eq(authority_unlock_script_for(PINPAD_SERIAL, pad_to, nonce, atr, rnd_ic, 120, json, sizeof(json)), 0);
    char *script_b64, *sig_b64, key_id[65];
    ck_assert_int_eq(authority_sign(authority_key, json, 0, &script_b64, &sig_b64, key_id), 0);
    snprintf(args, sizeof(args),
             "{\"id\":\"unlock\",\"cmd\":\"run-script\",\"origin\":\"" IT_ORIGIN "\",\"args\":{\"handle\":%d,"
             "\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\",\"pinpad\":true}}",
             handle, script_b64, sig_b64, key_id);
    free(script_b64);
    free(sig_b64);
    host_send(&host, args);
}

/* Sends one APDU or control straight through PC/SC, as any program on
 * this computer could; returns the status word. */
static unsigned direct(int control, uint32_t code, const char *hex)
{
    const nb_backend *b = nb_pcsc_backend();
    nb_context ctx;
    nb_card card;
    uint32_t proto;
    uint8_t in[300], resp[300];
    long n = nb_hex_decode(hex, strlen(hex), in, sizeof(in));
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(b->establish(b->self, &ctx), NB_SCARD_S_SUCCESS);
    ck_assert_uint_eq(b->connect(b->self, ctx, PINPAD_READER, NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto),
                      NB_SCARD_S_SUCCESS);
    size_t len = sizeof(resp);
    uint32_t rv = control ? b->control(b->self, card, code, in, (size_t)n, resp, &len)
                          : b->transmit(b->self, card, proto, in, (size_t)n, resp, &len);
    ck_assert_uint_eq(rv, NB_SCARD_S_SUCCESS);
    ck_assert_uint_ge(len, 2);
    b->disconnect(b->self, card, NB_LEAVE_CARD);
    b->release(b->self, ctx);
    return (unsigned)(resp[len - 2] << 8 | resp[len - 1]);
}

static unsigned apdu(const char *hex)
{
    return direct(0, 0, hex);
}

/* The authority's two steps sent straight (no host): authenticate, then
 * the protected RESET RETRY COUNTER; the next command may set a PIN. */
static void authority_steps_directly(void)
{
    const nb_backend *b = nb_pcsc_backend();
    nb_context ctx;
    nb_card card;
    uint32_t proto;
    ck_assert_uint_eq(b->establish(b->self, &ctx), NB_SCARD_S_SUCCESS);
    ck_assert_uint_eq(b->connect(b->self, ctx, PINPAD_READER, NB_SHARE_SHARED, NB_PROTOCOL_T1, &card, &proto),
                      NB_SCARD_S_SUCCESS);
    uint8_t cmd[300], resp[300];
    size_t len = sizeof(resp);
    static const uint8_t challenge[] = {0x00, 0x84, 0x00, 0x00, 0x08};
    ck_assert_uint_eq(b->transmit(b->self, card, proto, challenge, 5, resp, &len), NB_SCARD_S_SUCCESS);
    ck_assert_uint_eq(len, 10);
    char auth[256], rrc[256];
    ck_assert_int_eq(authority_unlock_apdus(PINPAD_SERIAL, resp, auth, rrc), 0);
    const char *steps[] = {auth, rrc};
    for (int i = 0; i < 2; i++) {
        long n = nb_hex_decode(steps[i], strlen(steps[i]), cmd, sizeof(cmd));
        len = sizeof(resp);
        ck_assert_uint_eq(b->transmit(b->self, card, proto, cmd, (size_t)n, resp, &len), NB_SCARD_S_SUCCESS);
        ck_assert_uint_eq(resp[len - 2] << 8 | resp[len - 1], 0x9000);
    }
    b->disconnect(b->self, card, NB_LEAVE_CARD); /* leave: the permission stays for the next command */
    b->release(b->self, ctx);
}

static void card_blocked_as_before(void)
{
    ck_assert_ptr_nonnull(strstr(pinpad("status"), "pin_tries=0 puk_tries=10 new_pin_required=0"));
    ck_assert_uint_eq(apdu("00200081"), 0x6983);
    ck_assert_uint_eq(apdu("0024018108" "3131313131313131"), 0x6985); /* no permission left */
}

START_TEST(list_readers_tells_the_pinpad_apart)
{
    cJSON *r = host_call(&host, "list-readers", NULL);
    ck_assert_str_eq(reply_code(r), "ok");
    int seen = 0;
    const cJSON *reader;
    cJSON_ArrayForEach(reader, reply_result(r, "readers")) {
        const char *name = cJSON_GetObjectItem(reader, "name")->valuestring;
        const cJSON *pad = cJSON_GetObjectItem(reader, "pinpad");
        int is_pinpad = strcmp(name, PINPAD_READER) == 0;
        if (!is_pinpad && strcmp(name, IT_READER) != 0)
            continue;
        seen |= is_pinpad ? 1 : 2;
        ck_assert_str_eq(cJSON_GetObjectItem(reader, "atr")->valuestring, AKIS_V13_ATR);
        ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(pad, "verify")), is_pinpad);
        ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(pad, "modify")), is_pinpad);
    }
    ck_assert_int_eq(seen, 3);
    cJSON_Delete(r);
}
END_TEST

START_TEST(unlock_typed_on_the_keypad)
{
    /* The holder types while the reader waits (pad_to 15: the widest
     * block bmPINBlockString can name). */
    send_pinpad_unlock(15);
    double t0 = now_seconds();
    while (strstr(pinpad("status"), "keypad=waiting") == NULL && now_seconds() - t0 < 5)
        usleep(20000);
    const char *status = pinpad("status");
    ck_assert_ptr_nonnull(strstr(status, "keypad=waiting"));
    ck_assert_ptr_nonnull(strstr(status, "display=PIN girin|Yeni PIN girin")); /* 041F, indexes 00, 01 */
    ck_assert_str_eq(pinpad("keypad 24681357"), "ok keypad typed\n");
    cJSON *r = host_recv(&host, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(reply_code(r), "ok");
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_ptr_nonnull(strstr(pinpad("status"), "pin_tries=3"));
    /* The new PIN verifies: the 15-byte block was read right. */
    ck_assert_uint_eq(apdu("0020008108" "3234363831333537"), 0x9000);
}
END_TEST

START_TEST(unlock_with_the_keypad_typed_first)
{
    /* pad_to 8, as the demo authority's script; the digits come before
     * the reader asks (queued). */
    ck_assert_str_eq(pinpad("keypad 654321"), "ok keypad queued\n");
    send_pinpad_unlock(8);
    cJSON *r = host_recv(&host, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert(cJSON_IsTrue(reply_result(r, "completed")));
    cJSON_Delete(r);
    ck_assert_uint_eq(apdu("0020008108" "363534333231FFFF"), 0x9000);
}
END_TEST

START_TEST(cancel_and_timeout_leave_the_card_blocked)
{
    static const struct {
        const char *keypad, *code;
    } cases[] = {{"keypad cancel", "pin-cancelled"}, {"keypad timeout", "pin-timeout"}};
    for (int i = 0; i < 2; i++) {
        if (i > 0) {
            teardown();
            setup();
        }
        send_pinpad_unlock(8);
        double t0 = now_seconds();
        while (strstr(pinpad("status"), "keypad=waiting") == NULL && now_seconds() - t0 < 5)
            usleep(20000);
        ck_assert_str_eq(pinpad(cases[i].keypad), "ok keypad typed\n");
        cJSON *r = host_recv(&host, 10000);
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(reply_code(r), cases[i].code);
        cJSON_Delete(r);
        card_blocked_as_before();
    }
}
END_TEST

START_TEST(pin_modify_structures_straight_to_the_driver)
{
    /* host/pinpad.c's shape, pad_to 15 then 8, each after the authority's
     * steps; the driver builds 00 24 01 81 Lc digits FF.. from the keypad. */
    static const char *const shapes[] = {
        "3C3C820F00000008060102021F04000102000000" "14000000" "002401810F" "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "3C3C820800000008060102021F04000102000000" "0D000000" "0024018108" "FFFFFFFFFFFFFFFF",
    };
    static const char *const pins[] = {"13572468", "8642097"};
    static const char *const verify[] = {"0020008108" "3133353732343638", "0020008107" "38363432303937"};
    for (int i = 0; i < 2; i++) {
        authority_steps_directly();
        char line[64];
        snprintf(line, sizeof(line), "keypad %s", pins[i]);
        ck_assert_str_eq(pinpad(line), "ok keypad queued\n");
        ck_assert_uint_eq(direct(1, IOCTL_MODIFY, shapes[i]), 0x9000);
        ck_assert_uint_eq(apdu(verify[i]), 0x9000);
    }
    /* A confirmation that differs: the reader says 6402, the card got
     * nothing and keeps its PIN. */
    ck_assert_str_eq(pinpad("keypad 111111 222222"), "ok keypad queued\n");
    ck_assert_uint_eq(direct(1, IOCTL_MODIFY, shapes[1]), 0x6402);
    /* Too few digits: 6403. */
    ck_assert_str_eq(pinpad("keypad 123"), "ok keypad queued\n");
    ck_assert_uint_eq(direct(1, IOCTL_MODIFY, shapes[1]), 0x6403);
    ck_assert_uint_eq(apdu(verify[1]), 0x9000);
}
END_TEST

START_TEST(verify_on_the_pinpad_and_a_real_timeout)
{
    ck_assert_str_eq(pinpad("reset-state fresh"), "ok state fresh\n");
    /* PIN_VERIFY, ASCII left in 8 bytes of FF, bTimerOut 1 s. */
    static const char verify[] = "0101820800080402010904000000000D000000" "0020008108FFFFFFFFFFFFFFFF";
    ck_assert_str_eq(pinpad("keypad 123456"), "ok keypad queued\n");
    ck_assert_uint_eq(direct(1, IOCTL_VERIFY, verify), 0x9000);
    ck_assert_str_eq(pinpad("keypad 111111"), "ok keypad queued\n");
    ck_assert_uint_eq(direct(1, IOCTL_VERIFY, verify), 0x63C2);
    /* Nobody types: after bTimerOut, 6400, and no try is spent. */
    double t0 = now_seconds();
    ck_assert_uint_eq(direct(1, IOCTL_VERIFY, verify), 0x6400);
    double waited = now_seconds() - t0;
    ck_assert_double_ge(waited, 0.9);
    ck_assert_double_lt(waited, 3.0);
    ck_assert_ptr_nonnull(strstr(pinpad("status"), "pin_tries=2"));
}
END_TEST

START_TEST(the_keypad_socket_speaks_the_control_language)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "'%s/nesbridge-vcard' --control '%s/vcard-run/pinpad.sock' --send 'keypad 24681357'",
             build_dir(), build_dir());
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_ptr_nonnull(strstr(pinpad("status"), "keypad=queued"));
    ck_assert_str_eq(pinpad("reset-state fresh"), "ok state fresh\n"); /* and forgets it */
    ck_assert_ptr_nonnull(strstr(pinpad("status"), "keypad=none"));
    ck_assert_str_eq(pinpad("keypad 12a4"), "error keypad DIGITS [DIGITS [DIGITS]] (0-9, at most 32 each), keypad cancel or keypad timeout\n");
    ck_assert_str_eq(pinpad("slow 5"), "ok slow 5\n");
    ck_assert_str_eq(pinpad("slow 0"), "ok slow 0\n");
    ck_assert_str_eq(pinpad("bogus"), "error unknown command\n");
    /* Pulled and put back, as the plain reader's card. */
    pinpad("remove");
    cJSON *r = NULL;
    char args[64];
    snprintf(args, sizeof(args), "{\"handle\":%d,\"apdu\":\"00A4000C023F00\"}", handle);
    double t0 = now_seconds();
    do {
        cJSON_Delete(r);
        usleep(100000);
        r = host_call(&host, "transmit", args);
    } while (strcmp(reply_code(r), "removed-card") != 0 && now_seconds() - t0 < 5);
    ck_assert_str_eq(reply_code(r), "removed-card");
    cJSON_Delete(r);
    pinpad("insert");
    t0 = now_seconds();
    int back = 0;
    while (!back && now_seconds() - t0 < 5) {
        usleep(100000);
        r = host_call(&host, "connect", "{\"reader\":\"" PINPAD_READER "\"}");
        back = strcmp(reply_code(r), "ok") == 0;
        if (back)
            handle = reply_result(r, "handle")->valueint;
        cJSON_Delete(r);
    }
    ck_assert(back);
}
END_TEST

static Suite *pinpad_suite(void)
{
    Suite *s = suite_create("pinpad-integration");
    TCase *tc = tcase_create("pcscd+ifd");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, make_trust, drop_trust);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, list_readers_tells_the_pinpad_apart);
    tcase_add_test(tc, unlock_typed_on_the_keypad);
    tcase_add_test(tc, unlock_with_the_keypad_typed_first);
    tcase_add_test(tc, cancel_and_timeout_leave_the_card_blocked);
    tcase_add_test(tc, pin_modify_structures_straight_to_the_driver);
    tcase_add_test(tc, verify_on_the_pinpad_and_a_real_timeout);
    tcase_add_test(tc, the_keypad_socket_speaks_the_control_language);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(pinpad_suite)
