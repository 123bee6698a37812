/* SPDX-License-Identifier: Apache-2.0 */
#include "caller.h"
#include "testutil.h"

#define ARGV(...) ((char *const[]){"nesbridge-host", __VA_ARGS__, NULL})

START_TEST(browser_forms)
{
    ck_assert_int_eq(nb_caller_check(2, ARGV("chrome-extension://" NB_CHROME_EXTENSION_ID "/")),
                     NB_CALLER_ALLOWED);
    ck_assert_int_eq(nb_caller_check(3, ARGV("chrome-extension://" NB_CHROME_EXTENSION_ID "/",
                                             "--parent-window=1234")),
                     NB_CALLER_ALLOWED);
    ck_assert_int_eq(nb_caller_check(3, ARGV("/usr/lib/mozilla/native-messaging-hosts/x.json",
                                             NB_FIREFOX_ADDON_ID)),
                     NB_CALLER_ALLOWED);
    ck_assert_int_eq(nb_caller_check(2, ARGV("chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/")),
                     NB_CALLER_REFUSED);
    ck_assert_int_eq(nb_caller_check(2, ARGV("chrome-extension://" NB_CHROME_EXTENSION_ID "x/")),
                     NB_CALLER_REFUSED);
    ck_assert_int_eq(nb_caller_check(2, ARGV("chrome-extension://" NB_CHROME_EXTENSION_ID)),
                     NB_CALLER_REFUSED);
    ck_assert_int_eq(nb_caller_check(3, ARGV("/x.json", "evil@example.com")), NB_CALLER_REFUSED);
    ck_assert_int_eq(nb_caller_check(3, ARGV("/x.json", "{a0b1c2d3-0000-0000-0000-000000000000}")),
                     NB_CALLER_REFUSED);
}
END_TEST

START_TEST(other_forms)
{
    ck_assert_int_eq(nb_caller_check(1, ARGV(NULL)), NB_CALLER_NOT_BROWSER);
    ck_assert_int_eq(nb_caller_check(2, ARGV("--frobnicate")), NB_CALLER_NOT_BROWSER);
    ck_assert_int_eq(nb_caller_check(2, ARGV("hello")), NB_CALLER_NOT_BROWSER);
    ck_assert_int_eq(nb_caller_check(3, ARGV("a", "b")), NB_CALLER_NOT_BROWSER);
    ck_assert_int_eq(nb_caller_check(4, ARGV("a", "b@c", "d")), NB_CALLER_NOT_BROWSER);
}
END_TEST

static Suite *caller_suite(void)
{
    Suite *s = suite_create("caller");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, browser_forms);
    tcase_add_test(tc, other_forms);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(caller_suite)
