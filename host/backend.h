/* SPDX-License-Identifier: Apache-2.0 */
/* The seam between the host's logic and the PC/SC service. pcsc.c fills it
 * with pcsc-lite (the only file that includes winscard.h); unit tests fill
 * it with a fake. Every function returns a PC/SC return code by value
 * (see NB_SCARD_* in errors.h). Values of the constants below are the
 * PC/SC ones, so the real backend passes them through. */
#ifndef NB_BACKEND_H
#define NB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#define NB_MAX_ATR 33
#define NB_PNP_READER "\\\\?PnP?\\Notification"

/* Reader states (SCARD_STATE_*). */
#define NB_STATE_UNAWARE 0x0000u
#define NB_STATE_IGNORE 0x0001u
#define NB_STATE_CHANGED 0x0002u
#define NB_STATE_UNKNOWN 0x0004u
#define NB_STATE_UNAVAILABLE 0x0008u
#define NB_STATE_EMPTY 0x0010u
#define NB_STATE_PRESENT 0x0020u
#define NB_STATE_ATRMATCH 0x0040u
#define NB_STATE_EXCLUSIVE 0x0080u
#define NB_STATE_INUSE 0x0100u
#define NB_STATE_MUTE 0x0200u
#define NB_STATE_UNPOWERED 0x0400u

/* Card states from status (pcsc-lite's SCARD_ABSENT ... SCARD_SPECIFIC). */
#define NB_CARD_UNKNOWN 0x0001u
#define NB_CARD_ABSENT 0x0002u
#define NB_CARD_PRESENT 0x0004u
#define NB_CARD_SWALLOWED 0x0008u
#define NB_CARD_POWERED 0x0010u
#define NB_CARD_NEGOTIABLE 0x0020u
#define NB_CARD_SPECIFIC 0x0040u

/* Share modes, protocols, dispositions. */
#define NB_SHARE_EXCLUSIVE 1u
#define NB_SHARE_SHARED 2u
#define NB_SHARE_DIRECT 3u
#define NB_PROTOCOL_T0 1u
#define NB_PROTOCOL_T1 2u
#define NB_LEAVE_CARD 0u
#define NB_RESET_CARD 1u
#define NB_UNPOWER_CARD 2u

/* CM_IOCTL_GET_FEATURE_REQUEST (PC/SC part 10): SCARD_CTL_CODE(3400), whose
 * value differs between pcsc-lite and Windows. */
#ifdef _WIN32
#define NB_IOCTL_GET_FEATURE_REQUEST ((0x31u << 16) | (3400u << 2))
#else
#define NB_IOCTL_GET_FEATURE_REQUEST (0x42000000u + 3400u)
#endif
#define NB_FEATURE_VERIFY_PIN_DIRECT 0x06u
#define NB_FEATURE_MODIFY_PIN_DIRECT 0x07u

typedef uint64_t nb_context;
typedef uint64_t nb_card;

typedef struct {
    const char *reader;     /* in */
    uint32_t current_state; /* in: what the caller knows */
    uint32_t event_state;   /* out */
    uint8_t atr[NB_MAX_ATR];/* out */
    size_t atr_len;         /* out */
} nb_reader_state;

typedef struct nb_backend {
    void *self;
    uint32_t (*establish)(void *self, nb_context *ctx);
    uint32_t (*release)(void *self, nb_context ctx);
    /* Fills buf with the reader names as a double-NUL-terminated list;
     * *len is the capacity in, the used length out. */
    uint32_t (*list_readers)(void *self, nb_context ctx, char *buf, size_t *len);
    uint32_t (*get_status_change)(void *self, nb_context ctx, uint32_t timeout_ms,
                                  nb_reader_state *states, size_t count);
    /* May be called from another thread while get_status_change blocks. */
    uint32_t (*cancel)(void *self, nb_context ctx);
    uint32_t (*connect)(void *self, nb_context ctx, const char *reader, uint32_t share,
                        uint32_t protocols, nb_card *card, uint32_t *active_protocol);
    uint32_t (*disconnect)(void *self, nb_card card, uint32_t disposition);
    uint32_t (*status)(void *self, nb_card card, uint32_t *state, uint32_t *protocol,
                       uint8_t *atr, size_t *atr_len);
    uint32_t (*begin_transaction)(void *self, nb_card card);
    uint32_t (*end_transaction)(void *self, nb_card card, uint32_t disposition);
    /* *resp_len is the capacity in, the response length out. */
    uint32_t (*transmit)(void *self, nb_card card, uint32_t protocol, const uint8_t *cmd,
                         size_t cmd_len, uint8_t *resp, size_t *resp_len);
    uint32_t (*control)(void *self, nb_card card, uint32_t code, const uint8_t *in,
                        size_t in_len, uint8_t *out, size_t *out_len);
} nb_backend;

/* The pcsc-lite backend (pcsc.c). */
const nb_backend *nb_pcsc_backend(void);

#endif
