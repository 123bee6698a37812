#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hex.h"
#include "log.h"
#include "platform.h"

#define RSA_MIN_BITS 3072
#define PSS_SALT_LEN 32
/* .pem files looked at per directory; more than enough for 16 keys. */
#define NB_TRUST_MAX_FILES 64

typedef struct {
    EVP_PKEY *key;
    int is_rsa;
    char id[NB_KEY_ID_HEX + 1];
} trusted_key;

struct nb_trust_store {
    trusted_key keys[NB_TRUST_MAX_KEYS];
    size_t count;
};

int nb_key_id(EVP_PKEY *key, char *out)
{
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    if (der_len <= 0)
        return -1;
    unsigned char digest[32];
    unsigned int digest_len = 0;
    int ok = EVP_Digest(der, (size_t)der_len, digest, &digest_len, EVP_sha256(), NULL) == 1;
    OPENSSL_free(der);
    if (!ok)
        return -1;
    nb_hex_encode(digest, sizeof(digest), out);
    return 0;
}

/* Only P-256 EC keys and RSA keys of at least 3072 bits. */
static int key_acceptable(EVP_PKEY *key, int *is_rsa)
{
    int type = EVP_PKEY_get_base_id(key);
    if (type == EVP_PKEY_EC) {
        char curve[64];
        size_t len = 0;
        *is_rsa = 0;
        return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                              &len) == 1 &&
               strcmp(curve, "prime256v1") == 0;
    }
    if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
        *is_rsa = 1;
        return EVP_PKEY_get_bits(key) >= RSA_MIN_BITS;
    }
    return 0;
}

const char *nb_anchor_problem_text(nb_anchor_problem problem)
{
    switch (problem) {
    case NB_ANCHOR_OK:
        return "acceptable";
    case NB_ANCHOR_MISSING:
        return "not there";
    case NB_ANCHOR_LINK:
        return "a symbolic link, never followed";
    case NB_ANCHOR_WRONG_TYPE:
        return "not a regular file or directory as expected";
    case NB_ANCHOR_OWNER:
        return "owned by another user (only root or this user count)";
    case NB_ANCHOR_WRITABLE:
        return "others than its owner may write it";
    case NB_ANCHOR_PARENT_OWNER:
        return "a directory above it is owned by another user";
    case NB_ANCHOR_PARENT_WRITABLE:
        return "others may write a directory above it";
    case NB_ANCHOR_UNREADABLE:
        return "cannot be opened or examined";
    case NB_ANCHOR_BAD_KEY:
        return "not a P-256 or RSA>=3072 public key, or too many keys";
    }
    return "refused";
}

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
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || nb_trust_add_key(store, key) != 0) {
        EVP_PKEY_free(key);
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
    if (store->count == NB_TRUST_MAX_KEYS || !key_acceptable(key, &is_rsa))
        return -1;
    trusted_key *slot = &store->keys[store->count];
    if (nb_key_id(key, slot->id) != 0)
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

nb_trust_store *nb_trust_load_reporting(const char *const dirs[], size_t dir_count, nb_trust_ignored_fn on_ignored,
                                        void *arg)
{
    nb_trust_store *store = calloc(1, sizeof(*store));
    if (store == NULL)
        return NULL;
    ignored_sink sink = {on_ignored, arg};
    for (size_t i = 0; i < dir_count; i++)
        if (dirs[i] != NULL && dirs[i][0] != '\0')
            load_dir(store, dirs[i], &sink);
    return store;
}

nb_trust_store *nb_trust_load(const char *const dirs[], size_t dir_count)
{
    return nb_trust_load_reporting(dirs, dir_count, NULL, NULL);
}

void nb_trust_free(nb_trust_store *store)
{
    if (store == NULL)
        return;
    for (size_t i = 0; i < store->count; i++)
        EVP_PKEY_free(store->keys[i].key);
    free(store);
}

size_t nb_trust_count(const nb_trust_store *store)
{
    return store != NULL ? store->count : 0;
}

/* Raw r||s (as WebCrypto makes) to DER; returns a malloc'd buffer. */
static unsigned char *raw_ecdsa_to_der(const uint8_t *sig, size_t *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        int n = i2d_ECDSA_SIG(es, &der);
        *der_len = n > 0 ? (size_t)n : 0;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

int nb_trust_signature_setup(EVP_PKEY_CTX *pctx, EVP_PKEY *key)
{
    int type = EVP_PKEY_get_base_id(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_RSA_PSS)
        return 0; /* ECDSA needs nothing more */
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) == 1 &&
                   EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1
               ? 0
               : -1;
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
    if (sig_len == 0)
        return NB_ERR_BAD_SIGNATURE;
    unsigned char *converted = NULL;
    if (!tk->is_rsa && sig_len == 64) {
        size_t der_len = 0;
        converted = raw_ecdsa_to_der(sig, &der_len);
        if (converted == NULL)
            return NB_ERR_BAD_SIGNATURE;
        sig = converted;
        sig_len = der_len;
    }
    nb_error result = NB_ERR_BAD_SIGNATURE;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (md != NULL && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, tk->key) == 1) {
        if (nb_trust_signature_setup(pctx, tk->key) == 0 && EVP_DigestVerify(md, sig, sig_len, data, len) == 1)
            result = NB_OK;
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(converted);
    return result;
}
