/* SPDX-License-Identifier: Apache-2.0 */
#include "origin.h"

#include <string.h>

static int is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Host: dot-separated labels of [a-z0-9-], 1-63 characters, not starting
 * or ending with '-'; no empty label, no trailing dot. */
static int host_well_formed(const char *host, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t label_len = 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label_len == 0 || host[i - 1] == '-')
                return 0;
            label_len = 0;
            continue;
        }
        if (!is_label_char(c))
            return 0;
        if (label_len == 0 && c == '-')
            return 0;
        if (++label_len > 63)
            return 0;
    }
    return label_len > 0 && host[len - 1] != '-';
}

static int port_well_formed(const char *port, size_t len)
{
    if (len == 0 || len > 5 || port[0] == '0')
        return 0;
    unsigned long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (port[i] < '0' || port[i] > '9')
            return 0;
        value = value * 10 + (unsigned long)(port[i] - '0');
    }
    return value <= 65535;
}

/* Splits a well-formed origin; returns the host's start and length. */
static int split_origin(const char *origin, const char **scheme_end, const char **host,
                        size_t *host_len)
{
    size_t len = strnlen(origin, NB_MAX_ORIGIN_LEN + 1);
    if (len > NB_MAX_ORIGIN_LEN)
        return 0;
    const char *sep = strstr(origin, "://");
    if (sep == NULL)
        return 0;
    size_t scheme_len = (size_t)(sep - origin);
    if (!((scheme_len == 5 && strncmp(origin, "https", 5) == 0) ||
          (scheme_len == 4 && strncmp(origin, "http", 4) == 0)))
        return 0;
    const char *h = sep + 3;
    const char *colon = strchr(h, ':');
    size_t hl = colon != NULL ? (size_t)(colon - h) : strlen(h);
    if (!host_well_formed(h, hl))
        return 0;
    if (colon != NULL && !port_well_formed(colon + 1, strlen(colon + 1)))
        return 0;
    *scheme_end = sep;
    *host = h;
    *host_len = hl;
    return 1;
}

int nb_origin_well_formed(const char *origin)
{
    const char *scheme_end, *host;
    size_t host_len;
    return split_origin(origin, &scheme_end, &host, &host_len);
}

int nb_origin_allowed(const char *origin, char *const *extra, size_t extra_count)
{
    const char *scheme_end, *host;
    size_t host_len;
    if (!split_origin(origin, &scheme_end, &host, &host_len))
        return 0;
    for (size_t i = 0; i < extra_count; i++)
        if (strcmp(origin, extra[i]) == 0)
            return 1;
    if (scheme_end - origin != 5) /* only https for the authority */
        return 0;
    const size_t domain_len = sizeof(NB_AUTHORITY_DOMAIN) - 1;
    if (host_len == domain_len)
        return memcmp(host, NB_AUTHORITY_DOMAIN, domain_len) == 0;
    if (host_len > domain_len + 1) {
        const char *tail = host + host_len - domain_len;
        return tail[-1] == '.' && memcmp(tail, NB_AUTHORITY_DOMAIN, domain_len) == 0;
    }
    return 0;
}
