/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto_load.h"

#include "log.h"

#ifdef _WIN32

const nb_crypto_api *nb_crypto_loaded(void)
{
    return nb_crypto_direct(); /* linked statically into the exe */
}

const char *nb_crypto_load_error(void)
{
    return "";
}

#else

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <openssl/opensslv.h>

/* The library the host was built against: same major version, same ABI. */
#define NB_TEXT(x) #x
#define NB_NUMBER_TEXT(x) NB_TEXT(x)
#ifdef __APPLE__
#define LIBCRYPTO_SONAME "libcrypto." NB_NUMBER_TEXT(OPENSSL_VERSION_MAJOR) ".dylib"
#else
#define LIBCRYPTO_SONAME "libcrypto.so." NB_NUMBER_TEXT(OPENSSL_VERSION_MAJOR)
#endif

static nb_crypto_api loaded;
static int is_loaded;
static char load_error[512];

static int load(void)
{
    void *lib = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error), "cannot load %s: %s", LIBCRYPTO_SONAME,
                 why != NULL ? why : "unknown reason");
        nb_log(NB_LOG_ERROR, "%s", load_error);
        return 0;
    }
    const char *missing = NULL;
    /* dlsym gives an object pointer; POSIX guarantees it converts to the
     * function's own pointer type, which has the same size and bits. */
#define NB_CRYPTO_LOAD(name)                                                                   \
    _Static_assert(sizeof(loaded.name) == sizeof(void *), "function pointers are data-sized"); \
    if (missing == NULL) {                                                                     \
        void *symbol = dlsym(lib, #name);                                                      \
        if (symbol == NULL)                                                                    \
            missing = #name;                                                                   \
        else                                                                                   \
            memcpy(&loaded.name, &symbol, sizeof(symbol));                                     \
    }
    NB_CRYPTO_FUNCTIONS(NB_CRYPTO_LOAD)
#undef NB_CRYPTO_LOAD
    if (missing != NULL) {
        snprintf(load_error, sizeof(load_error), "%s has no %s", LIBCRYPTO_SONAME, missing);
        nb_log(NB_LOG_ERROR, "%s", load_error);
        memset(&loaded, 0, sizeof(loaded));
        dlclose(lib);
        return 0;
    }
    load_error[0] = '\0';
    return 1; /* kept loaded for the life of the process */
}

/* A failure is not remembered: the next signed script tries again (the
 * package may have been installed meanwhile), at the cost of a dlopen. */
const nb_crypto_api *nb_crypto_loaded(void)
{
    if (!is_loaded)
        is_loaded = load();
    return is_loaded ? &loaded : NULL;
}

const char *nb_crypto_load_error(void)
{
    return load_error;
}

#endif
