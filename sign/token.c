/* SPDX-License-Identifier: Apache-2.0 */
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "ecdsa_der.h"
#include "pin_source.h"
#include "signature.h"
#include "wipe.h"

struct nb_token {
    P11KitUri *uri;
    CK_FUNCTION_LIST *module;
    int initialized;
    CK_SESSION_HANDLE session;
    int have_session;
    CK_OBJECT_HANDLE private_key;
    CK_KEY_TYPE key_type;
    int always_authenticate; /* the key wants the PIN again at each use */
    EVP_PKEY *public_key;
    /* The user PIN, kept after C_Login only for a key with
     * CKA_ALWAYS_AUTHENTICATE, until its context-specific login; wiped by
     * forget_pin, and with the whole object by nb_token_close. */
    long pin_len;
    char pin[NB_PIN_MAX + 1];
};

/* The DER of the P-256 curve's OID, as CKA_EC_PARAMS holds it. */
static const uint8_t P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

int nb_is_pkcs11_uri(const char *arg)
{
    return strncmp(arg, "pkcs11:", 7) == 0;
}

static int fail(int code, const char *what, CK_RV rv)
{
    if (rv == CKR_OK)
        fprintf(stderr, "nesbridge-sign: %s\n", what);
    else
        fprintf(stderr, "nesbridge-sign: %s: %s (CKR 0x%lx)\n", what, p11_kit_strerror(rv), (unsigned long)rv);
    return code;
}

/* Reads one attribute into a malloc'd buffer (NULL when absent). */
static uint8_t *get_attribute(nb_token *t, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    if (t->module->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
        a.ulValueLen == 0 || a.ulValueLen > 4096)
        return NULL;
    a.pValue = malloc(a.ulValueLen);
    if (a.pValue == NULL || t->module->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK) {
        free(a.pValue);
        return NULL;
    }
    *len = a.ulValueLen;
    return a.pValue;
}

/* Finds the objects of a class that match the URI's id= and object= (when
 * by_uri) and the extra attributes; up to 2 handles. */
static CK_ULONG find(nb_token *t, CK_OBJECT_CLASS cls, int by_uri, const CK_ATTRIBUTE *extra, CK_ULONG n_extra,
                     CK_OBJECT_HANDLE found[2])
{
    CK_ULONG n_uri = 0;
    CK_ATTRIBUTE *uri_attrs = by_uri ? p11_kit_uri_get_attributes(t->uri, &n_uri) : NULL;
    CK_ATTRIBUTE tmpl[8];
    CK_ULONG n = 0;
    tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    for (CK_ULONG i = 0; i < n_uri && n < 6; i++)
        if (uri_attrs[i].type == CKA_ID || uri_attrs[i].type == CKA_LABEL)
            tmpl[n++] = uri_attrs[i];
    for (CK_ULONG i = 0; i < n_extra && n < 8; i++)
        tmpl[n++] = extra[i];
    CK_ULONG count = 0;
    if (t->module->C_FindObjectsInit(t->session, tmpl, n) != CKR_OK)
        return 0;
    if (t->module->C_FindObjects(t->session, found, 2, &count) != CKR_OK)
        count = 0;
    t->module->C_FindObjectsFinal(t->session);
    return count;
}

/* The URI's type= (CKA_CLASS), or (CK_OBJECT_CLASS)-1 when it has none. */
static CK_OBJECT_CLASS uri_class(P11KitUri *uri)
{
    CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
    CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
    if (a != NULL && a->ulValueLen == sizeof(cls))
        memcpy(&cls, a->pValue, sizeof(cls));
    return cls;
}

