/* SPDX-License-Identifier: Apache-2.0 */
/* Checks on untrusted JSON that cJSON does not make: strict UTF-8, no NUL
 * (raw or escaped), bounded nesting, no duplicate keys, bounded sizes. */
#ifndef NB_JSONGUARD_H
#define NB_JSONGUARD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define NB_JSON_MAX_DEPTH 8
#define NB_JSON_MAX_MEMBERS 300 /* per object or array */

/* True when the bytes are valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
int nb_utf8_valid(const unsigned char *s, size_t len);

/* Scans raw request text before parsing. Returns 1 when acceptable; else 0
 * and *why names the problem. */
int nb_json_text_ok(const char *text, size_t len, const char **why);

/* Checks a parsed tree: no object with a key twice, no container with more
 * than NB_JSON_MAX_MEMBERS members, no non-finite number. */
int nb_json_tree_ok(const cJSON *node, const char **why);

/* Makes cJSON allocate through the host's allocator: every block is wiped
 * before it is freed (a request may carry a new PIN), and every failed
 * allocation is counted, so that a reply built while memory ran out is
 * never sent as a success (see nb_dispatch). */
void nb_json_use_host_allocator(void);

/* How many allocations for cJSON have failed since the start. */
unsigned long nb_json_alloc_failures(void);

/* Parses a whole request text with both checks; NULL with *why on failure. */
cJSON *nb_json_parse_checked(const char *text, size_t len, const char **why);

#endif
