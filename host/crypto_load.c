/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto_load.h"

#include "log.h"

#ifdef _WIN32

const nb_crypto_api *nb_crypto_loaded(void)
{
    return nb_crypto_direct(); /* linked statically into the exe */
}

#else

#include <dlfcn.h>

/* The library the host was built against: same major version, same ABI. */
#define LIBCRYPTO_SONAME "libcrypto.so.3"

static nb_crypto_api loaded;
static int state; /* 0 not tried, 1 loaded, -1 failed */

static int load(void)
{
    void *lib = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        nb_log(NB_LOG_ERROR, "cannot load %s: %s", LIBCRYPTO_SONAME, dlerror());
        return -1;
    }
    const char *missing = NULL;
    /* dlsym gives an object pointer; POSIX guarantees it converts to the
     * function's own pointer type. */
#define NB_CRYPTO_LOAD(name)                                                                   \
    if (missing == NULL && (*(void **)&loaded.name = dlsym(lib, #name)) == NULL)               \
        missing = #name;
    NB_CRYPTO_FUNCTIONS(NB_CRYPTO_LOAD)
#undef NB_CRYPTO_LOAD
    if (missing != NULL) {
        nb_log(NB_LOG_ERROR, "%s has no %s", LIBCRYPTO_SONAME, missing);
        dlclose(lib);
        return -1;
    }
    return 1; /* kept loaded for the life of the process */
}

const nb_crypto_api *nb_crypto_loaded(void)
{
    if (state == 0)
        state = load();
    return state == 1 ? &loaded : NULL;
}

#endif
