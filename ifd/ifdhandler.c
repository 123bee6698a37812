/* SPDX-License-Identifier: Apache-2.0 */
/* nesbridge's pinpad reader: a pcsc-lite IFD handler (API 3.0) that pcscd
 * loads from reader.conf, as it loads vpcd. This file is the API layer
 * only (the CCID driver's shape): it maps readers to slots, IFDH* calls
 * to the transport (slot.c) and the PIN features to the protocol layer
 * (pin_entry.c). Every call returns; nothing exits, aborts or raises a
 * signal inside pcscd. docs/card-profile.md, "The pinpad reader". */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <pthread.h>
#include <string.h>

#include <ifdhandler.h>
#include <reader.h>

#include "pin_entry.h"
#include "profile.h"
#include "slot.h"

#define MAX_READERS 4
/* The IOCTLs of the features, as the CCID driver numbers them. */
#define CLASS2_IOCTL_MAGIC 0x330000
#define IOCTL_FEATURE(f) SCARD_CTL_CODE(CLASS2_IOCTL_MAGIC + (f))
#define VENDOR_NAME "nesbridge"

typedef struct {
    DWORD lun;
    nb_slot *slot;
    uint8_t atr[NB_ATR_MAX];
    size_t atr_len;
} reader;

static reader readers[MAX_READERS];
/* Calls hold it for reading; opening and closing a channel for writing,
 * so no slot is freed under a call. */
static pthread_rwlock_t table_lock;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&table_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

/* The reader of this LUN, with the table read-locked; NULL (and no lock
 * held) when there is none. */
static reader *find(DWORD lun)
{
    pthread_once(&table_once, table_init);
    pthread_rwlock_rdlock(&table_lock);
    for (int i = 0; i < MAX_READERS; i++)
        if (readers[i].slot != NULL && readers[i].lun == lun)
            return &readers[i];
    pthread_rwlock_unlock(&table_lock);
    return NULL;
}

static void done(void)
{
    pthread_rwlock_unlock(&table_lock);
}

RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
    pthread_once(&table_once, table_init);
    pthread_rwlock_wrlock(&table_lock);
    RESPONSECODE rc = IFD_COMMUNICATION_ERROR;
    reader *free_one = NULL;
    int open_already = 0;
    for (int i = 0; i < MAX_READERS; i++) {
        if (readers[i].slot != NULL && readers[i].lun == Lun)
            open_already = 1;
        else if (readers[i].slot == NULL && free_one == NULL)
            free_one = &readers[i];
    }
    if (!open_already && free_one != NULL && (free_one->slot = nb_slot_open(DeviceName)) != NULL) {
        free_one->lun = Lun;
        free_one->atr_len = 0;
        rc = IFD_SUCCESS;
    }
    pthread_rwlock_unlock(&table_lock);
    return rc;
}

RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
    /* reader.conf's DEVICENAME carries the configuration; a bare channel
     * number says nothing about the card. */
    (void)Lun;
    (void)Channel;
    return IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    nb_slot *slot = r->slot;
    nb_slot_stop(slot); /* waits inside other calls end now */
    done();
    pthread_rwlock_wrlock(&table_lock);
    if (r->slot == slot) {
        r->slot = NULL;
        nb_slot_close(slot);
    }
    pthread_rwlock_unlock(&table_lock);
    return IFD_SUCCESS;
}

static RESPONSECODE put_value(PDWORD Length, PUCHAR Value, const void *bytes, size_t n)
{
    if (*Length < n)
        return IFD_ERROR_INSUFFICIENT_BUFFER;
    memcpy(Value, bytes, n);
    *Length = (DWORD)n;
    return IFD_SUCCESS;
}

RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    RESPONSECODE rc;
    uint8_t one = 1, readers_max = MAX_READERS;
    switch (Tag) {
    case TAG_IFD_ATR:
    case SCARD_ATTR_ATR_STRING:
        rc = put_value(Length, Value, r->atr, r->atr_len);
        break;
    case TAG_IFD_SIMULTANEOUS_ACCESS:
        rc = put_value(Length, Value, &readers_max, 1);
        break;
    case TAG_IFD_SLOTS_NUMBER:
    case TAG_IFD_THREAD_SAFE: /* our own locks: readers may be used at once */
        rc = put_value(Length, Value, &one, 1);
        break;
    case SCARD_ATTR_VENDOR_NAME:
        rc = put_value(Length, Value, VENDOR_NAME, sizeof(VENDOR_NAME));
        break;
    default:
        rc = IFD_ERROR_TAG; /* no polling thread of our own: pcscd polls */
        break;
    }
    done();
    return rc;
}

RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
    (void)Lun;
    (void)Tag;
    (void)Length;
    (void)Value;
    return IFD_NOT_SUPPORTED;
}

RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1, UCHAR PTS2,
                                       UCHAR PTS3)
{
    (void)Flags;
    (void)PTS1;
    (void)PTS2;
    (void)PTS3;
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    done();
    return Protocol == SCARD_PROTOCOL_T1 ? IFD_SUCCESS : IFD_PROTOCOL_NOT_SUPPORTED; /* AKİS: T=1 */
}

RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    RESPONSECODE rc = IFD_ERROR_POWER_ACTION;
    if (Action == IFD_POWER_DOWN) {
        nb_slot_power(r->slot, 0, NULL, NULL);
        r->atr_len = 0;
        *AtrLength = 0;
        rc = IFD_SUCCESS;
    } else if (Action == IFD_POWER_UP || Action == IFD_RESET) {
        *AtrLength = 0;
        if (nb_slot_power(r->slot, 1, r->atr, &r->atr_len) == 0) {
            memcpy(Atr, r->atr, r->atr_len); /* pcscd's buffer holds MAX_ATR_SIZE (33) */
            *AtrLength = (DWORD)r->atr_len;
            rc = IFD_SUCCESS;
        }
    } else {
        rc = IFD_NOT_SUPPORTED;
    }
    done();
    return rc;
}

RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer, DWORD TxLength,
                               PUCHAR RxBuffer, PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
    (void)SendPci;
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    uint8_t resp[NB_PIN_APDU_MAX + 300];
    size_t n = 0;
    RESPONSECODE rc = IFD_COMMUNICATION_ERROR;
    if (TxLength >= 4 && nb_slot_transmit(r->slot, TxBuffer, TxLength, resp, sizeof(resp), &n) == 0) {
        if (n <= *RxLength) {
            memcpy(RxBuffer, resp, n);
            rc = IFD_SUCCESS;
        } else {
            rc = IFD_ERROR_INSUFFICIENT_BUFFER;
        }
    }
    *RxLength = rc == IFD_SUCCESS ? (DWORD)n : 0;
    if (RecvPci != NULL)
        RecvPci->Protocol = 1;
    memset(resp, 0, sizeof(resp));
    done();
    return rc;
}

/* CM_IOCTL_GET_FEATURE_REQUEST: tag, length 4, IOCTL big-endian. */
static size_t features(uint8_t *out)
{
    static const uint8_t tags[] = {FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT,
                                   FEATURE_IFD_PIN_PROPERTIES};
    size_t n = 0;
    for (size_t i = 0; i < sizeof(tags); i++) {
        uint32_t code = IOCTL_FEATURE(tags[i]);
        out[n++] = tags[i];
        out[n++] = 4;
        out[n++] = (uint8_t)(code >> 24);
        out[n++] = (uint8_t)(code >> 16);
        out[n++] = (uint8_t)(code >> 8);
        out[n++] = (uint8_t)code;
    }
    return n;
}

static nb_entry_outcome slot_keypad(void *self, unsigned timeout_s, const nb_pin_prompts *prompts,
                                    nb_keypad_input *typed)
{
    return nb_slot_keypad(self, timeout_s, prompts, typed);
}

static int slot_transmit(void *self, const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
                         size_t *resp_len)
{
    return nb_slot_transmit(self, apdu, len, resp, cap, resp_len);
}

static RESPONSECODE pin_entry(reader *r, nb_pin_operation op, PUCHAR TxBuffer, DWORD TxLength,
                              PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
    nb_pin_io io = {slot_keypad, slot_transmit, r->slot};
    size_t n = 0;
    int rc = nb_pin_entry(&io, op, TxBuffer, TxLength, RxBuffer, RxLength, &n);
    *returned = (DWORD)n;
    return rc == NB_PIN_OK ? IFD_SUCCESS
           : rc == NB_PIN_SHORT_BUFFER ? IFD_ERROR_INSUFFICIENT_BUFFER
                                       : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
                         DWORD RxLength, LPDWORD pdwBytesReturned)
{
    *pdwBytesReturned = 0;
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    RESPONSECODE rc = IFD_ERROR_NOT_SUPPORTED;
    if (dwControlCode == CM_IOCTL_GET_FEATURE_REQUEST) {
        uint8_t tlv[18];
        size_t n = features(tlv);
        rc = RxLength >= n ? IFD_SUCCESS : IFD_ERROR_INSUFFICIENT_BUFFER;
        if (rc == IFD_SUCCESS) {
            memcpy(RxBuffer, tlv, n);
            *pdwBytesReturned = (DWORD)n;
        }
    } else if (dwControlCode == IOCTL_FEATURE(FEATURE_IFD_PIN_PROPERTIES)) {
        /* wLcdLayout: 2 lines of 16 characters; any validation; no second timeout. */
        static const uint8_t props[] = {0x10, 0x02, 0x07, 0x00};
        rc = RxLength >= sizeof(props) ? IFD_SUCCESS : IFD_ERROR_INSUFFICIENT_BUFFER;
        if (rc == IFD_SUCCESS) {
            memcpy(RxBuffer, props, sizeof(props));
            *pdwBytesReturned = sizeof(props);
        }
    } else if (dwControlCode == IOCTL_FEATURE(FEATURE_VERIFY_PIN_DIRECT)) {
        rc = pin_entry(r, NB_PIN_VERIFY, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
    } else if (dwControlCode == IOCTL_FEATURE(FEATURE_MODIFY_PIN_DIRECT)) {
        rc = pin_entry(r, NB_PIN_MODIFY, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
    }
    done();
    return rc;
}

RESPONSECODE IFDHICCPresence(DWORD Lun)
{
    reader *r = find(Lun);
    if (r == NULL)
        return IFD_NO_SUCH_DEVICE;
    RESPONSECODE rc = nb_slot_present(r->slot) ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
    done();
    return rc;
}
