/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonguard.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "wipe.h"

static unsigned long alloc_failures;

static void *counting_malloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        alloc_failures++;
    return p;
}

void nb_json_use_host_allocator(void)
{
    cJSON_Hooks hooks = {.malloc_fn = counting_malloc, .free_fn = nb_free_wiped};
    cJSON_InitHooks(&hooks);
}

unsigned long nb_json_alloc_failures(void)
{
    return alloc_failures;
}

int nb_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return 0; /* continuation byte, C0/C1 or F5..FF */
        }
        if (len - i <= extra)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= extra; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += extra + 1;
    }
    return 1;
}

int nb_json_text_ok(const char *text, size_t len, const char **why)
{
    const unsigned char *s = (const unsigned char *)text;
    if (!nb_utf8_valid(s, len)) {
        *why = "request is not valid UTF-8";
        return 0;
    }
    size_t depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == 0) {
            *why = "request contains a NUL byte";
            return 0;
        }
        if (in_string) {
            if (c < 0x20) {
                *why = "request contains a raw control character in a string";
                return 0;
            }
            if (c == '"') {
                in_string = 0;
            } else if (c == '\\' && i + 1 < len) {
                i++;
                if (s[i] == 'u' && i + 4 < len && memcmp(s + i + 1, "0000", 4) == 0) {
                    *why = "request contains \\u0000 in a string";
                    return 0;
                }
            }
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > NB_JSON_MAX_DEPTH) {
                *why = "request is nested too deeply";
                return 0;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

int nb_json_tree_ok(const cJSON *node, const char **why)
{
    /* The builtin: mingw-w64's isfinite() macro narrows to float. */
    if (cJSON_IsNumber(node) && !__builtin_isfinite(node->valuedouble)) {
        *why = "request contains a number out of range";
        return 0;
    }
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return 1;
    size_t count = 0;
    for (const cJSON *child = node->child; child != NULL; child = child->next) {
        if (++count > NB_JSON_MAX_MEMBERS) {
            *why = "request has a container with too many members";
            return 0;
        }
        if (cJSON_IsObject(node)) {
            for (const cJSON *prev = node->child; prev != child; prev = prev->next) {
                if (strcmp(prev->string, child->string) == 0) {
                    *why = "request has a duplicate key";
                    return 0;
                }
            }
        }
        if (!nb_json_tree_ok(child, why))
            return 0;
    }
    return 1;
}

cJSON *nb_json_parse_checked(const char *text, size_t len, const char **why)
{
    if (!nb_json_text_ok(text, len, why))
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        *why = "request is not valid JSON";
        return NULL;
    }
    /* cJSON stops after the first value; anything but white space after
     * it is an error. */
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(root);
            *why = "request has trailing data after the JSON value";
            return NULL;
        }
    }
    if (!nb_json_tree_ok(root, why)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}
