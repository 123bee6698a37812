/* SPDX-License-Identifier: Apache-2.0 */
#ifdef __APPLE__
#define __STDC_WANT_LIB_EXT1__ 1 /* memset_s */
#endif
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#endif

#include "platform.h"

void nb_wipe(void *p, size_t len)
{
    if (p == NULL || len == 0)
        return;
#if defined(_WIN32)
    SecureZeroMemory(p, len);
#elif defined(__APPLE__)
    memset_s(p, len, 0, len);
#else
    explicit_bzero(p, len);
#endif
}

void nb_free_wiped(void *p)
{
    if (p == NULL)
        return;
    nb_wipe(p, nb_alloc_size(p));
    free(p);
}

int nb_equal_secret(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff = (uint8_t)(diff | (x[i] ^ y[i]));
    return diff == 0;
}
