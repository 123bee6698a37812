/* SPDX-License-Identifier: Apache-2.0 */
/* One table for every error the host can report: stable protocol codes,
 * their human messages, and the translation of PC/SC return codes and
 * card status words into them. */
#ifndef NB_ERRORS_H
#define NB_ERRORS_H

#include <stdint.h>

typedef enum {
    NB_OK = 0,
    /* Protocol and policy errors (ours). */
    NB_ERR_BAD_REQUEST,
    NB_ERR_UNKNOWN_COMMAND,
    NB_ERR_HELLO_REQUIRED,
    NB_ERR_VERSION_MISMATCH,
    NB_ERR_NOT_ALLOWED,
    NB_ERR_ORIGIN_NOT_ALLOWED,
    NB_ERR_CALLER_NOT_ALLOWED,
    NB_ERR_MESSAGE_TOO_LARGE,
    NB_ERR_INVALID_HANDLE,
    NB_ERR_TOO_MANY_HANDLES,
    NB_ERR_INTERNAL,
    /* Signed scripts (script.c, cmd_script.c). */
    NB_ERR_BAD_SIGNATURE,
    NB_ERR_UNKNOWN_KEY,
    NB_ERR_NONCE_REPLAYED,
    NB_ERR_NONCE_EXPIRED,
    NB_ERR_NONCE_WRONG_HANDLE,
    NB_ERR_WRONG_CARD,
    NB_ERR_SCRIPT_EXPIRED,
    NB_ERR_SCRIPT_INVALID,
    NB_ERR_SCRIPT_TOO_LONG,
    NB_ERR_SCRIPT_BAD_APDU,
    NB_ERR_PIN_REQUIRED,
    NB_ERR_PIN_FORMAT,
    NB_ERR_PIN_MISMATCH,
    NB_ERR_PIN_CANCELLED,
    NB_ERR_PIN_TIMEOUT,
    /* Reader and card errors (modelled on the W3C Web Smart Card API). */
    NB_ERR_NO_SERVICE,
    NB_ERR_NO_SMARTCARD,
    NB_ERR_NOT_READY,
    NB_ERR_NOT_TRANSACTED,
    NB_ERR_PROTO_MISMATCH,
    NB_ERR_READER_UNAVAILABLE,
    NB_ERR_REMOVED_CARD,
    NB_ERR_RESET_CARD,
    NB_ERR_SERVER_TOO_BUSY,
    NB_ERR_SHARING_VIOLATION,
    NB_ERR_SYSTEM_CANCELLED,
    NB_ERR_TIMEOUT,
    NB_ERR_UNKNOWN_READER,
    NB_ERR_UNPOWERED_CARD,
    NB_ERR_UNRESPONSIVE_CARD,
    NB_ERR_UNSUPPORTED_CARD,
    NB_ERR_UNSUPPORTED_FEATURE,
    NB_ERR_UNKNOWN_ERROR,
    NB_ERROR_COUNT
} nb_error;

/* Stable code sent to the page, e.g. "removed-card". */
const char *nb_error_name(nb_error err);
/* Default human message for the code. */
const char *nb_error_message(nb_error err);
/* Looks a code up by name; returns NB_ERROR_COUNT when unknown. */
nb_error nb_error_from_name(const char *name);

/* PC/SC return codes by value (ABI constants of pcsc-lite and WinSCard),
 * so that nothing but pcsc.c needs winscard.h. */
#define NB_SCARD_S_SUCCESS              0x00000000u
#define NB_SCARD_F_INTERNAL_ERROR       0x80100001u
#define NB_SCARD_E_CANCELLED            0x80100002u
#define NB_SCARD_E_INVALID_HANDLE       0x80100003u
#define NB_SCARD_E_INVALID_PARAMETER    0x80100004u
#define NB_SCARD_E_NO_MEMORY            0x80100006u
#define NB_SCARD_E_INSUFFICIENT_BUFFER  0x80100008u
#define NB_SCARD_E_UNKNOWN_READER       0x80100009u
#define NB_SCARD_E_TIMEOUT              0x8010000Au
#define NB_SCARD_E_SHARING_VIOLATION    0x8010000Bu
#define NB_SCARD_E_NO_SMARTCARD         0x8010000Cu
#define NB_SCARD_E_UNKNOWN_CARD         0x8010000Du
#define NB_SCARD_E_PROTO_MISMATCH       0x8010000Fu
#define NB_SCARD_E_NOT_READY            0x80100010u
#define NB_SCARD_E_INVALID_VALUE        0x80100011u
#define NB_SCARD_E_SYSTEM_CANCELLED     0x80100012u
#define NB_SCARD_F_COMM_ERROR           0x80100013u
#define NB_SCARD_F_UNKNOWN_ERROR        0x80100014u
#define NB_SCARD_E_INVALID_ATR          0x80100015u
#define NB_SCARD_E_NOT_TRANSACTED       0x80100016u
#define NB_SCARD_E_READER_UNAVAILABLE   0x80100017u
#define NB_SCARD_E_CARD_UNSUPPORTED     0x8010001Cu
#define NB_SCARD_E_NO_SERVICE           0x8010001Du
#define NB_SCARD_E_SERVICE_STOPPED      0x8010001Eu
#define NB_SCARD_E_NO_READERS_AVAILABLE 0x8010002Eu
#define NB_SCARD_E_COMM_DATA_LOST       0x8010002Fu
#define NB_SCARD_E_SERVER_TOO_BUSY      0x80100031u
/* pcsc-lite's SCARD_E_UNSUPPORTED_FEATURE is 0x8010001F, which WinSCard
 * calls SCARD_E_UNEXPECTED; WinSCard's is 0x80100022. */
#define NB_SCARD_E_UNSUPPORTED_FEATURE  0x8010001Fu
#define NB_SCARD_E_UNEXPECTED_WIN       0x8010001Fu
#define NB_SCARD_E_UNSUPPORTED_FEATURE_WIN 0x80100022u
#define NB_SCARD_W_UNSUPPORTED_CARD     0x80100065u
#define NB_SCARD_W_UNRESPONSIVE_CARD    0x80100066u
#define NB_SCARD_W_UNPOWERED_CARD       0x80100067u
#define NB_SCARD_W_RESET_CARD           0x80100068u
#define NB_SCARD_W_REMOVED_CARD         0x80100069u

/* A code the host makes itself where PC/SC gave none (an answer without a
 * status word, more data than a response may hold): it maps like the
 * PC/SC code it carries, but a reply never shows it as "pcsc", which
 * carries only what PC/SC really returned. */
#define NB_HOST_MADE 0x40000000u
#define NB_HOST_MADE_CODE(rv) ((uint32_t)(rv) | NB_HOST_MADE)

/* The PC/SC code a host-made code stands for (others unchanged). */
static inline uint32_t nb_pcsc_plain(uint32_t rv)
{
    return rv & ~NB_HOST_MADE;
}

/* Maps a PC/SC return code to a protocol code (NB_OK for success). */
nb_error nb_error_from_pcsc(uint32_t rv);
/* True when the return code means the context is gone (pcscd stopped or
 * restarted) and must be established again. */
int nb_pcsc_context_lost(uint32_t rv);

#endif
