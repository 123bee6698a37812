/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual card's files: the tree, what each holds, and how AKİS
 * describes them (FCI with the security byte, DIRECTORY entries). The
 * holder's certificate sits where a PKCS#15 reader looks: EF.DIR names
 * the PKCS#15 application, its ODF points to a CDF, the CDF to EF.CERT. */
#ifndef NB_VCARD_FILES_H
#define NB_VCARD_FILES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    NB_FILE_MF,
    NB_FILE_EF_DIR,
    NB_FILE_EF_SN,
    NB_FILE_DF_PKCS15,
    NB_FILE_EF_ODF,
    NB_FILE_EF_TOKENINFO,
    NB_FILE_EF_CDF,
    NB_FILE_EF_CERT,
    NB_FILE_COUNT
} nb_card_file;

#define NB_DIRECTORY_ENTRY 20 /* AKİS DIRECTORY: 20 bytes per file */

/* A file's identifier, parent and kind. */
uint16_t nb_file_id(nb_card_file f);
int nb_file_is_df(nb_card_file f);
nb_card_file nb_file_parent(nb_card_file f);

/* The child of df with this identifier; returns 0 and sets *out, or -1. */
int nb_file_child(nb_card_file df, uint16_t fid, nb_card_file *out);
/* The DF of this name (the PKCS#15 application: "PKCS-15" or its AID). */
int nb_file_by_name(const uint8_t *name, size_t len, nb_card_file *out);

/* What the card needs to fill its files. */
typedef struct {
    const char *serial;
    const uint8_t *cert;
    size_t cert_len;
} nb_file_source;

/* A file's contents: a pointer to them (into scratch for the files the
 * card builds, such as EF.TokenInfo with its serial) and their length.
 * NULL with *len 0 for a DF or an empty file. */
const uint8_t *nb_file_content(nb_card_file f, const nb_file_source *src, uint8_t *scratch,
                               size_t cap, size_t *len);

/* The FCI AKİS answers to SELECT (P2=00): 6F L, 83 fid, 82 type, 80 size
 * (EF), 84 name (DF), 90 the security byte. Returns its length, 0 when
 * cap is too small. */
size_t nb_file_fci(nb_card_file f, size_t size, uint8_t security, uint8_t *out, size_t cap);

/* One DIRECTORY entry (20 bytes): 2F (EF) or 3D (DF), fid, then our own
 * size (2 bytes) and security byte, zeros. */
void nb_file_directory_entry(nb_card_file f, size_t size, uint8_t security,
                             uint8_t out[NB_DIRECTORY_ENTRY]);

/* The security byte's file bits (0x02 valid, 0x10 read); the card adds
 * the PIN bits (0x40 a wrong PIN once, 0x80 the last try). */
uint8_t nb_file_security(nb_card_file f);

/* The card's certificate (EF.CERT) from a DER file of at most
 * NB_CERT_MAX bytes, malloc'd; NULL when it cannot be read or is larger. */
#define NB_CERT_MAX 16384
uint8_t *nb_file_read_cert(const char *path, size_t *len);

#endif
