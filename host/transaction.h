/* SPDX-License-Identifier: Apache-2.0 */
/* Beginning a PC/SC transaction without blocking the host. pcsc-lite's
 * SCardBeginTransaction waits, polling, for as long as another program
 * holds the card, and nothing can cancel it. Here it runs in a helper
 * thread while the host keeps an eye on its input and on the clock. */
#ifndef NB_TRANSACTION_H
#define NB_TRANSACTION_H

#include <stdint.h>

#include "protocol.h"
#include "session.h"

/* Begins a transaction on h, waiting at most limit_ms. Returns a PC/SC
 * code:
 * - success: h holds the card;
 * - NB_SCARD_E_SHARING_VIOLATION at once when another handle of this host
 *   holds the same reader in a transaction (it would wait for ever on
 *   itself), and when another program held the card for limit_ms;
 * - NB_SCARD_E_CANCELLED when the page sent something meanwhile (a cancel,
 *   another request, or the port closed): that request is then handled;
 * - any other code from the backend.
 * A wait given up on goes on in the background; if it ever gets the card,
 * it lets go of it at once. While it goes on, another begin on the same
 * card answers sharing-violation at once (so waits cannot pile up). */
uint32_t nb_transaction_begin(nb_session *s, nb_handle *h, uint32_t limit_ms);

/* The reply for a begin that did not succeed: sharing-violation,
 * system-cancelled (and the next cancel reports it), or the PC/SC error. */
nb_error nb_transaction_refused(nb_session *s, nb_handle *h, uint32_t rv, nb_outcome *out);

/* The card exchange limit in force (card_timeout_ms or its default). */
uint32_t nb_card_timeout_ms(const nb_session *s);

#endif
