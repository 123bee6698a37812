/* SPDX-License-Identifier: Apache-2.0 */
/* The authority's public keys, pinned: PEM files in directories that only
 * their owner may write. The page cannot choose a key; a script names the
 * key it was signed with by its key id. The keys and signatures accepted
 * are those of common/signature.h. */
#ifndef NB_TRUST_H
#define NB_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "platform.h"
#include "signature.h"

#define NB_TRUST_MAX_KEYS 16

typedef struct nb_trust_store nb_trust_store;

/* Loads every acceptable key (*.pem) from the directories (NULL or empty
 * entries skipped), working through the libcrypto table given. A
 * directory or key file is used only under the rule of platform.h
 * (nb_anchor_*: owned by root or this user, it and every directory above
 * it writable by no one else, never through a symbolic link). Whatever is
 * refused is logged, with why. NULL when out of memory, or without a table
 * (the files' rules are still checked and refusals still reported; keys
 * cannot be read). */
nb_trust_store *nb_trust_load(const nb_crypto_api *crypto, const char *const dirs[], size_t dir_count);
/* The same, and on_ignored(arg, path, why) for each directory or key file
 * refused (a missing directory is not reported). */
typedef void (*nb_trust_ignored_fn)(void *arg, const char *path, const nb_anchor_why *why);
nb_trust_store *nb_trust_load_reporting(const nb_crypto_api *crypto, const char *const dirs[], size_t dir_count,
                                        nb_trust_ignored_fn on_ignored, void *arg);
void nb_trust_free(nb_trust_store *store);
/* Adds a key (ownership passes to the store on success). Returns 0, or -1
 * when the key is not acceptable or the store is full. */
int nb_trust_add_key(nb_trust_store *store, EVP_PKEY *key);
size_t nb_trust_count(const nb_trust_store *store);

/* NB_OK, NB_ERR_UNKNOWN_KEY or NB_ERR_BAD_SIGNATURE. */
nb_error nb_trust_verify(const nb_trust_store *store, const char *key_id, const uint8_t *data,
                         size_t len, const uint8_t *sig, size_t sig_len);

#endif
