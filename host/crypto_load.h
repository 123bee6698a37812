/* SPDX-License-Identifier: Apache-2.0 */
/* libcrypto for the host, loaded on first use (common/crypto_api.h). */
#ifndef NB_CRYPTO_LOAD_H
#define NB_CRYPTO_LOAD_H

#include "crypto_api.h"

/* The table, loading libcrypto the first time; NULL when it cannot be
 * loaded. On Windows, where the exe links libcrypto statically, the direct
 * table. */
const nb_crypto_api *nb_crypto_loaded(void);

/* Why the last load failed, for doctor and the error reply; "" when it did
 * not. */
const char *nb_crypto_load_error(void);

#endif