static EVP_PKEY *ec_public_key(const uint8_t *params, size_t params_len, const uint8_t *point, size_t point_len)
{
    if (params_len != sizeof(P256_OID) || memcmp(params, P256_OID, sizeof(P256_OID)) != 0)
        return NULL;
    /* CKA_EC_POINT is the DER OCTET STRING around 04||X||Y; a few tokens
     * give the bare point. */
    if (point_len == 67 && point[0] == 0x04 && point[1] == 65) {
        point += 2;
        point_len -= 2;
    }
    if (point_len != 65 || point[0] != 0x04)
        return NULL;
    OSSL_PARAM params_out[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_len),
        OSSL_PARAM_END,
    };
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params_out) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *rsa_public_key(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL), *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (bn_n != NULL && bn_e != NULL && bld != NULL && ctx != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

/* The public key held in an object: a public key (CKA_EC_POINT, or
 * CKA_MODULUS and CKA_PUBLIC_EXPONENT), or an RSA private key, which
 * carries its modulus and exponent too. */
static EVP_PKEY *read_public(nb_token *t, CK_OBJECT_HANDLE obj, CK_KEY_TYPE type)
{
    size_t a_len = 0, b_len = 0;
    uint8_t *a = NULL, *b = NULL;
    EVP_PKEY *key = NULL;
    if (type == CKK_EC) {
        a = get_attribute(t, obj, CKA_EC_PARAMS, &a_len);
        b = get_attribute(t, obj, CKA_EC_POINT, &b_len);
        if (a != NULL && b != NULL)
            key = ec_public_key(a, a_len, b, b_len);
    } else if (type == CKK_RSA) {
        a = get_attribute(t, obj, CKA_MODULUS, &a_len);
        b = get_attribute(t, obj, CKA_PUBLIC_EXPONENT, &b_len);
        if (a != NULL && b != NULL)
            key = rsa_public_key(a, a_len, b, b_len);
    }
    free(a);
    free(b);
    return key;
}

static int key_type_of(nb_token *t, CK_OBJECT_HANDLE obj, CK_KEY_TYPE *type)
{
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, type, sizeof(*type)};
    return t->module->C_GetAttributeValue(t->session, obj, &a, 1) == CKR_OK ? 0 : -1;
}

/* The public half of the private key found: the public key object with
 * the same CKA_ID (or, without one, the same label), else what the
 * private key itself carries. */
static EVP_PKEY *public_of_private(nb_token *t)
{
    size_t id_len = 0, label_len = 0;
    uint8_t *id = get_attribute(t, t->private_key, CKA_ID, &id_len);
    uint8_t *label = id == NULL ? get_attribute(t, t->private_key, CKA_LABEL, &label_len) : NULL;
    CK_ATTRIBUTE extra[2] = {{CKA_KEY_TYPE, &t->key_type, sizeof(t->key_type)}, {0, NULL, 0}};
    if (id != NULL)
        extra[1] = (CK_ATTRIBUTE){CKA_ID, id, id_len};
    else if (label != NULL)
        extra[1] = (CK_ATTRIBUTE){CKA_LABEL, label, label_len};
    EVP_PKEY *key = NULL;
    CK_OBJECT_HANDLE found[2];
    /* By the private key's own id or label, not the URI's. */
    if (extra[1].pValue != NULL && find(t, CKO_PUBLIC_KEY, 0, extra, 2, found) == 1)
        key = read_public(t, found[0], t->key_type);
    if (key == NULL && t->key_type == CKK_RSA)
        key = read_public(t, t->private_key, CKK_RSA);
    free(id);
    free(label);
    return key;
}

/* Picks the one initialized token the URI matches. */
static int pick_slot(nb_token *t, CK_SLOT_ID *slot)
{
    CK_INFO info;
    CK_RV rv = t->module->C_GetInfo(&info);
    if (rv != CKR_OK)
        return fail(NB_EXIT_TOKEN, "the PKCS#11 module gives no information", rv);
    if (!p11_kit_uri_match_module_info(t->uri, &info))
        return fail(NB_EXIT_TOKEN, "the module is not the one the URI names", CKR_OK);
    CK_ULONG n = 0;
    rv = t->module->C_GetSlotList(CK_TRUE, NULL, &n);
    if (rv != CKR_OK || n > 4096)
        return fail(NB_EXIT_TOKEN, "cannot list the module's slots", rv);
    CK_SLOT_ID *slots = calloc(n > 0 ? n : 1, sizeof(*slots));
    if (slots == NULL)
        return fail(NB_EXIT_FAILED, "out of memory", CKR_OK);
    rv = t->module->C_GetSlotList(CK_TRUE, slots, &n);
    CK_SLOT_ID wanted = p11_kit_uri_get_slot_id(t->uri);
    int matches = 0;
    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
        CK_SLOT_INFO si;
        CK_TOKEN_INFO ti;
        if ((wanted != (CK_SLOT_ID)-1 && slots[i] != wanted) || t->module->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
            !p11_kit_uri_match_slot_info(t->uri, &si) || t->module->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
            (ti.flags & CKF_TOKEN_INITIALIZED) == 0 || !p11_kit_uri_match_token_info(t->uri, &ti))
            continue;
        if (matches++ == 0)
            *slot = slots[i];
    }
    free(slots);
    if (rv != CKR_OK)
        return fail(NB_EXIT_TOKEN, "cannot list the module's slots", rv);
    if (matches == 0)
        return fail(NB_EXIT_TOKEN, "no token matches the URI (token=, manufacturer=, serial=, slot-id=)", CKR_OK);
    if (matches > 1)
        return fail(NB_EXIT_TOKEN, "more than one token matches the URI; name one with token= or serial=", CKR_OK);
    return NB_EXIT_OK;
}

