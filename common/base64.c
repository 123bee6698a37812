/* SPDX-License-Identifier: Apache-2.0 */
#include "base64.h"
#include "wipe.h"

#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

uint8_t *nb_base64_decode(const char *text, size_t text_len, size_t *out_len)
{
    if (text_len == 0 || text_len % 4 != 0)
        return NULL;
    size_t pad = text[text_len - 1] == '=' ? (text[text_len - 2] == '=' ? 2 : 1) : 0;
    size_t len = text_len / 4 * 3 - pad;
    uint8_t *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < text_len; i += 4) {
        int v[4];
        for (size_t k = 0; k < 4; k++) {
            int is_pad_position = i + 4 == text_len && k >= 4 - pad;
            v[k] = is_pad_position ? 0 : value_of(text[i + k]);
            if (v[k] < 0 || (is_pad_position && text[i + k] != '=')) {
                nb_free_wiped(out);
                return NULL;
            }
        }
        uint32_t triple = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        uint8_t bytes[3] = {(uint8_t)(triple >> 16), (uint8_t)(triple >> 8), (uint8_t)triple};
        for (size_t k = 0; k < 3 && o < len; k++)
            out[o++] = bytes[k];
        /* Bits beyond the data must be zero (canonical form). */
        if (i + 4 == text_len && ((pad == 1 && bytes[2] != 0) || (pad == 2 && bytes[1] != 0))) {
            nb_free_wiped(out);
            return NULL;
        }
    }
    *out_len = len;
    return out;
}

char *nb_base64_encode(const uint8_t *data, size_t len)
{
    size_t out_len = (len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t triple = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            triple |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            triple |= data[i + 2];
        out[o++] = alphabet[(triple >> 18) & 63];
        out[o++] = alphabet[(triple >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(triple >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[triple & 63] : '=';
    }
    out[o] = '\0';
    return out;
}
