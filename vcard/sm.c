/* SPDX-License-Identifier: Apache-2.0 */
#include "sm.h"
#include "wipe.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

int nb_aes_cmac(const uint8_t key[NB_KEY_LEN], const uint8_t *msg, size_t len,
                uint8_t mac[NB_AES_BLOCK])
{
    int rc = -1;
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
    char cipher[] = "AES-128-CBC";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t out_len = 0;
    if (ctx != NULL && EVP_MAC_init(ctx, key, NB_KEY_LEN, params) == 1 &&
        EVP_MAC_update(ctx, msg, len) == 1 &&
        EVP_MAC_final(ctx, mac, &out_len, NB_AES_BLOCK) == 1 && out_len == NB_AES_BLOCK)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(alg);
    return rc;
}

int nb_aes_cbc(int encrypt, const uint8_t key[NB_KEY_LEN], const uint8_t iv[NB_AES_BLOCK],
               const uint8_t *in, size_t len, uint8_t *out)
{
    if (len % NB_AES_BLOCK != 0 || len > 0x7FFFFFF0u)
        return -1;
    int rc = -1, n = 0, tail = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
        EVP_CipherFinal_ex(ctx, out + n, &tail) == 1 && (size_t)(n + tail) == len)
        rc = 0;
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

size_t nb_pad(uint8_t *buf, size_t len, size_t cap)
{
    size_t padded = (len / NB_AES_BLOCK + 1) * NB_AES_BLOCK;
    if (padded > cap)
        return 0;
    buf[len] = 0x80;
    memset(buf + len + 1, 0, padded - len - 1);
    return padded;
}

long nb_unpad(const uint8_t *buf, size_t len)
{
    if (len == 0 || len % NB_AES_BLOCK != 0)
        return -1;
    size_t i = len;
    while (i > 0 && buf[i - 1] == 0x00 && len - i < NB_AES_BLOCK)
        i--;
    if (i == 0 || buf[i - 1] != 0x80)
        return -1;
    return (long)(i - 1);
}

int nb_derive_admin_key(const uint8_t master[NB_KEY_LEN], const char *serial,
                        uint8_t admin[NB_KEY_LEN])
{
    static const char label[] = "nesbridge-admin";
    uint8_t msg[1 + sizeof(label) + 64];
    size_t serial_len = strlen(serial);
    if (serial_len == 0 || serial_len > 64)
        return -1;
    msg[0] = 0x01;
    memcpy(msg + 1, label, sizeof(label)); /* includes the 00 separator */
    memcpy(msg + 1 + sizeof(label), serial, serial_len);
    return nb_aes_cmac(master, msg, 1 + sizeof(label) + serial_len, admin);
}

int nb_kdf(const uint8_t seed[NB_KEY_LEN], uint32_t counter, uint8_t out[NB_KEY_LEN])
{
    uint8_t input[NB_KEY_LEN + 4];
    uint8_t digest[32];
    unsigned int digest_len = 0;
    memcpy(input, seed, NB_KEY_LEN);
    input[16] = (uint8_t)(counter >> 24);
    input[17] = (uint8_t)(counter >> 16);
    input[18] = (uint8_t)(counter >> 8);
    input[19] = (uint8_t)counter;
    int rc = EVP_Digest(input, sizeof(input), digest, &digest_len, EVP_sha256(), NULL) == 1 ? 0 : -1;
    memcpy(out, digest, NB_KEY_LEN);
    nb_wipe(digest, sizeof(digest));
    nb_wipe(input, sizeof(input));
    return rc;
}

/* E = AES-CBC(K_enc, 0, plain32); M = CMAC(K_mac, E)[0..8]. */
static int seal32(const uint8_t admin[NB_KEY_LEN], const uint8_t plain[32], uint8_t out[NB_AUTH_LEN])
{
    uint8_t k_enc[NB_KEY_LEN], k_mac[NB_KEY_LEN], mac[NB_AES_BLOCK];
    static const uint8_t zero_iv[NB_AES_BLOCK] = {0};
    int rc = -1;
    if (nb_kdf(admin, 1, k_enc) == 0 && nb_kdf(admin, 2, k_mac) == 0 &&
        nb_aes_cbc(1, k_enc, zero_iv, plain, 32, out) == 0 && nb_aes_cmac(k_mac, out, 32, mac) == 0) {
        memcpy(out + 32, mac, NB_MAC_LEN);
        rc = 0;
    }
    nb_wipe(k_enc, sizeof(k_enc));
    nb_wipe(k_mac, sizeof(k_mac));
    return rc;
}

