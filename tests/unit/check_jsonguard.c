/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "jsonguard.h"
#include "testutil.h"

static int text_ok(const char *s)
{
    const char *why = NULL;
    return nb_json_text_ok(s, strlen(s), &why);
}

START_TEST(utf8_strictness)
{
    ck_assert(nb_utf8_valid((const unsigned char *)"Kart Pin Ba\xC5\x9F" "ar\xC4\xB1yla", 15));
    ck_assert(nb_utf8_valid((const unsigned char *)"\xF0\x9F\x98\x80", 4));
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xC0\xAF", 2));         /* overlong '/' */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xE0\x80\xAF", 3));     /* overlong */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xED\xA0\x80", 3));     /* surrogate */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xC3", 1));             /* cut */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\x80", 1));             /* lone tail */
    ck_assert(!nb_utf8_valid((const unsigned char *)"\xFF", 1));
}
END_TEST

START_TEST(text_checks)
{
    ck_assert(text_ok("{\"a\":[1,2,{\"b\":\"c\\\"{[\"}]}"));
    ck_assert(!text_ok("{\"a\":\"x\\u0000y\"}"));
    ck_assert(!text_ok("{\"a\":\"\x01\"}"));
    ck_assert(!nb_json_text_ok("{\"a\":1}\0", 8, &(const char *){NULL}));
    char deep[64] = "";
    for (int i = 0; i < NB_JSON_MAX_DEPTH; i++)
        strcat(deep, "[");
    ck_assert(text_ok(deep));
    strcat(deep, "[");
    ck_assert(!text_ok(deep));
    /* Brackets inside strings do not count. */
    ck_assert(text_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[\"}"));
}
END_TEST

START_TEST(depth_bomb_is_cheap)
{
    size_t n = 100000;
    char *bomb = malloc(n + 1);
    memset(bomb, '[', n);
    bomb[n] = '\0';
    const char *why = NULL;
    ck_assert_ptr_null(nb_json_parse_checked(bomb, n, &why));
    ck_assert_str_eq(why, "request is nested too deeply");
    free(bomb);
}
END_TEST

START_TEST(tree_checks)
{
    const char *why = NULL;
    const char *dup = "{\"id\":1,\"id\":2}";
    ck_assert_ptr_null(nb_json_parse_checked(dup, strlen(dup), &why));
    ck_assert_str_eq(why, "request has a duplicate key");
    const char *nested_dup = "{\"args\":{\"x\":1,\"y\":2,\"x\":3}}";
    ck_assert_ptr_null(nb_json_parse_checked(nested_dup, strlen(nested_dup), &why));
    const char *huge = "{\"id\":1e999}";
    ck_assert_ptr_null(nb_json_parse_checked(huge, strlen(huge), &why));
    const char *trailing = "{\"id\":1} x";
    ck_assert_ptr_null(nb_json_parse_checked(trailing, strlen(trailing), &why));
    const char *good = "{\"id\":1,\"cmd\":\"hello\"} \n";
    cJSON *root = nb_json_parse_checked(good, strlen(good), &why);
    ck_assert_ptr_nonnull(root);
    cJSON_Delete(root);
    /* Too many members. */
    char *wide = malloc(8 * (NB_JSON_MAX_MEMBERS + 2));
    strcpy(wide, "[");
    for (int i = 0; i <= NB_JSON_MAX_MEMBERS; i++)
        strcat(wide, i ? ",1" : "1");
    strcat(wide, "]");
    ck_assert_ptr_null(nb_json_parse_checked(wide, strlen(wide), &why));
    free(wide);
}
END_TEST

static Suite *jsonguard_suite(void)
{
    Suite *s = suite_create("jsonguard");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, utf8_strictness);
    tcase_add_test(tc, text_checks);
    tcase_add_test(tc, depth_bomb_is_cheap);
    tcase_add_test(tc, tree_checks);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(jsonguard_suite)
