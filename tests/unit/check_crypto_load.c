/* SPDX-License-Identifier: Apache-2.0 */
/* libcrypto loaded on first use (host/crypto_load.c): when it cannot be
 * loaded, the reason is kept for doctor and the next use tries again; the
 * session's trust store, which needs it, is retried the same way. The
 * binary is linked with --wrap=dlopen,--wrap=dlerror so that the load can
 * be made to fail. */
#include <dlfcn.h>
#include <string.h>

#include <openssl/opensslv.h>

#include "crypto_load.h"
#include "fake_backend.h"
#include "session.h"
#include "testutil.h"
#include "trust.h"

void *__real_dlopen(const char *file, int mode);
char *__real_dlerror(void);
void *__wrap_dlopen(const char *file, int mode);
char *__wrap_dlerror(void);

static int dlopen_fails;
static int dlopen_calls;

void *__wrap_dlopen(const char *file, int mode)
{
    dlopen_calls++;
    return dlopen_fails ? NULL : __real_dlopen(file, mode);
}

char *__wrap_dlerror(void)
{
    static char why[] = "test: no such library";
    return dlopen_fails ? why : __real_dlerror();
}

#define TEXT(x) #x
#define NUMBER_TEXT(x) TEXT(x)

/* One test, in order: once loaded, the library stays loaded for the
 * process (and valgrind runs the tests in one process). The first signed
 * script found no libcrypto; the second, after it was installed, gets the
 * trust store rather than the first failure again. */
START_TEST(a_failed_load_says_why_and_is_tried_again)
{
    fake_backend fake;
    fake_init(&fake);
    nb_session s;
    nb_session_init(&s, &fake.backend, NULL, 1);
    static const char *const dirs[] = {"/nonexistent/nesbridge-trust.d"};
    s.trust_dirs = dirs;
    s.trust_dir_count = 1;

    dlopen_fails = 1;
    ck_assert_ptr_null(nb_crypto_loaded());
    const char *why = nb_crypto_load_error();
    ck_assert_ptr_nonnull(strstr(why, "libcrypto.so." NUMBER_TEXT(OPENSSL_VERSION_MAJOR)));
    ck_assert_ptr_nonnull(strstr(why, "test: no such library"));
    ck_assert_ptr_null(nb_session_trust(&s));
    ck_assert_int_eq(dlopen_calls, 2); /* not remembered */

    dlopen_fails = 0;
    const nb_trust_store *store = nb_session_trust(&s);
    ck_assert_ptr_nonnull(store);
    ck_assert_uint_eq(nb_trust_count(store), 0);
    ck_assert_ptr_eq(nb_session_trust(&s), store); /* loaded once */
    const nb_crypto_api *api = nb_crypto_loaded();
    ck_assert_ptr_nonnull(api);
    ck_assert_ptr_nonnull(api->EVP_PKEY_free);
    ck_assert_str_eq(nb_crypto_load_error(), "");
    ck_assert_int_eq(dlopen_calls, 3); /* loaded once, kept */

    nb_trust_free(s.trust_loaded);
    nb_session_close(&s);
    fake_destroy(&fake);
}
END_TEST

static Suite *crypto_load_suite(void)
{
    Suite *s = suite_create("crypto_load");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_failed_load_says_why_and_is_tried_again);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(crypto_load_suite)
