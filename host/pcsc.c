/* SPDX-License-Identifier: Apache-2.0 */
/* The PC/SC backend: the only file that includes winscard.h (pcsc-lite's,
 * or the Windows SDK's as mingw-w64 ships it). It only converts types; all
 * decisions are made above the backend seam. */
#include "backend.h"

#include <string.h>

#ifdef _WIN32
#include <winscard.h>
#define MAX_ATR_SIZE SCARD_ATR_LENGTH
#define CM_IOCTL_GET_FEATURE_REQUEST SCARD_CTL_CODE(3400)
#else
#include <PCSC/reader.h>
#include <PCSC/winscard.h>
#endif

#include "errors.h"

/* The seam's constants are PC/SC's own values; make sure of it. */
_Static_assert(NB_STATE_PRESENT == SCARD_STATE_PRESENT, "state values");
_Static_assert(NB_STATE_EMPTY == SCARD_STATE_EMPTY, "state values");
_Static_assert(NB_STATE_MUTE == SCARD_STATE_MUTE, "state values");
#ifndef _WIN32
_Static_assert(NB_CARD_PRESENT == SCARD_PRESENT, "card state values");
_Static_assert(NB_CARD_SPECIFIC == SCARD_SPECIFIC, "card state values");
#endif
_Static_assert(NB_SHARE_SHARED == SCARD_SHARE_SHARED, "share values");
_Static_assert(NB_SHARE_EXCLUSIVE == SCARD_SHARE_EXCLUSIVE, "share values");
_Static_assert(NB_SHARE_DIRECT == SCARD_SHARE_DIRECT, "share values");
_Static_assert(NB_PROTOCOL_T1 == SCARD_PROTOCOL_T1, "protocol values");
_Static_assert(NB_UNPOWER_CARD == SCARD_UNPOWER_CARD, "disposition values");
_Static_assert(NB_IOCTL_GET_FEATURE_REQUEST == CM_IOCTL_GET_FEATURE_REQUEST, "ioctl value");
_Static_assert(NB_MAX_ATR == MAX_ATR_SIZE, "ATR size");
_Static_assert((uint32_t)SCARD_W_REMOVED_CARD == NB_SCARD_W_REMOVED_CARD, "rv values");

#define RV(x) ((uint32_t)(x))

/* SCardStatus's state: pcsc-lite gives bits (the seam's values); Windows
 * gives one number, SCARD_UNKNOWN (0) up to SCARD_SPECIFIC (6), each
 * implying the ones before it that still hold. They become the same bits,
 * so that a page finds "present" in the status on both. */
static uint32_t card_state(DWORD state)
{
#ifdef _WIN32
    static const uint32_t bits[] = {
        NB_CARD_UNKNOWN,
        NB_CARD_ABSENT,
        NB_CARD_PRESENT,
        NB_CARD_PRESENT | NB_CARD_SWALLOWED,
        NB_CARD_PRESENT | NB_CARD_POWERED,
        NB_CARD_PRESENT | NB_CARD_POWERED | NB_CARD_NEGOTIABLE,
        NB_CARD_PRESENT | NB_CARD_POWERED | NB_CARD_SPECIFIC,
    };
    return state < sizeof(bits) / sizeof(bits[0]) ? bits[state] : NB_CARD_UNKNOWN;
#else
    return (uint32_t)state;
#endif
}
#define CTX(x) ((SCARDCONTEXT)(x))
#define CARD(x) ((SCARDHANDLE)(x))

static uint32_t pcsc_establish(void *self, nb_context *ctx)
{
    (void)self;
    SCARDCONTEXT c = 0;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_USER, NULL, NULL, &c);
    *ctx = (nb_context)c;
    return RV(rv);
}

static uint32_t pcsc_release(void *self, nb_context ctx)
{
    (void)self;
    return RV(SCardReleaseContext(CTX(ctx)));
}

static uint32_t pcsc_list_readers(void *self, nb_context ctx, char *buf, size_t *len)
{
    (void)self;
    DWORD n = (DWORD)*len;
    LONG rv = SCardListReaders(CTX(ctx), NULL, buf, &n);
    *len = rv == SCARD_S_SUCCESS ? (size_t)n : 0;
    return RV(rv);
}