/* Checks M and decrypts E into plain32. */
static int open32(const uint8_t admin[NB_KEY_LEN], const uint8_t in[NB_AUTH_LEN], uint8_t plain[32])
{
    uint8_t k_enc[NB_KEY_LEN], k_mac[NB_KEY_LEN], mac[NB_AES_BLOCK];
    static const uint8_t zero_iv[NB_AES_BLOCK] = {0};
    int rc = -1;
    if (nb_kdf(admin, 1, k_enc) == 0 && nb_kdf(admin, 2, k_mac) == 0 &&
        nb_aes_cmac(k_mac, in, 32, mac) == 0 && CRYPTO_memcmp(mac, in + 32, NB_MAC_LEN) == 0 &&
        nb_aes_cbc(0, k_enc, zero_iv, in, 32, plain) == 0)
        rc = 0;
    nb_wipe(k_enc, sizeof(k_enc));
    nb_wipe(k_mac, sizeof(k_mac));
    return rc;
}

int nb_auth_terminal_request(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                             const uint8_t rnd_ifd[NB_RND_LEN], const uint8_t k_ifd[NB_KEY_LEN],
                             uint8_t out[NB_AUTH_LEN])
{
    uint8_t s[32];
    memcpy(s, rnd_ifd, NB_RND_LEN);
    memcpy(s + 8, rnd_ic, NB_RND_LEN);
    memcpy(s + 16, k_ifd, NB_KEY_LEN);
    int rc = seal32(admin, s, out);
    nb_wipe(s, sizeof(s));
    return rc;
}

int nb_auth_card_key(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                     const uint8_t rnd_ifd[NB_RND_LEN], uint8_t k_ic[NB_KEY_LEN])
{
    uint8_t msg[1 + 2 * NB_RND_LEN];
    msg[0] = 0x02;
    memcpy(msg + 1, rnd_ic, NB_RND_LEN);
    memcpy(msg + 1 + NB_RND_LEN, rnd_ifd, NB_RND_LEN);
    return nb_aes_cmac(admin, msg, sizeof(msg), k_ic);
}

int nb_auth_card_answer(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                        const uint8_t request[NB_AUTH_LEN], uint8_t out[NB_AUTH_LEN],
                        uint8_t k_ifd[NB_KEY_LEN], uint8_t k_ic[NB_KEY_LEN])
{
    uint8_t s[32], r[32];
    int rc = -1;
    if (open32(admin, request, s) == 0 && CRYPTO_memcmp(s + 8, rnd_ic, NB_RND_LEN) == 0 &&
        nb_auth_card_key(admin, rnd_ic, s, k_ic) == 0) {
        memcpy(r, rnd_ic, NB_RND_LEN);
        memcpy(r + 8, s, NB_RND_LEN); /* RND.IFD */
        memcpy(r + 16, k_ic, NB_KEY_LEN);
        memcpy(k_ifd, s + 16, NB_KEY_LEN);
        rc = seal32(admin, r, out);
    }
    nb_wipe(s, sizeof(s));
    nb_wipe(r, sizeof(r));
    return rc;
}

int nb_auth_terminal_check(const uint8_t admin[NB_KEY_LEN], const uint8_t rnd_ic[NB_RND_LEN],
                           const uint8_t rnd_ifd[NB_RND_LEN], const uint8_t answer[NB_AUTH_LEN],
                           uint8_t k_ic[NB_KEY_LEN])
{
    uint8_t r[32];
    int rc = -1;
    if (open32(admin, answer, r) == 0 && CRYPTO_memcmp(r, rnd_ic, NB_RND_LEN) == 0 &&
        CRYPTO_memcmp(r + 8, rnd_ifd, NB_RND_LEN) == 0) {
        memcpy(k_ic, r + 16, NB_KEY_LEN);
        rc = 0;
    }
    nb_wipe(r, sizeof(r));
    return rc;
}

