/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "frame.h"
#include "protocol.h"
#include "testutil.h"

static nb_error parse(const char *text, nb_request *req)
{
    char message[NB_MESSAGE_MAX];
    return nb_request_parse(text, strlen(text), req, message, sizeof(message));
}

START_TEST(envelope_fields)
{
    nb_request req;
    ck_assert_int_eq(parse("{\"id\":1,\"cmd\":\"hello\",\"origin\":\"https://kamusm.gov.tr\",\"args\":{}}", &req), NB_OK);
    ck_assert_str_eq(req.cmd, "hello");
    nb_request_free(&req);
    ck_assert_int_eq(parse("{\"id\":\"abc\",\"cmd\":\"hello\",\"origin\":\"x\"}", &req), NB_OK);
    ck_assert_ptr_null(req.args);
    nb_request_free(&req);
    const char *bad[] = {
        "[]", "1", "\"s\"", "null", "{}",
        "{\"cmd\":\"hello\",\"origin\":\"x\"}",                      /* no id */
        "{\"id\":1.5,\"cmd\":\"hello\",\"origin\":\"x\"}",           /* fractional id */
        "{\"id\":9007199254740993,\"cmd\":\"hello\",\"origin\":\"x\"}", /* unsafe id */
        "{\"id\":true,\"cmd\":\"hello\",\"origin\":\"x\"}",
        "{\"id\":null,\"cmd\":\"hello\",\"origin\":\"x\"}",
        "{\"id\":[],\"cmd\":\"hello\",\"origin\":\"x\"}",
        "{\"id\":{},\"cmd\":\"hello\",\"origin\":\"x\"}",
        "{\"id\":1,\"origin\":\"x\"}",                               /* no cmd */
        "{\"id\":1,\"cmd\":5,\"origin\":\"x\"}",
        "{\"id\":1,\"cmd\":\"\",\"origin\":\"x\"}",
        "{\"id\":1,\"cmd\":\"hello\"}",                              /* no origin */
        "{\"id\":1,\"cmd\":\"hello\",\"origin\":7}",
        "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"x\",\"args\":[]}",
        "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"x\",\"extra\":1}",
        "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"x\",\"cmd\":\"hello\"}",
        "{\"id\":1,\"cmd\":\"hello\",\"origin\":\"x\"", /* cut */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse(bad[i], &req) == NB_ERR_BAD_REQUEST, "accepted: %s", bad[i]);
        nb_request_free(&req);
    }
}
END_TEST

START_TEST(id_is_kept_when_valid)
{
    nb_request req;
    ck_assert_int_eq(parse("{\"id\":42,\"cmd\":5,\"origin\":\"x\"}", &req), NB_ERR_BAD_REQUEST);
    ck_assert_ptr_nonnull(req.id);
    nb_outcome out = {0};
    nb_fail(&out, NB_ERR_BAD_REQUEST, "field cmd must be a command name");
    char *reply = nb_reply_serialise(req.id, &out);
    ck_assert_str_eq(reply, "{\"id\":42,\"ok\":false,\"error\":{\"code\":\"bad-request\","
                            "\"message\":\"field cmd must be a command name\"}}");
    free(reply);
    nb_request_free(&req);
}
END_TEST

START_TEST(replies)
{
    nb_outcome out = {0};
    out.result = cJSON_CreateObject();
    cJSON_AddStringToObject(out.result, "sw", "9000");
    cJSON *id = cJSON_CreateString("r-1");
    char *reply = nb_reply_serialise(id, &out);
    ck_assert_str_eq(reply, "{\"id\":\"r-1\",\"ok\":true,\"result\":{\"sw\":\"9000\"}}");
    free(reply);
    nb_outcome err = {0};
    nb_fail_pcsc(&err, NB_SCARD_W_REMOVED_CARD);
    reply = nb_reply_serialise(NULL, &err);
    ck_assert_str_eq(reply, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"removed-card\","
                            "\"message\":\"The card was removed.\",\"pcsc\":\"0x80100069\"}}");
    free(reply);
    cJSON_Delete(id);
}
END_TEST

START_TEST(oversized_reply_becomes_an_error)
{
    nb_outcome out = {0};
    out.result = cJSON_CreateObject();
    char *big = malloc(NB_MAX_REPLY_BYTES + 10);
    memset(big, 'A', NB_MAX_REPLY_BYTES + 9);
    big[NB_MAX_REPLY_BYTES + 9] = '\0';
    cJSON_AddStringToObject(out.result, "data", big);
    free(big);
    char *reply = nb_reply_serialise(NULL, &out);
    ck_assert_ptr_nonnull(strstr(reply, "message-too-large"));
    ck_assert_uint_lt(strlen(reply), 1000);
    free(reply);
}
END_TEST