static void forget_pin(nb_token *t)
{
    nb_wipe(t->pin, sizeof(t->pin));
    t->pin_len = 0;
}

/* What C_Login's refusals mean for the exit code. */
static int login_failed(CK_RV rv)
{
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE)
        return fail(NB_EXIT_PIN, "the token refused the PIN", rv);
    if (rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED)
        return fail(NB_EXIT_LOCKED, "the token's user PIN is locked or expired", rv);
    return fail(NB_EXIT_TOKEN, "cannot log in to the token", rv);
}

/* Logs in as the user, unless the PIN is locked or has one try left: a
 * wrong PIN source would then lock it, so it is not tried at all. The PIN
 * stays in t (forget_pin). */
static int login(nb_token *t, CK_SLOT_ID slot)
{
    CK_TOKEN_INFO ti;
    CK_RV rv = t->module->C_GetTokenInfo(slot, &ti);
    if (rv != CKR_OK)
        return fail(NB_EXIT_TOKEN, "the token gives no information", rv);
    if (ti.flags & CKF_USER_PIN_LOCKED)
        return fail(NB_EXIT_LOCKED, "the token's user PIN is locked; its security officer must unblock it", CKR_OK);
    if (ti.flags & CKF_USER_PIN_FINAL_TRY)
        return fail(NB_EXIT_PIN,
                    "the token's user PIN has one try left, so it is not tried: an operator must check the PIN "
                    "source (pin-source or " NB_PIN_ENV ") against the token before the next run",
                    CKR_OK);
    long len = nb_pin_read(p11_kit_uri_get_pin_source(t->uri), NB_PIN_ENV, t->pin);
    if (len <= 0) {
        forget_pin(t);
        return len < 0 ? NB_EXIT_PIN
                       : fail(NB_EXIT_PIN, "no PIN: put pin-source=file:/path in the URI or set " NB_PIN_ENV, CKR_OK);
    }
    t->pin_len = len;
    rv = t->module->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *)t->pin, (CK_ULONG)len);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return NB_EXIT_OK;
    forget_pin(t);
    return login_failed(rv);
}

/* Loads the module the URI names: module-path (absolute) or module-name
 * (p11-kit's module directory). Never every module p11-kit knows: one of
 * them could be a card reader's. */
static int load_module(nb_token *t)
{
    const char *path = p11_kit_uri_get_module_path(t->uri), *name = p11_kit_uri_get_module_name(t->uri);
    if (path == NULL && name == NULL)
        return fail(NB_EXIT_USAGE, "the URI must name its module: module-path=/abs/path.so or module-name=NAME", CKR_OK);
    if (path != NULL && path[0] != '/')
        return fail(NB_EXIT_USAGE, "module-path must be an absolute path", CKR_OK);
    if (path == NULL && strchr(name, '/') != NULL)
        return fail(NB_EXIT_USAGE, "module-name is a name in p11-kit's module directory; use module-path for a path",
                    CKR_OK);
    t->module = p11_kit_module_load(path != NULL ? path : name, 0);
    if (t->module == NULL) {
        fprintf(stderr, "nesbridge-sign: cannot load the PKCS#11 module %s: %s\n", path != NULL ? path : name,
                p11_kit_message() != NULL ? p11_kit_message() : "unknown error");
        return NB_EXIT_TOKEN;
    }
    CK_RV rv = p11_kit_module_initialize(t->module);
    if (rv != CKR_OK)
        return fail(NB_EXIT_TOKEN, "cannot initialize the PKCS#11 module", rv);
    t->initialized = 1;
    return NB_EXIT_OK;
}

