/* SPDX-License-Identifier: Apache-2.0 */
#include "errors.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    nb_error code;
    const char *name;
    const char *message;
} error_entry;

/* Indexed by nb_error; the order must follow the enum (checked in tests). */
static const error_entry error_table[NB_ERROR_COUNT] = {
    {NB_OK, "ok", "Success."},
    {NB_ERR_BAD_REQUEST, "bad-request", "The request is malformed."},
    {NB_ERR_UNKNOWN_COMMAND, "unknown-command", "The command is not known."},
    {NB_ERR_HELLO_REQUIRED, "hello-required", "The first command must be hello."},
    {NB_ERR_VERSION_MISMATCH, "version-mismatch", "The protocol version is not supported."},
    {NB_ERR_NOT_ALLOWED, "not-allowed", "This command may not be sent to the card outside a signed script."},
    {NB_ERR_ORIGIN_NOT_ALLOWED, "origin-not-allowed", "This page's origin may not use the card reader."},
    {NB_ERR_CALLER_NOT_ALLOWED, "caller-not-allowed", "This browser extension may not use nesbridge."},
    {NB_ERR_MESSAGE_TOO_LARGE, "message-too-large", "The message is larger than the protocol allows."},
    {NB_ERR_INVALID_HANDLE, "invalid-handle", "The card handle is not known."},
    {NB_ERR_TOO_MANY_HANDLES, "too-many-handles", "Too many cards are connected at once."},
    {NB_ERR_INTERNAL, "internal-error", "The host failed internally."},
    {NB_ERR_BAD_SIGNATURE, "bad-signature", "The script's signature is missing or does not verify."},
    {NB_ERR_UNKNOWN_KEY, "unknown-key", "The script is signed with a key this host does not trust."},
    {NB_ERR_NONCE_REPLAYED, "nonce-replayed", "The script's nonce was already used or never issued here."},
    {NB_ERR_NONCE_EXPIRED, "nonce-expired", "The script's nonce is older than 5 minutes."},
    {NB_ERR_NONCE_WRONG_HANDLE, "nonce-wrong-handle", "The script's nonce was issued for another card handle."},
    {NB_ERR_WRONG_CARD, "wrong-card", "The script was made for another card."},
    {NB_ERR_SCRIPT_EXPIRED, "script-expired", "The script is past its not_after time."},
    {NB_ERR_SCRIPT_INVALID, "script-invalid", "The script is malformed."},
    {NB_ERR_SCRIPT_TOO_LONG, "script-too-long", "The script has too many steps."},
    {NB_ERR_SCRIPT_BAD_APDU, "script-bad-apdu", "A script step holds a malformed APDU."},
    {NB_ERR_PIN_REQUIRED, "pin-required", "The script needs a new PIN and none was given."},
    {NB_ERR_PIN_FORMAT, "pin-format", "The new PIN does not have the required form."},
    {NB_ERR_PIN_MISMATCH, "pin-mismatch", "The new PIN and its confirmation differ."},
    {NB_ERR_PIN_CANCELLED, "pin-cancelled", "The holder cancelled the new PIN's entry."},
    {NB_ERR_PIN_TIMEOUT, "pin-timeout", "The holder did not type the new PIN in time."},
    {NB_ERR_NO_SERVICE, "no-service", "The smart card service (pcscd) is not running."},
    {NB_ERR_NO_SMARTCARD, "no-smartcard", "No card is in the reader."},
    {NB_ERR_NOT_READY, "not-ready", "The reader or card is not ready."},
    {NB_ERR_NOT_TRANSACTED, "not-transacted", "No transaction is open on this handle."},
    {NB_ERR_PROTO_MISMATCH, "proto-mismatch", "The card does not support the requested protocol."},
    {NB_ERR_READER_UNAVAILABLE, "reader-unavailable", "The reader is not available."},
    {NB_ERR_REMOVED_CARD, "removed-card", "The card was removed."},
    {NB_ERR_RESET_CARD, "reset-card", "The card was reset by another program."},
    {NB_ERR_SERVER_TOO_BUSY, "server-too-busy", "The smart card service is too busy."},
    {NB_ERR_SHARING_VIOLATION, "sharing-violation", "Another program is using the card."},
    {NB_ERR_SYSTEM_CANCELLED, "system-cancelled", "The operation was cancelled."},
    {NB_ERR_TIMEOUT, "timeout", "The operation timed out."},
    {NB_ERR_UNKNOWN_READER, "unknown-reader", "The reader is not known."},
    {NB_ERR_UNPOWERED_CARD, "unpowered-card", "The card is not powered."},
    {NB_ERR_UNRESPONSIVE_CARD, "unresponsive-card", "The card does not answer."},
    {NB_ERR_UNSUPPORTED_CARD, "unsupported-card", "The card is not supported."},
    {NB_ERR_UNSUPPORTED_FEATURE, "unsupported-feature", "The reader or card does not support this feature."},
    {NB_ERR_UNKNOWN_ERROR, "unknown-error", "The smart card service reported an unknown error."},
};

typedef struct {
    uint32_t rv;
    nb_error code;
} pcsc_entry;

