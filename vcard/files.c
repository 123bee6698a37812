/* SPDX-License-Identifier: Apache-2.0 */
#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint16_t fid;
    nb_card_file parent;
    int is_df;
} file_info;

static const file_info files[NB_FILE_COUNT] = {
    [NB_FILE_MF] = {0x3F00, NB_FILE_MF, 1},
    [NB_FILE_EF_DIR] = {0x2F00, NB_FILE_MF, 0},
    [NB_FILE_EF_SN] = {0x2F02, NB_FILE_MF, 0},
    [NB_FILE_DF_PKCS15] = {0x5015, NB_FILE_MF, 1},
    [NB_FILE_EF_ODF] = {0x5031, NB_FILE_DF_PKCS15, 0},
    [NB_FILE_EF_TOKENINFO] = {0x5032, NB_FILE_DF_PKCS15, 0},
    [NB_FILE_EF_CDF] = {0x4404, NB_FILE_DF_PKCS15, 0},
    [NB_FILE_EF_CERT] = {0xC000, NB_FILE_DF_PKCS15, 0},
};

static const uint8_t pkcs15_name[] = {'P', 'K', 'C', 'S', '-', '1', '5'};
static const uint8_t pkcs15_aid[] = {0xA0, 0x00, 0x00, 0x00, 0x63, 0x50,
                                     0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35};

/* EF.DIR: one application template: AID, label "NES", path 3F00 5015. */
static const uint8_t ef_dir[] = {
    0x61, 0x19, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D,
    0x31, 0x35, 0x50, 0x03, 'N',  'E',  'S',  0x51, 0x04, 0x3F, 0x00, 0x50, 0x15,
};

/* EF.ODF: certificates [4] -> path 3F00 5015 4404 (EF.CDF). */
static const uint8_t ef_odf[] = {0xA4, 0x0A, 0x30, 0x08, 0x04, 0x06,
                                 0x3F, 0x00, 0x50, 0x15, 0x44, 0x04};

/* EF.CDF: one X.509 certificate object, label "NES sertifikasi", iD 01,
 * value at path 3F00 5015 C000 (EF.CERT). */
static const uint8_t ef_cdf[] = {
    0x30, 0x26, 0x30, 0x11, 0x0C, 0x0F, 'N',  'E',  'S',  ' ',  's',  'e',  'r',  't',
    'i',  'f',  'i',  'k',  'a',  's',  'i',  0x30, 0x03, 0x04, 0x01, 0x01, 0xA1, 0x0C,
    0x30, 0x0A, 0x30, 0x08, 0x04, 0x06, 0x3F, 0x00, 0x50, 0x15, 0xC0, 0x00,
};

static const char manufacturer[] = "nesbridge";
static const char token_label[] = "NES";

uint16_t nb_file_id(nb_card_file f)
{
    return files[f].fid;
}

int nb_file_is_df(nb_card_file f)
{
    return files[f].is_df;
}

nb_card_file nb_file_parent(nb_card_file f)
{
    return files[f].parent;
}

int nb_file_child(nb_card_file df, uint16_t fid, nb_card_file *out)
{
    for (int i = 0; i < NB_FILE_COUNT; i++) {
        if (i != NB_FILE_MF && files[i].parent == df && files[i].fid == fid) {
            *out = (nb_card_file)i;
            return 0;
        }
    }
    return -1;
}

int nb_file_by_name(const uint8_t *name, size_t len, nb_card_file *out)
{
    if ((len == sizeof(pkcs15_name) && memcmp(name, pkcs15_name, len) == 0) ||
        (len == sizeof(pkcs15_aid) && memcmp(name, pkcs15_aid, len) == 0)) {
        *out = NB_FILE_DF_PKCS15;
        return 0;
    }
    return -1;
}

/* EF.TokenInfo: version 0, serialNumber (the serial's ASCII bytes),
 * manufacturerID, label [0], tokenflags (none). */
