/* SPDX-License-Identifier: Apache-2.0 */
/* Page origins: which sites may use the card reader. */
#ifndef NB_ORIGIN_H
#define NB_ORIGIN_H

#include <stddef.h>

#define NB_AUTHORITY_DOMAIN "kamusm.gov.tr"
#define NB_MAX_ORIGIN_LEN 300

/* True for scheme://host[:port] with scheme http or https, a lower-case
 * DNS host (or IPv4 address) and a decimal port 1-65535, nothing after. */
int nb_origin_well_formed(const char *origin);

/* True when the origin is https://kamusm.gov.tr or an https subdomain of
 * it (any port), or exactly equal to one of the extra origins (the
 * configuration's allow_origin lines). */
int nb_origin_allowed(const char *origin, char *const *extra, size_t extra_count);

#endif
