/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "origin.h"
#include "testutil.h"

START_TEST(authority_origins)
{
    ck_assert(nb_origin_allowed("https://kamusm.gov.tr", NULL, 0));
    ck_assert(nb_origin_allowed("https://nesbireysel.kamusm.gov.tr", NULL, 0));
    ck_assert(nb_origin_allowed("https://a.b.kamusm.gov.tr:8443", NULL, 0));
    ck_assert(!nb_origin_allowed("http://kamusm.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("https://kamusm.gov.tr.evil.com", NULL, 0));
    ck_assert(!nb_origin_allowed("https://evilkamusm.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("https://kamusm.gov.tr/", NULL, 0));
    ck_assert(!nb_origin_allowed("https://kamusm.gov.tr.", NULL, 0));
    ck_assert(!nb_origin_allowed("https://KAMUSM.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("https://user@kamusm.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("https://kamusm.gov.tr:0", NULL, 0));
    ck_assert(!nb_origin_allowed("https://kamusm.gov.tr:65536", NULL, 0));
    ck_assert(!nb_origin_allowed("https://.kamusm.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("https://-x.kamusm.gov.tr", NULL, 0));
    ck_assert(!nb_origin_allowed("", NULL, 0));
    ck_assert(!nb_origin_allowed("null", NULL, 0));
    ck_assert(!nb_origin_allowed("chrome-extension://abc", NULL, 0));
    ck_assert(!nb_origin_allowed("file://kamusm.gov.tr", NULL, 0));
}
END_TEST

START_TEST(configured_origins_match_exactly)
{
    nb_config cfg = {0};
    char origin[] = "http://localhost:8443";
    cfg.extra_origins[0] = origin;
    cfg.extra_origin_count = 1;
    ck_assert(nb_origin_allowed("http://localhost:8443", cfg.extra_origins, cfg.extra_origin_count));
    ck_assert(!nb_origin_allowed("http://localhost:8444", cfg.extra_origins, cfg.extra_origin_count));
    ck_assert(!nb_origin_allowed("https://localhost:8443", cfg.extra_origins, cfg.extra_origin_count));
    ck_assert(!nb_origin_allowed("http://localhost", cfg.extra_origins, cfg.extra_origin_count));
    ck_assert(nb_origin_allowed("https://kamusm.gov.tr", cfg.extra_origins, cfg.extra_origin_count));
}
END_TEST

START_TEST(well_formed)
{
    ck_assert(nb_origin_well_formed("http://127.0.0.1:8080"));
    ck_assert(nb_origin_well_formed("https://example.org"));
    ck_assert(!nb_origin_well_formed("ftp://example.org"));
    ck_assert(!nb_origin_well_formed("https://exa mple.org"));
    ck_assert(!nb_origin_well_formed("https://example.org:08"));
    ck_assert(!nb_origin_well_formed("https://"));
}
END_TEST

static Suite *origin_suite(void)
{
    Suite *s = suite_create("origin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, authority_origins);
    tcase_add_test(tc, configured_origins_match_exactly);
    tcase_add_test(tc, well_formed);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(origin_suite)
