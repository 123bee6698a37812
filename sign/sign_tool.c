/* SPDX-License-Identifier: Apache-2.0 */
/* nesbridge-sign: the authority's side of signed scripts (also used by
 * tests and the demo site). Private keys stay here, never in the host.
 * KEY is a PEM file or a PKCS#11 URI (RFC 7512) naming a key that stays in
 * a token (token.h; docs/authority.md).
 *
 *   nesbridge-sign --key KEY --in SCRIPT.json
 *       prints {"script": base64, "signature": base64, "key_id": hex}
 *   nesbridge-sign --verify --pub PUBLIC.pem --in SIGNED.json
 *       checks a signed script as the host would; exit 0 when it verifies
 *   nesbridge-sign --key-id KEY
 *   nesbridge-sign --public-key KEY
 *       prints the public key as PEM, as the trust directory holds it
 * Exit codes: token.h.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "signature.h"
#include "token.h"
#include "wipe.h"

#define MAX_SCRIPT_FILE (192u * 1024u)

static char *read_text(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(MAX_SCRIPT_FILE + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_SCRIPT_FILE + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (buf == NULL || n > MAX_SCRIPT_FILE) {
        nb_free_wiped(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static EVP_PKEY *read_key(const char *path, int private_key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    /* Unbuffered: stdio would keep the private key's text in a buffer it
     * frees without wiping. */
    if (private_key && setvbuf(f, NULL, _IONBF, 0) != 0) {
        fclose(f);
        return NULL;
    }
    EVP_PKEY *key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                                : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return key;
}

/* A token that stops answering ends the run (alarm below). */
static void on_timeout(int sig)
{
    (void)sig;
    static const char msg[] = "nesbridge-sign: the PKCS#11 token did not answer in time\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(NB_EXIT_TIMEOUT);
}

/* Arms the alarm for the whole token operation, up to and including
 * nb_token_close (logout and C_Finalize can hang too). SIGALRM is
 * unblocked, since a mask inherited from the parent would disable the
 * alarm, and its handler set without SA_RESTART. Called before the module
 * is loaded, so before any thread of it: they inherit this mask. */
static void arm_timeout(void)
{
    const char *text = getenv(NB_TIMEOUT_ENV);
    char *end = NULL;
    long seconds = text != NULL ? strtol(text, &end, 10) : 60;
    if (text != NULL && (end == text || *end != '\0' || seconds < 1 || seconds > 600))
        seconds = 60;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_timeout;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    alarm((unsigned)seconds);
}

static void print_signed(const char *script, size_t len, const unsigned char *sig, size_t sig_len, const char *key_id,
                         int *rc)
{
    char *script_b64 = nb_base64_encode((const uint8_t *)script, len);
    char *sig_b64 = nb_base64_encode(sig, sig_len);
    if (script_b64 != NULL && sig_b64 != NULL) {
        printf("{\"script\":\"%s\",\"signature\":\"%s\",\"key_id\":\"%s\"}\n", script_b64, sig_b64, key_id);
        *rc = 0;
    }
    nb_free_wiped(script_b64);
    nb_free_wiped(sig_b64);
}

static int sign_with_token(const char *uri, const char *in_path)
{
    size_t len = 0;
    char *script = read_text(in_path, &len);
    if (script == NULL) {
        fprintf(stderr, "nesbridge-sign: cannot read %s\n", in_path);
        return NB_EXIT_FAILED;
    }
    arm_timeout();
    nb_token *t = NULL;
    int rc = nb_token_open(uri, 1, &t);
    unsigned char sig[1024];
    size_t sig_len = sizeof(sig);
    char key_id[NB_KEY_ID_HEX + 1];
    if (rc == NB_EXIT_OK)
        rc = nb_token_sign(t, (const uint8_t *)script, len, sig, &sig_len);
    if (rc == NB_EXIT_OK && nb_key_id(nb_crypto_direct(), nb_token_public_key(t), key_id) != 0)
        rc = NB_EXIT_FAILED;
    nb_token_close(t);
    alarm(0);
    if (rc == NB_EXIT_OK) {
        rc = NB_EXIT_FAILED;
        print_signed(script, len, sig, sig_len, key_id, &rc);
    }
    nb_free_wiped(script);
    return rc;
}

static int sign(const char *key_path, const char *in_path)
{
    if (nb_is_pkcs11_uri(key_path))
        return sign_with_token(key_path, in_path);
    EVP_PKEY *key = read_key(key_path, 1);
    size_t len = 0;
    char *script = read_text(in_path, &len);
    if (key == NULL || script == NULL) {
        fprintf(stderr, "nesbridge-sign: cannot read %s\n", key == NULL ? key_path : in_path);
        EVP_PKEY_free(key);
        nb_free_wiped(script);
        return 1;
    }
    int rc = 1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024];
    size_t sig_len = sizeof(sig);
    char key_id[NB_KEY_ID_HEX + 1];
    if (md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        nb_signature_setup(nb_crypto_direct(), pctx, key) == 0 &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)script, len) == 1 &&
        nb_key_id(nb_crypto_direct(), key, key_id) == 0) {
        print_signed(script, len, sig, sig_len, key_id, &rc);
    } else {
        fprintf(stderr, "nesbridge-sign: signing failed (P-256 or RSA >= 3072 keys)\n");
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    nb_free_wiped(script);
    return rc;
}