static int parse_uri(nb_token *t, const char *text)
{
    t->uri = p11_kit_uri_new();
    if (t->uri == NULL)
        return fail(NB_EXIT_FAILED, "out of memory", CKR_OK);
    int r = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, t->uri);
    if (r != P11_KIT_URI_OK) {
        fprintf(stderr, "nesbridge-sign: not a PKCS#11 URI (RFC 7512): %s\n", p11_kit_uri_message(r));
        return NB_EXIT_USAGE;
    }
    if (p11_kit_uri_get_pin_value(t->uri) != NULL)
        return fail(NB_EXIT_USAGE,
                    "pin-value puts the PIN on the command line; use pin-source=file:/path or " NB_PIN_ENV, CKR_OK);
    if (p11_kit_uri_any_unrecognized(t->uri))
        return fail(NB_EXIT_USAGE, "the URI has attributes this tool does not know", CKR_OK);
    return NB_EXIT_OK;
}

/* Signs only with a key made in the token that never left it (docs/
 * authority.md 3.1): a key imported from a file had a copy outside, and
 * may still have one. Also notes CKA_ALWAYS_AUTHENTICATE. */
static int check_key_protection(nb_token *t)
{
    CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, never_extractable = CK_FALSE, always_sensitive = CK_FALSE;
    CK_ATTRIBUTE a[] = {
        {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
        {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
        {CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof(never_extractable)},
        {CKA_ALWAYS_SENSITIVE, &always_sensitive, sizeof(always_sensitive)},
    };
    CK_RV rv = t->module->C_GetAttributeValue(t->session, t->private_key, a, 4);
    if (rv != CKR_OK)
        return fail(NB_EXIT_NO_KEY,
                    "the key's CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE and CKA_ALWAYS_SENSITIVE "
                    "cannot be read",
                    rv);
    for (size_t i = 0; i < 4; i++)
        if (a[i].ulValueLen != sizeof(CK_BBOOL))
            return fail(NB_EXIT_NO_KEY, "the key's protection attributes cannot be read", CKR_OK);
    if (sensitive == CK_FALSE || extractable != CK_FALSE || never_extractable == CK_FALSE ||
        always_sensitive == CK_FALSE)
        return fail(NB_EXIT_NO_KEY,
                    "the key is refused: it must have been generated in the token and never left it (sensitive, "
                    "always sensitive, not extractable, never extractable); a key imported from a file is not",
                    CKR_OK);
    CK_BBOOL again = CK_FALSE;
    CK_ATTRIBUTE aa = {CKA_ALWAYS_AUTHENTICATE, &again, sizeof(again)};
    t->always_authenticate = t->module->C_GetAttributeValue(t->session, t->private_key, &aa, 1) == CKR_OK &&
                             aa.ulValueLen == sizeof(again) && again != CK_FALSE;
    return NB_EXIT_OK;
}

/* The private signing keys the URI matches (up to 2). */
static CK_ULONG find_private(nb_token *t, CK_OBJECT_HANDLE found[2])
{
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE can_sign = {CKA_SIGN, &yes, sizeof(yes)};
    return find(t, CKO_PRIVATE_KEY, 1, &can_sign, 1, found);
}

/* Takes the private key found and its public half, paired through its
 * CKA_ID (public_of_private). */
static int take_private(nb_token *t, CK_OBJECT_HANDLE key)
{
    t->private_key = key;
    if (key_type_of(t, key, &t->key_type) != 0)
        return fail(NB_EXIT_NO_KEY, "the key's type cannot be read", CKR_OK);
    t->public_key = public_of_private(t);
    return NB_EXIT_OK;
}

/* For signing: logs in and finds the one private key. */
static int find_signing_key(nb_token *t, CK_SLOT_ID slot, CK_OBJECT_CLASS cls)
{
    if (cls != (CK_OBJECT_CLASS)-1 && cls != CKO_PRIVATE_KEY)
        return fail(NB_EXIT_USAGE, "the URI must name a private key (type=private, or no type)", CKR_OK);
    int rc = login(t, slot);
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = rc == NB_EXIT_OK ? find_private(t, found) : 0;
    if (rc == NB_EXIT_OK && n != 1)
        rc = fail(NB_EXIT_NO_KEY,
                  n == 0 ? "no signing key on the token matches the URI (object=, id=)"
                         : "more than one key matches the URI; name it with object= or id=",
                  CKR_OK);
    if (rc == NB_EXIT_OK)
        rc = take_private(t, found[0]);
    if (rc == NB_EXIT_OK)
        rc = check_key_protection(t);
    if (rc != NB_EXIT_OK || !t->always_authenticate)
        forget_pin(t);
    return rc;
}

/* One look for the public key, as signing would pair it: the private key
 * the URI names (unless it says type=public) and the public key with its
 * CKA_ID; else, when no private key is seen, the one public key the URI
 * matches. Sets *n_public to what the last look found. */
static int look_for_public(nb_token *t, CK_OBJECT_CLASS cls, CK_ULONG *n_public)
{
    CK_OBJECT_HANDLE found[2];
    *n_public = 0;
    if (cls != CKO_PUBLIC_KEY) {
        CK_ULONG n = find_private(t, found);
        if (n > 1)
            return fail(NB_EXIT_NO_KEY, "more than one key matches the URI; name it with object= or id=", CKR_OK);
        if (n == 1)
            return take_private(t, found[0]);
    }
    *n_public = find(t, CKO_PUBLIC_KEY, 1, NULL, 0, found);
    if (*n_public == 1 && key_type_of(t, found[0], &t->key_type) == 0)
        t->public_key = read_public(t, found[0], t->key_type);
    return *n_public == 1 ? NB_EXIT_OK : -1;
}

/* For --key-id and --public-key: the public key, without logging in when
 * the token shows enough without it (a wrong PIN would cost a try). Only
 * when the URI matches no key, or several public keys and no private one
 * (a token that hides its private keys until login), and a PIN is given,
 * does it log in and look again. */
static int find_public_key(nb_token *t, CK_SLOT_ID slot, CK_OBJECT_CLASS cls)
{
    if (cls != (CK_OBJECT_CLASS)-1 && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return fail(NB_EXIT_USAGE, "the URI must name a key (type=private, type=public, or no type)", CKR_OK);
    CK_ULONG n_public = 0;
    int rc = look_for_public(t, cls, &n_public);
    if (rc == -1 && (p11_kit_uri_get_pin_source(t->uri) != NULL || getenv(NB_PIN_ENV) != NULL)) {
        rc = login(t, slot);
        forget_pin(t);
        if (rc == NB_EXIT_OK)
            rc = look_for_public(t, cls, &n_public);
    }
    if (rc == -1)
        rc = fail(NB_EXIT_NO_KEY,
                  n_public == 0 ? "no key on the token matches the URI (object=, id=)"
                                : "more than one public key matches the URI and no private key pairs one: give the "
                                  "PIN (pin-source or " NB_PIN_ENV ") so that the private key is seen, or name the "
                                  "key with id=",
                  CKR_OK);
    return rc;
}

/* Finds the key: the private key after logging in, or only the public
 * one; then checks the public key is one the host accepts. */
static int find_key(nb_token *t, CK_SLOT_ID slot, int for_signing)
{
    CK_OBJECT_CLASS cls = uri_class(t->uri);
    int rc = for_signing ? find_signing_key(t, slot, cls) : find_public_key(t, slot, cls);
    if (rc != NB_EXIT_OK)
        return rc;
    int is_rsa = 0;
    if (t->public_key == NULL)
        return fail(NB_EXIT_NO_KEY, "the token holds no readable public key for this key", CKR_OK);
    if (!nb_signature_key_acceptable(nb_crypto_direct(), t->public_key, &is_rsa) ||
        (is_rsa && EVP_PKEY_get_bits(t->public_key) > 6144))
        return fail(NB_EXIT_NO_KEY, "the token's key is not P-256 or RSA of 3072 to 6144 bits", CKR_OK);
    return NB_EXIT_OK;
}

int nb_token_open(const char *uri, int for_signing, nb_token **out)
{
    nb_token *t = calloc(1, sizeof(*t));
    *out = NULL;
    if (t == NULL)
        return fail(NB_EXIT_FAILED, "out of memory", CKR_OK);
    CK_SLOT_ID slot = 0;
    int rc = parse_uri(t, uri);
    if (rc == NB_EXIT_OK)
        rc = load_module(t);
    if (rc == NB_EXIT_OK)
        rc = pick_slot(t, &slot);
    if (rc == NB_EXIT_OK) {
        CK_RV rv = t->module->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &t->session);
        if (rv == CKR_OK)
            t->have_session = 1;
        else
            rc = fail(NB_EXIT_TOKEN, "cannot open a session with the token", rv);
    }
    if (rc == NB_EXIT_OK)
        rc = find_key(t, slot, for_signing);
    if (rc != NB_EXIT_OK) {
        nb_token_close(t);
        return rc;
    }
    *out = t;
    return NB_EXIT_OK;
}

EVP_PKEY *nb_token_public_key(const nb_token *t)
{
    return t->public_key;
}

int nb_token_sign(nb_token *t, const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len)
{
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1)
        return fail(NB_EXIT_FAILED, "cannot hash the script", CKR_OK);
    /* The digest is made here and the token signs it: every HSM has
     * CKM_ECDSA and CKM_RSA_PKCS_PSS, fewer their hashing forms. */
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, NB_PSS_SALT_LEN};
    CK_MECHANISM mech = t->key_type == CKK_RSA ? (CK_MECHANISM){CKM_RSA_PKCS_PSS, &pss, sizeof(pss)}
                                               : (CK_MECHANISM){CKM_ECDSA, NULL, 0};
    uint8_t raw[1024];
    CK_ULONG raw_len = sizeof(raw);
    CK_RV rv = t->module->C_SignInit(t->session, &mech, t->private_key);
    int rc = NB_EXIT_OK;
    if (rv == CKR_OK && t->always_authenticate) {
        /* CKA_ALWAYS_AUTHENTICATE: the PIN again, for this operation
         * (after C_SignInit, before C_Sign; PKCS#11 5.6). */
        CK_RV login_rv =
            t->module->C_Login(t->session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)t->pin, (CK_ULONG)t->pin_len);
        if (login_rv != CKR_OK)
            rc = login_failed(login_rv);
    }
    forget_pin(t); /* never needed again */
    if (rc != NB_EXIT_OK)
        return rc;
    if (rv == CKR_OK)
        rv = t->module->C_Sign(t->session, digest, digest_len, raw, &raw_len);
    if (rv != CKR_OK)
        return fail(NB_EXIT_FAILED, "the token did not sign", rv);
    if (t->key_type == CKK_RSA) {
        if (raw_len > *sig_len)
            rc = fail(NB_EXIT_FAILED, "the token's signature is too long", CKR_OK);
        else {
            memcpy(sig, raw, raw_len);
            *sig_len = raw_len;
        }
    } else if (nb_ecdsa_raw_to_der(raw, raw_len, sig, sig_len) != 0) {
        rc = fail(NB_EXIT_FAILED, "the token's ECDSA signature is not 64 bytes of r||s", CKR_OK);
    }
    if (rc == NB_EXIT_OK && !nb_signature_verify(nb_crypto_direct(), t->public_key, data, len, sig, *sig_len))
        rc = fail(NB_EXIT_FAILED, "the token's signature does not verify with its public key", CKR_OK);
    return rc;
}

void nb_token_close(nb_token *t)
{
    if (t == NULL)
        return;
    if (t->have_session) {
        t->module->C_Logout(t->session);
        t->module->C_CloseSession(t->session);
    }
    if (t->initialized)
        p11_kit_module_finalize(t->module);
    if (t->module != NULL)
        p11_kit_module_release(t->module);
    p11_kit_uri_free(t->uri);
    EVP_PKEY_free(t->public_key);
    nb_free_wiped(t); /* and the PIN in it */
}
