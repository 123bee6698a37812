/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in for winscard.dll, for testing nesbridge-host.exe under wine
 * (whose own winscard.dll is a stub): one reader holding the virtual NES
 * card (vcard/card.c, the same logic as behind pcscd's vpcd, with the
 * default AKİS ATR of vcard/profile.c), and a
 * reader feature list that declares a PIN-modify pinpad, answered only to
 * the Windows value of CM_IOCTL_GET_FEATURE_REQUEST. The card starts
 * locked by three wrong PINs, like `make demo`'s. With NB_SHIM_MUTE=1 in
 * the environment the card never answers a command, for the watchdog's
 * tests. Test code only: it is never shipped. */
#define WINSCARDDATA __declspec(dllexport)
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winscard.h>

#include "card.h"
#include "hex.h"
#include "profile.h"

#define READER "nesbridge Wine Shim Reader 0"
#define CONTEXT_MAGIC 0x4E42u
#define CARD_MAGIC 0x4E43u
/* docs/card-profile.md: the demo master key, never a real one. */
#define DEMO_MASTER_KEY "4E4553425249444745444D4F4B455931"
#define FEATURE_MODIFY_PIN_DIRECT 0x07

const SCARD_IO_REQUEST g_rgSCardT0Pci = {SCARD_PROTOCOL_T0, sizeof(SCARD_IO_REQUEST)};
const SCARD_IO_REQUEST g_rgSCardT1Pci = {SCARD_PROTOCOL_T1, sizeof(SCARD_IO_REQUEST)};
const SCARD_IO_REQUEST g_rgSCardRawPci = {SCARD_PROTOCOL_RAW, sizeof(SCARD_IO_REQUEST)};

static nb_vcard card;
static int card_ready;
static HANDLE cancel_event;

static int no_save(void *arg, const nb_card_state *state)
{
    (void)arg;
    (void)state;
    return 0;
}

static void make_card(void)
{
    if (card_ready)
        return;
    uint8_t master[NB_KEY_LEN];
    nb_hex_decode(DEMO_MASTER_KEY, strlen(DEMO_MASTER_KEY), master, sizeof(master));
    memset(&card, 0, sizeof(card));
    nb_card_state_init(&card.state, "NBWINE0001", master, "pin-locked");
    card.save = no_save;
    nb_vcard_power(&card);
    card_ready = 1;
}

