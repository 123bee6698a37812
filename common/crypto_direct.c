/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto_api.h"

const nb_crypto_api *nb_crypto_direct(void)
{
#define NB_CRYPTO_FILL(name) .name = name,
    static const nb_crypto_api api = {NB_CRYPTO_FUNCTIONS(NB_CRYPTO_FILL)};
#undef NB_CRYPTO_FILL
    return &api;
}
