/* SPDX-License-Identifier: Apache-2.0 */
/* The pinpad reader's transport layer: its slot, holding a virtual NES
 * card (vcard/card.c, with its own state file), the keypad, and the
 * control socket through which tests pull the card and "type". Runs
 * inside pcscd: everything is bounded, nothing exits or aborts, and the
 * socket's thread stops when the channel closes. */
#ifndef NB_IFD_SLOT_H
#define NB_IFD_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "pin_entry.h"

/* A card that stops answering (control command "mute on") is given up
 * after this long, as a real reader's block waiting time would. */
#define NB_SLOT_MUTE_LIMIT_MS 60000
/* Like nesbridge-vcard: a card pulled out stays out this long, so that
 * pcscd (which polls every 400 ms) sees it gone. */
#define NB_SLOT_MIN_OUT_MS 600

typedef struct nb_slot nb_slot;

/* Opens the slot the reader's configuration file describes (the
 * DEVICENAME of reader.conf): key=value lines, `state` (required: the
 * card's state file), `control` (the socket), `cert` (EF.CERT, DER),
 * `serial`, `init` (fresh|pin-locked|puk-locked), `profile` (the ATR).
 * Returns NULL, after a line on stderr, when it cannot. */
nb_slot *nb_slot_open(const char *config_path);
/* Ends any wait inside the slot (an entry, a mute card: they return at
 * once) and stops the control thread; the slot refuses nothing yet, but
 * no call blocks any more. */
void nb_slot_stop(nb_slot *slot);
/* Stops, removes the socket, wipes the card and frees the slot; no other
 * call may be running on it (the API layer's lock sees to that). */
void nb_slot_close(nb_slot *slot);

int nb_slot_present(nb_slot *slot);
/* Power on or reset (on != 0): the ATR into atr (cap >= NB_ATR_MAX);
 * off: atr may be NULL. Returns 0, or -1 when no card is present. */
int nb_slot_power(nb_slot *slot, int on, uint8_t *atr, size_t *atr_len);
/* Exchanges an APDU with the card. Returns 0, or -1 when there is no
 * card, it stays mute past NB_SLOT_MUTE_LIMIT_MS or it is pulled
 * meanwhile. */
int nb_slot_transmit(nb_slot *slot, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap,
                     size_t *resp_len);
/* The keypad (nb_pin_io.keypad): shows the prompts and waits at most
 * timeout_s for a `keypad ...` control command (one that came before the
 * entry began is used at once). */
nb_entry_outcome nb_slot_keypad(nb_slot *slot, unsigned timeout_s, const nb_pin_prompts *prompts,
                                nb_keypad_input *typed);

#endif