int nb_sm_start(nb_sm_session *sm, const uint8_t k_ifd[NB_KEY_LEN], const uint8_t k_ic[NB_KEY_LEN])
{
    uint8_t seed[NB_KEY_LEN];
    for (size_t i = 0; i < NB_KEY_LEN; i++)
        seed[i] = k_ifd[i] ^ k_ic[i];
    memset(sm, 0, sizeof(*sm));
    int rc = nb_kdf(seed, 1, sm->k_enc) == 0 && nb_kdf(seed, 2, sm->k_mac) == 0 ? 0 : -1;
    nb_wipe(seed, sizeof(seed));
    sm->active = rc == 0;
    return rc;
}

void nb_sm_end(nb_sm_session *sm)
{
    nb_wipe(sm, sizeof(*sm));
}

static void ssc_increment(nb_sm_session *sm)
{
    for (size_t i = NB_AES_BLOCK; i-- > 0;)
        if (++sm->ssc[i] != 0)
            break;
}

/* MAC over pad(SSC || parts), first 8 bytes of the CMAC. */
static int sm_mac(const nb_sm_session *sm, const uint8_t *parts, size_t len, uint8_t mac[NB_MAC_LEN])
{
    uint8_t buf[NB_AES_BLOCK + 512];
    uint8_t full[NB_AES_BLOCK];
    if (len > sizeof(buf) - 2 * NB_AES_BLOCK)
        return -1;
    memcpy(buf, sm->ssc, NB_AES_BLOCK);
    memcpy(buf + NB_AES_BLOCK, parts, len);
    size_t n = nb_pad(buf, NB_AES_BLOCK + len, sizeof(buf));
    if (n == 0 || nb_aes_cmac(sm->k_mac, buf, n, full) != 0)
        return -1;
    memcpy(mac, full, NB_MAC_LEN);
    return 0;
}

/* IV for DO87 = AES-ECB(KS_enc, SSC), i.e. CBC of one block with IV 0. */
static int sm_crypt(const nb_sm_session *sm, int encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
    static const uint8_t zero_iv[NB_AES_BLOCK] = {0};
    uint8_t iv[NB_AES_BLOCK];
    if (nb_aes_cbc(1, sm->k_enc, zero_iv, sm->ssc, NB_AES_BLOCK, iv) != 0)
        return -1;
    return nb_aes_cbc(encrypt, sm->k_enc, iv, in, len, out);
}

/* Writes a BER-TLV length; returns bytes written. */
static size_t put_length(uint8_t *out, size_t len)
{
    if (len < 0x80) {
        out[0] = (uint8_t)len;
        return 1;
    }
    if (len <= 0xFF) {
        out[0] = 0x81;
        out[1] = (uint8_t)len;
        return 2;
    }
    out[0] = 0x82;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    return 3;
}

/* Reads a BER-TLV length at *pos; -1 when malformed or past end. */
static long get_length(const uint8_t *in, size_t end, size_t *pos)
{
    if (*pos >= end)
        return -1;
    size_t len = in[(*pos)++];
    if (len == 0x81 || len == 0x82) {
        size_t bytes = len - 0x80;
        if (*pos + bytes > end)
            return -1;
        len = 0;
        for (size_t i = 0; i < bytes; i++)
            len = (len << 8) | in[(*pos)++];
    } else if (len > 0x80) {
        return -1;
    }
    if (*pos + len > end)
        return -1;
    return (long)len;
}

/* Builds DO87 from plain data into out; returns its length or 0. */
static size_t build_do87(const nb_sm_session *sm, const uint8_t *data, size_t len, uint8_t *out,
                         size_t cap)
{
    uint8_t padded[272];
    if (len > 255 || cap < 4 + sizeof(padded))
        return 0;
    memcpy(padded, data, len);
    size_t n = nb_pad(padded, len, sizeof(padded));
    size_t pos = 0;
    out[pos++] = 0x87;
    pos += put_length(out + pos, n + 1);
    out[pos++] = 0x01;
    int rc = sm_crypt(sm, 1, padded, n, out + pos);
    nb_wipe(padded, sizeof(padded));
    return rc == 0 ? pos + n : 0;
}