LONG WINAPI SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT context)
{
    (void)scope;
    (void)r1;
    (void)r2;
    make_card();
    if (cancel_event == NULL)
        cancel_event = CreateEventA(NULL, FALSE, FALSE, NULL);
    *context = CONTEXT_MAGIC;
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardReleaseContext(SCARDCONTEXT context)
{
    return context == CONTEXT_MAGIC ? SCARD_S_SUCCESS : SCARD_E_INVALID_HANDLE;
}

LONG WINAPI SCardListReadersA(SCARDCONTEXT context, LPCSTR groups, LPSTR readers, LPDWORD len)
{
    (void)groups;
    static const char list[] = READER "\0";
    if (context != CONTEXT_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (readers == NULL) {
        *len = sizeof(list);
        return SCARD_S_SUCCESS;
    }
    if (*len < sizeof(list))
        return SCARD_E_INSUFFICIENT_BUFFER;
    memcpy(readers, list, sizeof(list));
    *len = sizeof(list);
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardGetStatusChangeA(SCARDCONTEXT context, DWORD timeout, LPSCARD_READERSTATEA states, DWORD count)
{
    if (context != CONTEXT_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    int changed = 0;
    for (DWORD i = 0; i < count; i++) {
        SCARD_READERSTATEA *s = &states[i];
        DWORD now = strcmp(s->szReader, READER) == 0 ? SCARD_STATE_PRESENT : SCARD_STATE_UNKNOWN;
        if ((s->dwCurrentState & ~(DWORD)SCARD_STATE_CHANGED & 0xFFFF) != now) {
            now |= SCARD_STATE_CHANGED;
            changed = 1;
        }
        s->dwEventState = now;
        s->cbAtr = 0;
        if (now & SCARD_STATE_PRESENT) {
            const nb_vcard_profile *p = nb_vcard_profile_find(NULL);
            memcpy(s->rgbAtr, p->atr, p->atr_len);
            s->cbAtr = (DWORD)p->atr_len;
        }
    }
    if (changed)
        return SCARD_S_SUCCESS;
    /* Nothing changes in this reader: wait for the time out, or a cancel. */
    return WaitForSingleObject(cancel_event, timeout) == WAIT_OBJECT_0 ? SCARD_E_CANCELLED : SCARD_E_TIMEOUT;
}

LONG WINAPI SCardCancel(SCARDCONTEXT context)
{
    if (context != CONTEXT_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    SetEvent(cancel_event);
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardConnectA(SCARDCONTEXT context, LPCSTR reader, DWORD share, DWORD protocols, LPSCARDHANDLE handle,
                          LPDWORD active)
{
    if (context != CONTEXT_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (strcmp(reader, READER) != 0)
        return SCARD_E_UNKNOWN_READER;
    if (share != SCARD_SHARE_DIRECT && !(protocols & SCARD_PROTOCOL_T1))
        return SCARD_E_PROTO_MISMATCH;
    *handle = CARD_MAGIC;
    *active = share == SCARD_SHARE_DIRECT ? 0 : SCARD_PROTOCOL_T1;
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardDisconnect(SCARDHANDLE handle, DWORD disposition)
{
    if (handle != CARD_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (disposition == SCARD_RESET_CARD || disposition == SCARD_UNPOWER_CARD)
        nb_vcard_power(&card);
    return SCARD_S_SUCCESS;
}

/* Windows reports one number, SCARD_SPECIFIC once a protocol is set. */
LONG WINAPI SCardStatusA(SCARDHANDLE handle, LPSTR name, LPDWORD name_len, LPDWORD state, LPDWORD protocol, LPBYTE atr,
                         LPDWORD atr_len)
{
    (void)name;
    if (handle != CARD_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (name_len != NULL)
        *name_len = 0;
    *state = SCARD_SPECIFIC;
    *protocol = SCARD_PROTOCOL_T1;
    const nb_vcard_profile *p = nb_vcard_profile_find(NULL);
    if (*atr_len < p->atr_len)
        return SCARD_E_INSUFFICIENT_BUFFER;
    memcpy(atr, p->atr, p->atr_len);
    *atr_len = (DWORD)p->atr_len;
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardBeginTransaction(SCARDHANDLE handle)
{
    return handle == CARD_MAGIC ? SCARD_S_SUCCESS : SCARD_E_INVALID_HANDLE;
}

LONG WINAPI SCardEndTransaction(SCARDHANDLE handle, DWORD disposition)
{
    (void)disposition;
    return handle == CARD_MAGIC ? SCARD_S_SUCCESS : SCARD_E_INVALID_HANDLE;
}

LONG WINAPI SCardTransmit(SCARDHANDLE handle, LPCSCARD_IO_REQUEST send_pci, LPCBYTE cmd, DWORD cmd_len,
                          LPSCARD_IO_REQUEST recv_pci, LPBYTE resp, LPDWORD resp_len)
{
    (void)recv_pci;
    if (handle != CARD_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (send_pci == NULL || send_pci->dwProtocol != SCARD_PROTOCOL_T1)
        return SCARD_E_PROTO_MISMATCH;
    const char *mute = getenv("NB_SHIM_MUTE");
    if (mute != NULL && strcmp(mute, "1") == 0)
        Sleep(INFINITE); /* a card that stopped answering */
    uint8_t out[512];
    size_t n = nb_vcard_process(&card, cmd, cmd_len, out, sizeof(out));
    if (n > *resp_len)
        return SCARD_E_INSUFFICIENT_BUFFER;
    memcpy(resp, out, n);
    *resp_len = (DWORD)n;
    return SCARD_S_SUCCESS;
}

LONG WINAPI SCardControl(SCARDHANDLE handle, DWORD code, LPCVOID in, DWORD in_len, LPVOID out, DWORD out_len,
                         LPDWORD returned)
{
    (void)in;
    (void)in_len;
    if (handle != CARD_MAGIC)
        return SCARD_E_INVALID_HANDLE;
    if (code != SCARD_CTL_CODE(3400))
        return (LONG)ERROR_INVALID_FUNCTION;
    const DWORD modify = SCARD_CTL_CODE(3500);
    const BYTE tlv[] = {FEATURE_MODIFY_PIN_DIRECT, 4, (BYTE)(modify >> 24), (BYTE)(modify >> 16), (BYTE)(modify >> 8),
                        (BYTE)modify};
    if (out_len < sizeof(tlv))
        return SCARD_E_INSUFFICIENT_BUFFER;
    memcpy(out, tlv, sizeof(tlv));
    *returned = sizeof(tlv);
    return SCARD_S_SUCCESS;
}