START_TEST(argument_checks)
{
    static const nb_arg_spec spec[] = {
        {"handle", NB_ARG_INTEGER, 1},
        {"apdu", NB_ARG_STRING, 1},
        {"get_response", NB_ARG_BOOL, 0},
    };
    const char *cases[][2] = {
        {"{\"handle\":1,\"apdu\":\"00\"}", "ok"},
        {"{\"handle\":1}", "argument apdu is missing"},
        {"{\"handle\":\"1\",\"apdu\":\"00\"}", "argument handle must be an integer"},
        {"{\"handle\":1,\"apdu\":0}", "argument apdu must be a string"},
        {"{\"handle\":1,\"apdu\":\"00\",\"get_response\":1}", "argument get_response must be a boolean"},
        {"{\"handle\":1,\"apdu\":\"00\",\"origin\":\"x\"}", "unknown argument: origin"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *args = cJSON_Parse(cases[i][0]);
        nb_outcome out = {0};
        nb_error err = nb_args_check(args, spec, 3, &out);
        if (strcmp(cases[i][1], "ok") == 0)
            ck_assert_int_eq(err, NB_OK);
        else
            ck_assert_str_eq(out.message, cases[i][1]);
        cJSON_Delete(args);
    }
    cJSON *args = cJSON_Parse("{\"handle\":-1,\"n\":2.5,\"s\":\"a\\tb\"}");
    nb_outcome out = {0};
    uint32_t id;
    double v;
    const char *s;
    ck_assert_int_eq(nb_arg_handle(args, &id, &out), NB_ERR_BAD_REQUEST);
    ck_assert_int_eq(nb_arg_integer(args, "n", 0, 10, 0, &v, &out), NB_ERR_BAD_REQUEST);
    ck_assert_int_eq(nb_arg_string(args, "s", 10, NULL, &s, &out), NB_ERR_BAD_REQUEST);
    ck_assert_int_eq(nb_arg_string(args, "absent", 10, "dflt", &s, &out), NB_OK);
    ck_assert_str_eq(s, "dflt");
    cJSON_Delete(args);
}
END_TEST

/* The reply envelope is put together by hand: ids of every kind come back
 * exactly as JSON would write them. */
START_TEST(ids_come_back_exactly)
{
    const char *ids[] = {"0", "-42", "9007199254740991", "-9007199254740991", "\"a\\\"b\"", "\"\""};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        cJSON *id = cJSON_Parse(ids[i]);
        nb_outcome out = {0};
        out.result = cJSON_CreateObject();
        cJSON_AddStringToObject(out.result, "sw", "9000");
        char *reply = nb_reply_serialise(id, &out);
        char want[128];
        snprintf(want, sizeof(want), "{\"id\":%s,\"ok\":true,\"result\":{\"sw\":\"9000\"}}", ids[i]);
        ck_assert_str_eq(reply, want);
        free(reply);
        cJSON_Delete(id);
    }
}
END_TEST

/* The longest id the checks allow, made of bytes JSON must escape: each
 * one is six characters in the reply, and the reply still carries it. */
START_TEST(the_widest_string_id_comes_back)
{
    char id_json[6 * NB_MAX_ID_STRING + 3], request[sizeof(id_json) + 64];
    size_t o = 0;
    id_json[o++] = '"';
    for (int i = 0; i < NB_MAX_ID_STRING; i++, o += 6)
        memcpy(id_json + o, "\\u0001", 6);
    id_json[o++] = '"';
    id_json[o] = '\0';
    ck_assert_uint_eq(strlen(id_json) + 1, NB_ID_TEXT_MAX);
    snprintf(request, sizeof(request), "{\"id\":%s,\"cmd\":\"hello\",\"origin\":\"x\"}", id_json);
    nb_request req;
    ck_assert_int_eq(parse(request, &req), NB_OK);

    char text[NB_ID_TEXT_MAX];
    ck_assert_int_eq(nb_id_text(req.id, text, sizeof(text)), 0);
    ck_assert_str_eq(text, id_json);

    nb_outcome ok = {0};
    ok.result = cJSON_CreateObject();
    char *reply = nb_reply_serialise(req.id, &ok);
    ck_assert_ptr_nonnull(reply);
    ck_assert_ptr_nonnull(strstr(reply, id_json));
    free(reply);
    nb_outcome failed = {0};
    nb_fail(&failed, NB_ERR_BAD_REQUEST, "no");
    reply = nb_reply_serialise(req.id, &failed);
    ck_assert_ptr_nonnull(strstr(reply, id_json));
    free(reply);
    nb_request_free(&req);
}
END_TEST

static Suite *protocol_suite(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, envelope_fields);
    tcase_add_test(tc, id_is_kept_when_valid);
    tcase_add_test(tc, replies);
    tcase_add_test(tc, oversized_reply_becomes_an_error);
    tcase_add_test(tc, argument_checks);
    tcase_add_test(tc, ids_come_back_exactly);
    tcase_add_test(tc, the_widest_string_id_comes_back);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(protocol_suite)