/* Opens DO87 contents (indicator + cryptogram) into data. */
static int open_do87(const nb_sm_session *sm, const uint8_t *value, size_t len, uint8_t *data,
                     size_t cap, size_t *data_len)
{
    uint8_t plain[272];
    if (len < 1 + NB_AES_BLOCK || value[0] != 0x01 || (len - 1) > sizeof(plain))
        return -1;
    if (sm_crypt(sm, 0, value + 1, len - 1, plain) != 0)
        return -1;
    long n = nb_unpad(plain, len - 1);
    int rc = -1;
    if (n >= 0 && (size_t)n <= cap) {
        memcpy(data, plain, (size_t)n);
        *data_len = (size_t)n;
        rc = 0;
    }
    nb_wipe(plain, sizeof(plain));
    return rc;
}

int nb_sm_wrap_command(nb_sm_session *sm, const uint8_t *apdu, size_t len, uint8_t *out,
                       size_t cap, size_t *out_len)
{
    if (!sm->active || len < 4 || cap < 300)
        return -1;
    size_t lc = 0, le_present = 0;
    uint8_t le = 0;
    const uint8_t *data = NULL;
    if (len == 5) {
        le_present = 1;
        le = apdu[4];
    } else if (len > 5) {
        lc = apdu[4];
        data = apdu + 5;
        if (lc == 0 || (len != 5 + lc && len != 6 + lc))
            return -1;
        if (len == 6 + lc) {
            le_present = 1;
            le = apdu[len - 1];
        }
    }
    ssc_increment(sm);
    uint8_t body[300];
    size_t pos = 0;
    /* MAC input starts with the padded header. */
    uint8_t mac_input[NB_AES_BLOCK + 300];
    uint8_t header[NB_AES_BLOCK];
    memcpy(header, apdu, 4);
    header[0] |= 0x0C;
    size_t header_len = nb_pad(header, 4, sizeof(header));
    if (lc > 0) {
        size_t n = build_do87(sm, data, lc, body + pos, sizeof(body) - pos);
        if (n == 0)
            return -1;
        pos += n;
    }
    if (le_present) {
        body[pos++] = 0x97;
        body[pos++] = 0x01;
        body[pos++] = le;
    }
    memcpy(mac_input, header, header_len);
    memcpy(mac_input + header_len, body, pos);
    uint8_t mac[NB_MAC_LEN];
    if (sm_mac(sm, mac_input, header_len + pos, mac) != 0)
        return -1;
    body[pos++] = 0x8E;
    body[pos++] = NB_MAC_LEN;
    memcpy(body + pos, mac, NB_MAC_LEN);
    pos += NB_MAC_LEN;
    if (pos > 255)
        return -1;
    memcpy(out, header, 4);
    out[4] = (uint8_t)pos;
    memcpy(out + 5, body, pos);
    out[5 + pos] = 0x00;
    *out_len = 6 + pos;
    return 0;
}

