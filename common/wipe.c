/* SPDX-License-Identifier: Apache-2.0 */
#include "wipe.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "platform.h"

void nb_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

void nb_free_wiped(void *p)
{
    if (p == NULL)
        return;
    nb_wipe(p, nb_alloc_size(p));
    free(p);
}