static size_t token_info(const char *serial, uint8_t *out, size_t cap)
{
    size_t s = strlen(serial), m = sizeof(manufacturer) - 1, l = sizeof(token_label) - 1;
    size_t body = 3 + (2 + s) + (2 + m) + (2 + l) + 3;
    if (body > 127 || 2 + body > cap)
        return 0;
    size_t n = 0;
    out[n++] = 0x30;
    out[n++] = (uint8_t)body;
    out[n++] = 0x02, out[n++] = 0x01, out[n++] = 0x00;
    out[n++] = 0x04, out[n++] = (uint8_t)s;
    memcpy(out + n, serial, s), n += s;
    out[n++] = 0x0C, out[n++] = (uint8_t)m;
    memcpy(out + n, manufacturer, m), n += m;
    out[n++] = 0x80, out[n++] = (uint8_t)l;
    memcpy(out + n, token_label, l), n += l;
    out[n++] = 0x03, out[n++] = 0x01, out[n++] = 0x00;
    return n;
}

const uint8_t *nb_file_content(nb_card_file f, const nb_file_source *src, uint8_t *scratch,
                               size_t cap, size_t *len)
{
    *len = 0;
    switch (f) {
    case NB_FILE_EF_DIR:
        *len = sizeof(ef_dir);
        return ef_dir;
    case NB_FILE_EF_SN:
        *len = strlen(src->serial);
        return (const uint8_t *)src->serial;
    case NB_FILE_EF_ODF:
        *len = sizeof(ef_odf);
        return ef_odf;
    case NB_FILE_EF_TOKENINFO:
        *len = token_info(src->serial, scratch, cap);
        return *len > 0 ? scratch : NULL;
    case NB_FILE_EF_CDF:
        *len = sizeof(ef_cdf);
        return ef_cdf;
    case NB_FILE_EF_CERT:
        *len = src->cert != NULL ? src->cert_len : 0;
        return src->cert;
    default:
        return NULL;
    }
}

uint8_t nb_file_security(nb_card_file f)
{
    return files[f].is_df ? 0x02 : 0x12; /* valid; EFs also readable */
}

size_t nb_file_fci(nb_card_file f, size_t size, uint8_t security, uint8_t *out, size_t cap)
{
    uint8_t fci[2 + 4 + 3 + 4 + 2 + sizeof(pkcs15_name) + 3];
    size_t n = 0;
    fci[n++] = 0x6F;
    fci[n++] = 0;
    fci[n++] = 0x83, fci[n++] = 0x02;
    fci[n++] = (uint8_t)(files[f].fid >> 8), fci[n++] = (uint8_t)files[f].fid;
    fci[n++] = 0x82, fci[n++] = 0x01;
    fci[n++] = files[f].is_df ? 0x38 : 0x01; /* DF, or transparent working EF */
    if (!files[f].is_df) {
        fci[n++] = 0x80, fci[n++] = 0x02;
        fci[n++] = (uint8_t)(size >> 8), fci[n++] = (uint8_t)size;
    } else if (f == NB_FILE_DF_PKCS15) {
        fci[n++] = 0x84, fci[n++] = (uint8_t)sizeof(pkcs15_name);
        memcpy(fci + n, pkcs15_name, sizeof(pkcs15_name));
        n += sizeof(pkcs15_name);
    }
    fci[n++] = 0x90, fci[n++] = 0x01, fci[n++] = security;
    fci[1] = (uint8_t)(n - 2);
    if (n > cap)
        return 0;
    memcpy(out, fci, n);
    return n;
}

void nb_file_directory_entry(nb_card_file f, size_t size, uint8_t security,
                             uint8_t out[NB_DIRECTORY_ENTRY])
{
    memset(out, 0, NB_DIRECTORY_ENTRY);
    out[0] = files[f].is_df ? 0x3D : 0x2F;
    out[1] = (uint8_t)(files[f].fid >> 8);
    out[2] = (uint8_t)files[f].fid;
    out[3] = (uint8_t)(size >> 8);
    out[4] = (uint8_t)size;
    out[5] = security;
}

uint8_t *nb_file_read_cert(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(NB_CERT_MAX);
    size_t n = buf != NULL ? fread(buf, 1, NB_CERT_MAX, f) : 0;
    int too_big = fgetc(f) != EOF;
    fclose(f);
    if (buf == NULL || too_big) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