/* Checks a signed script as the host would: the key acceptable, the key id
 * the key's, the signature over the exact bytes. */
static const char *check_signed(EVP_PKEY *key, const cJSON *signed_script, uint8_t **script, size_t *script_len)
{
    int is_rsa = 0;
    if (!nb_signature_key_acceptable(nb_crypto_direct(), key, &is_rsa))
        return "not a P-256 or RSA >= 3072 key";
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(signed_script, "script");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(signed_script, "signature");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(signed_script, "key_id");
    size_t sig_len = 0;
    char id[NB_KEY_ID_HEX + 1];
    *script = cJSON_IsString(s) ? nb_base64_decode(s->valuestring, strlen(s->valuestring), script_len) : NULL;
    uint8_t *sig = cJSON_IsString(g) ? nb_base64_decode(g->valuestring, strlen(g->valuestring), &sig_len) : NULL;
    const char *why = NULL;
    if (*script == NULL || sig == NULL || !cJSON_IsString(k))
        why = "malformed signed script";
    else if (nb_key_id(nb_crypto_direct(), key, id) != 0 || strcmp(id, k->valuestring) != 0)
        why = "signed with another key";
    else if (!nb_signature_verify(nb_crypto_direct(), key, *script, *script_len, sig, sig_len))
        why = "bad signature";
    free(sig);
    return why;
}

static int verify(const char *pub_path, const char *in_path)
{
    EVP_PKEY *key = read_key(pub_path, 0);
    size_t len = 0;
    char *text = read_text(in_path, &len);
    cJSON *signed_script = text != NULL ? cJSON_Parse(text) : NULL;
    uint8_t *script = NULL;
    size_t script_len = 0;
    const char *why = key == NULL || signed_script == NULL ? "cannot read the key or the signed script"
                                                           : check_signed(key, signed_script, &script, &script_len);
    if (why == NULL)
        printf("ok %.*s\n", (int)script_len, (const char *)script);
    else
        fprintf(stderr, "nesbridge-sign: %s\n", why);
    nb_free_wiped(script);
    EVP_PKEY_free(key);
    cJSON_Delete(signed_script);
    nb_free_wiped(text);
    return why == NULL ? 0 : 1;
}

/* The public key of a PEM file (private or public) or of a token's key:
 * its key id, or the key itself as PEM. */
static int print_public(const char *path, int as_pem)
{
    EVP_PKEY *key = NULL;
    nb_token *t = NULL;
    int token = nb_is_pkcs11_uri(path);
    if (token) {
        arm_timeout(); /* until the token is closed, below */
        int rc = nb_token_open(path, 0, &t);
        if (rc != NB_EXIT_OK)
            return rc; /* nb_token_open closed it */
        key = nb_token_public_key(t);
    } else {
        key = read_key(path, 1);
        if (key == NULL)
            key = read_key(path, 0);
    }
    char id[NB_KEY_ID_HEX + 1];
    int ok = key != NULL && nb_key_id(nb_crypto_direct(), key, id) == 0;
    if (ok && as_pem)
        ok = PEM_write_PUBKEY(stdout, key) == 1;
    else if (ok)
        printf("%s\n", id);
    if (!ok)
        fprintf(stderr, "nesbridge-sign: cannot read a key from %s\n", path);
    if (token) {
        nb_token_close(t);
        alarm(0);
    } else {
        EVP_PKEY_free(key);
    }
    return ok ? NB_EXIT_OK : NB_EXIT_FAILED;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--key") == 0 && strcmp(argv[3], "--in") == 0)
        return sign(argv[2], argv[4]);
    if (argc == 6 && strcmp(argv[1], "--verify") == 0 && strcmp(argv[2], "--pub") == 0 &&
        strcmp(argv[4], "--in") == 0)
        return verify(argv[3], argv[5]);
    if (argc == 3 && strcmp(argv[1], "--key-id") == 0)
        return print_public(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "--public-key") == 0)
        return print_public(argv[2], 1);
    fprintf(stderr, "usage: nesbridge-sign --key KEY --in SCRIPT.json\n"
                    "       nesbridge-sign --verify --pub PUBLIC.pem --in SIGNED.json\n"
                    "       nesbridge-sign --key-id KEY\n"
                    "       nesbridge-sign --public-key KEY\n"
                    "KEY: a PEM file, or a PKCS#11 URI: pkcs11:token=T;object=O?module-path=/abs/module.so"
                    "&pin-source=file:/abs/pin\n"
                    "     (the PIN from pin-source or " NB_PIN_ENV ", never the command line)\n");
    return NB_EXIT_USAGE;
}