int nb_sm_unwrap_command(nb_sm_session *sm, const uint8_t *apdu, size_t len, uint8_t *plain,
                         size_t cap, size_t *plain_len, uint16_t *sw)
{
    *sw = 0x6987;
    if (len < 6 || cap < 5 + 255 + 1)
        return -1;
    size_t lc = apdu[4];
    if (lc == 0 || (len != 5 + lc && len != 6 + lc))
        return -1;
    const uint8_t *d = apdu + 5;
    size_t pos = 0;
    const uint8_t *do87 = NULL, *do97 = NULL, *do8e = NULL;
    size_t do87_len = 0, do97_len = 0, mac_end = 0;
    *sw = 0x6988;
    while (pos < lc) {
        uint8_t tag = d[pos++];
        long l = get_length(d, lc, &pos);
        if (l < 0)
            return -1;
        if (tag == 0x87 && do87 == NULL && do97 == NULL && do8e == NULL) {
            do87 = d + pos;
            do87_len = (size_t)l;
        } else if (tag == 0x97 && do97 == NULL && do8e == NULL) {
            do97 = d + pos;
            do97_len = (size_t)l;
        } else if (tag == 0x8E && do8e == NULL) {
            mac_end = pos - 2;
            do8e = d + pos;
            if (l != NB_MAC_LEN)
                return -1;
        } else {
            return -1;
        }
        pos += (size_t)l;
    }
    if (do8e == NULL) {
        *sw = 0x6987;
        return -1;
    }
    if (do8e + NB_MAC_LEN != d + lc || (do97 != NULL && do97_len != 1))
        return -1;
    ssc_increment(sm);
    uint8_t mac_input[NB_AES_BLOCK + 300];
    uint8_t header[NB_AES_BLOCK];
    memcpy(header, apdu, 4);
    size_t header_len = nb_pad(header, 4, sizeof(header));
    memcpy(mac_input, header, header_len);
    memcpy(mac_input + header_len, d, mac_end);
    uint8_t mac[NB_MAC_LEN];
    if (sm_mac(sm, mac_input, header_len + mac_end, mac) != 0 ||
        CRYPTO_memcmp(mac, do8e, NB_MAC_LEN) != 0)
        return -1;
    size_t data_len = 0;
    uint8_t data[256];
    if (do87 != NULL && open_do87(sm, do87, do87_len, data, sizeof(data), &data_len) != 0)
        return -1;
    if (data_len > 255)
        return -1;
    size_t out = 0;
    plain[out++] = (uint8_t)(apdu[0] & ~0x0C);
    plain[out++] = apdu[1];
    plain[out++] = apdu[2];
    plain[out++] = apdu[3];
    if (data_len > 0) {
        plain[out++] = (uint8_t)data_len;
        memcpy(plain + out, data, data_len);
        out += data_len;
    }
    if (do97 != NULL)
        plain[out++] = do97[0];
    nb_wipe(data, sizeof(data));
    *plain_len = out;
    *sw = 0x9000;
    return 0;
}

int nb_sm_wrap_response(nb_sm_session *sm, const uint8_t *data, size_t len, uint16_t sw,
                        uint8_t *out, size_t cap, size_t *out_len)
{
    if (cap < 300 || len > 255)
        return -1;
    ssc_increment(sm);
    size_t pos = 0;
    if (len > 0) {
        size_t n = build_do87(sm, data, len, out, cap);
        if (n == 0)
            return -1;
        pos += n;
    }
    out[pos++] = 0x99;
    out[pos++] = 0x02;
    out[pos++] = (uint8_t)(sw >> 8);
    out[pos++] = (uint8_t)sw;
    uint8_t mac[NB_MAC_LEN];
    if (sm_mac(sm, out, pos, mac) != 0)
        return -1;
    out[pos++] = 0x8E;
    out[pos++] = NB_MAC_LEN;
    memcpy(out + pos, mac, NB_MAC_LEN);
    pos += NB_MAC_LEN;
    out[pos++] = (uint8_t)(sw >> 8);
    out[pos++] = (uint8_t)sw;
    *out_len = pos;
    return 0;
}

int nb_sm_unwrap_response(nb_sm_session *sm, const uint8_t *resp, size_t len, uint8_t *data,
                          size_t cap, size_t *data_len, uint16_t *sw)
{
    *data_len = 0;
    if (len < 2 + 4 + 10)
        return -1;
    size_t end = len - 2;
    size_t pos = 0;
    const uint8_t *do87 = NULL, *do99 = NULL, *do8e = NULL;
    size_t do87_len = 0, mac_end = 0;
    while (pos < end) {
        uint8_t tag = resp[pos++];
        long l = get_length(resp, end, &pos);
        if (l < 0)
            return -1;
        if (tag == 0x87 && do87 == NULL) {
            do87 = resp + pos;
            do87_len = (size_t)l;
        } else if (tag == 0x99 && l == 2) {
            do99 = resp + pos;
        } else if (tag == 0x8E && l == NB_MAC_LEN) {
            mac_end = pos - 2;
            do8e = resp + pos;
        } else {
            return -1;
        }
        pos += (size_t)l;
    }
    if (do99 == NULL || do8e == NULL)
        return -1;
    ssc_increment(sm);
    uint8_t mac[NB_MAC_LEN];
    if (sm_mac(sm, resp, mac_end, mac) != 0 || CRYPTO_memcmp(mac, do8e, NB_MAC_LEN) != 0)
        return -1;
    if (do87 != NULL && open_do87(sm, do87, do87_len, data, cap, data_len) != 0)
        return -1;
    *sw = (uint16_t)((do99[0] << 8) | do99[1]);
    return 0;
}