static const pcsc_entry pcsc_table[] = {
    {NB_SCARD_S_SUCCESS, NB_OK},
    {NB_SCARD_E_CANCELLED, NB_ERR_SYSTEM_CANCELLED},
    {NB_SCARD_E_SYSTEM_CANCELLED, NB_ERR_SYSTEM_CANCELLED},
    {NB_SCARD_E_INVALID_HANDLE, NB_ERR_INVALID_HANDLE},
    {NB_SCARD_E_NO_MEMORY, NB_ERR_INTERNAL},
    {NB_SCARD_F_INTERNAL_ERROR, NB_ERR_INTERNAL},
    {NB_SCARD_E_INVALID_PARAMETER, NB_ERR_INTERNAL},
    {NB_SCARD_E_INVALID_VALUE, NB_ERR_INTERNAL},
    {NB_SCARD_E_INSUFFICIENT_BUFFER, NB_ERR_INTERNAL},
    {NB_SCARD_E_UNKNOWN_READER, NB_ERR_UNKNOWN_READER},
    {NB_SCARD_E_TIMEOUT, NB_ERR_TIMEOUT},
    {NB_SCARD_E_SHARING_VIOLATION, NB_ERR_SHARING_VIOLATION},
    {NB_SCARD_E_NO_SMARTCARD, NB_ERR_NO_SMARTCARD},
    {NB_SCARD_E_UNKNOWN_CARD, NB_ERR_UNSUPPORTED_CARD},
    {NB_SCARD_E_PROTO_MISMATCH, NB_ERR_PROTO_MISMATCH},
    {NB_SCARD_E_NOT_READY, NB_ERR_NOT_READY},
    {NB_SCARD_F_COMM_ERROR, NB_ERR_NO_SERVICE},
    {NB_SCARD_F_UNKNOWN_ERROR, NB_ERR_UNKNOWN_ERROR},
    {NB_SCARD_E_INVALID_ATR, NB_ERR_UNSUPPORTED_CARD},
    {NB_SCARD_E_NOT_TRANSACTED, NB_ERR_NOT_TRANSACTED},
    {NB_SCARD_E_READER_UNAVAILABLE, NB_ERR_READER_UNAVAILABLE},
    {NB_SCARD_E_CARD_UNSUPPORTED, NB_ERR_UNSUPPORTED_CARD},
    {NB_SCARD_E_NO_SERVICE, NB_ERR_NO_SERVICE},
    {NB_SCARD_E_SERVICE_STOPPED, NB_ERR_NO_SERVICE},
    {NB_SCARD_E_NO_READERS_AVAILABLE, NB_ERR_UNKNOWN_READER},
    {NB_SCARD_E_COMM_DATA_LOST, NB_ERR_UNRESPONSIVE_CARD},
    {NB_SCARD_E_SERVER_TOO_BUSY, NB_ERR_SERVER_TOO_BUSY},
#ifdef _WIN32
    {NB_SCARD_E_UNEXPECTED_WIN, NB_ERR_UNKNOWN_ERROR},
#else
    {NB_SCARD_E_UNSUPPORTED_FEATURE, NB_ERR_UNSUPPORTED_FEATURE},
#endif
    {NB_SCARD_E_UNSUPPORTED_FEATURE_WIN, NB_ERR_UNSUPPORTED_FEATURE},
    {NB_SCARD_W_UNSUPPORTED_CARD, NB_ERR_UNSUPPORTED_CARD},
    {NB_SCARD_W_UNRESPONSIVE_CARD, NB_ERR_UNRESPONSIVE_CARD},
    {NB_SCARD_W_UNPOWERED_CARD, NB_ERR_UNPOWERED_CARD},
    {NB_SCARD_W_RESET_CARD, NB_ERR_RESET_CARD},
    {NB_SCARD_W_REMOVED_CARD, NB_ERR_REMOVED_CARD},
};

const char *nb_error_name(nb_error err)
{
    if ((unsigned)err >= NB_ERROR_COUNT)
        return "unknown-error";
    return error_table[err].name;
}

const char *nb_error_message(nb_error err)
{
    if ((unsigned)err >= NB_ERROR_COUNT)
        return "Unknown error.";
    return error_table[err].message;
}

nb_error nb_error_from_name(const char *name)
{
    for (size_t i = 0; i < NB_ERROR_COUNT; i++)
        if (strcmp(error_table[i].name, name) == 0)
            return error_table[i].code;
    return NB_ERROR_COUNT;
}

nb_error nb_error_from_pcsc(uint32_t rv)
{
    rv = nb_pcsc_plain(rv);
    for (size_t i = 0; i < sizeof(pcsc_table) / sizeof(pcsc_table[0]); i++)
        if (pcsc_table[i].rv == rv)
            return pcsc_table[i].code;
    return NB_ERR_UNKNOWN_ERROR;
}

int nb_pcsc_context_lost(uint32_t rv)
{
    rv = nb_pcsc_plain(rv);
    return rv == NB_SCARD_E_NO_SERVICE || rv == NB_SCARD_E_SERVICE_STOPPED ||
           rv == NB_SCARD_F_COMM_ERROR;
}