static uint32_t pcsc_get_status_change(void *self, nb_context ctx, uint32_t timeout_ms,
                                       nb_reader_state *states, size_t count)
{
    (void)self;
    SCARD_READERSTATE rs[16];
    if (count > sizeof(rs) / sizeof(rs[0]))
        return NB_SCARD_E_INVALID_PARAMETER;
    memset(rs, 0, sizeof(rs));
    for (size_t i = 0; i < count; i++) {
        rs[i].szReader = states[i].reader;
        rs[i].dwCurrentState = states[i].current_state;
    }
    LONG rv = SCardGetStatusChange(CTX(ctx), timeout_ms, rs, (DWORD)count);
    for (size_t i = 0; i < count; i++) {
        states[i].event_state = (uint32_t)rs[i].dwEventState;
        size_t n = rs[i].cbAtr <= NB_MAX_ATR ? rs[i].cbAtr : 0;
        memcpy(states[i].atr, rs[i].rgbAtr, n);
        states[i].atr_len = n;
    }
    return RV(rv);
}

static uint32_t pcsc_cancel(void *self, nb_context ctx)
{
    (void)self;
    return RV(SCardCancel(CTX(ctx)));
}

static uint32_t pcsc_connect(void *self, nb_context ctx, const char *reader, uint32_t share,
                             uint32_t protocols, nb_card *card, uint32_t *active_protocol)
{
    (void)self;
    SCARDHANDLE h = 0;
    DWORD active = 0;
    LONG rv = SCardConnect(CTX(ctx), reader, share, protocols, &h, &active);
    *card = (nb_card)h;
    *active_protocol = (uint32_t)active;
    return RV(rv);
}

static uint32_t pcsc_disconnect(void *self, nb_card card, uint32_t disposition)
{
    (void)self;
    return RV(SCardDisconnect(CARD(card), disposition));
}

static uint32_t pcsc_status(void *self, nb_card card, uint32_t *state, uint32_t *protocol,
                            uint8_t *atr, size_t *atr_len)
{
    (void)self;
    DWORD st = 0, proto = 0, atr_n = NB_MAX_ATR;
    BYTE atr_buf[NB_MAX_ATR];
    LONG rv = SCardStatus(CARD(card), NULL, NULL, &st, &proto, atr_buf, &atr_n);
    *state = card_state(st);
    *protocol = (uint32_t)proto;
    *atr_len = 0;
    if (rv == SCARD_S_SUCCESS && atr_n <= NB_MAX_ATR) {
        memcpy(atr, atr_buf, atr_n);
        *atr_len = atr_n;
    }
    return RV(rv);
}

static uint32_t pcsc_begin_transaction(void *self, nb_card card)
{
    (void)self;
    return RV(SCardBeginTransaction(CARD(card)));
}

static uint32_t pcsc_end_transaction(void *self, nb_card card, uint32_t disposition)
{
    (void)self;
    return RV(SCardEndTransaction(CARD(card), disposition));
}

static uint32_t pcsc_transmit(void *self, nb_card card, uint32_t protocol, const uint8_t *cmd,
                              size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
    (void)self;
    const SCARD_IO_REQUEST *pci = protocol == NB_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    DWORD n = (DWORD)*resp_len;
    LONG rv = SCardTransmit(CARD(card), pci, cmd, (DWORD)cmd_len, NULL, resp, &n);
    *resp_len = rv == SCARD_S_SUCCESS ? (size_t)n : 0;
    return RV(rv);
}

static uint32_t pcsc_control(void *self, nb_card card, uint32_t code, const uint8_t *in,
                             size_t in_len, uint8_t *out, size_t *out_len)
{
    (void)self;
    DWORD n = 0;
    LONG rv = SCardControl(CARD(card), code, in, (DWORD)in_len, out, (DWORD)*out_len, &n);
    *out_len = rv == SCARD_S_SUCCESS ? (size_t)n : 0;
    return RV(rv);
}

static const nb_backend pcsc_backend = {
    .self = NULL,
    .establish = pcsc_establish,
    .release = pcsc_release,
    .list_readers = pcsc_list_readers,
    .get_status_change = pcsc_get_status_change,
    .cancel = pcsc_cancel,
    .connect = pcsc_connect,
    .disconnect = pcsc_disconnect,
    .status = pcsc_status,
    .begin_transaction = pcsc_begin_transaction,
    .end_transaction = pcsc_end_transaction,
    .transmit = pcsc_transmit,
    .control = pcsc_control,
};

const nb_backend *nb_pcsc_backend(void)
{
    return &pcsc_backend;
}
