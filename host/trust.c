/* SPDX-License-Identifier: Apache-2.0 */
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "log.h"
#include "platform.h"
#include "signature.h"

/* .pem files looked at per directory; more than enough for 16 keys. */
#define NB_TRUST_MAX_FILES 64

typedef struct {
    EVP_PKEY *key;
    int is_rsa;
    char id[NB_KEY_ID_HEX + 1];
} trusted_key;

struct nb_trust_store {
    const nb_crypto_api *crypto;
    trusted_key keys[NB_TRUST_MAX_KEYS];
    size_t count;
};

typedef struct {
    nb_trust_ignored_fn fn;
    void *arg;
} ignored_sink;

static void ignored(const ignored_sink *sink, const char *path, const nb_anchor_why *why)
{
    nb_log(NB_LOG_ERROR, "trust: %s ignored: %s (%s)", path, nb_anchor_problem_text(why->problem),
           why->where[0] != '\0' ? why->where : path);
    if (sink->fn != NULL)
        sink->fn(sink->arg, path, why);
}

static void load_file(nb_trust_store *store, nb_anchor_dir *dir, const char *name, const char *path,
                      const ignored_sink *sink)
{
    nb_anchor_why why;
    FILE *f = nb_anchor_dir_open_file(dir, name, &why);
    if (f == NULL) {
        if (why.problem != NB_ANCHOR_MISSING)
            ignored(sink, path, &why);
        return;
    }
    if (store->crypto == NULL) { /* no libcrypto: the file's checks only */
        fclose(f);
        return;
    }
    EVP_PKEY *key = store->crypto->PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || nb_trust_add_key(store, key) != 0) {
        store->crypto->EVP_PKEY_free(key);
        why.problem = NB_ANCHOR_BAD_KEY;
        snprintf(why.where, sizeof(why.where), "%s", path);
        ignored(sink, path, &why);
        return;
    }
    nb_log(NB_LOG_INFO, "trust: key %s from %s", store->keys[store->count - 1].id, path);
}

int nb_trust_add_key(nb_trust_store *store, EVP_PKEY *key)
{
    int is_rsa = 0;
    if (store->count == NB_TRUST_MAX_KEYS || !nb_signature_key_acceptable(store->crypto, key, &is_rsa))
        return -1;
    trusted_key *slot = &store->keys[store->count];
    if (nb_key_id(store->crypto, key, slot->id) != 0)
        return -1;
    slot->key = key;
    slot->is_rsa = is_rsa;
    store->count++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(nb_trust_store *store, const char *dir, const ignored_sink *sink)
{
    nb_anchor_why why;
    nb_anchor_dir *d = nb_anchor_dir_open(dir, &why);
    if (d == NULL) {
        if (why.problem != NB_ANCHOR_MISSING)
            ignored(sink, dir, &why);
        else
            nb_log(NB_LOG_DEBUG, "trust: no directory %s", dir);
        return;
    }
    /* Keys load in name order, so that which key is dropped when there
     * are too many does not depend on the file system. */
    char *names[NB_TRUST_MAX_FILES];
    size_t count = 0;
    const char *name;
    while ((name = nb_anchor_dir_next(d)) != NULL && count < NB_TRUST_MAX_FILES) {
        size_t len = strlen(name);
        if (len > 4 && strcmp(name + len - 4, ".pem") == 0 && (names[count] = strdup(name)) != NULL)
            count++;
    }
    qsort(names, count, sizeof(names[0]), compare_names);
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path))
            load_file(store, d, names[i], path, sink);
        free(names[i]);
    }
    nb_anchor_dir_close(d);
}

nb_trust_store *nb_trust_load_reporting(const nb_crypto_api *crypto, const char *const dirs[], size_t dir_count,
                                        nb_trust_ignored_fn on_ignored, void *arg)
{
    nb_trust_store *store = calloc(1, sizeof(*store));
    if (store == NULL)
        return NULL;
    store->crypto = crypto;
    ignored_sink sink = {on_ignored, arg};
    for (size_t i = 0; i < dir_count; i++)
        if (dirs[i] != NULL && dirs[i][0] != '\0')
            load_dir(store, dirs[i], &sink);
    if (crypto == NULL) { /* the files were checked; no key could be read */
        free(store);
        return NULL;
    }
    return store;
}

nb_trust_store *nb_trust_load(const nb_crypto_api *crypto, const char *const dirs[], size_t dir_count)
{
    return nb_trust_load_reporting(crypto, dirs, dir_count, NULL, NULL);
}

void nb_trust_free(nb_trust_store *store)
{
    if (store == NULL)
        return;
    for (size_t i = 0; i < store->count; i++)
        store->crypto->EVP_PKEY_free(store->keys[i].key);
    free(store);
}

size_t nb_trust_count(const nb_trust_store *store)
{
    return store != NULL ? store->count : 0;
}

nb_error nb_trust_verify(const nb_trust_store *store, const char *key_id, const uint8_t *data,
                         size_t len, const uint8_t *sig, size_t sig_len)
{
    const trusted_key *tk = NULL;
    for (size_t i = 0; store != NULL && i < store->count; i++)
        if (strcmp(store->keys[i].id, key_id) == 0)
            tk = &store->keys[i];
    if (tk == NULL)
        return NB_ERR_UNKNOWN_KEY;
    return nb_signature_verify(store->crypto, tk->key, data, len, sig, sig_len) ? NB_OK : NB_ERR_BAD_SIGNATURE;
}
