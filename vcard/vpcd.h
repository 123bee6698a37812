/* SPDX-License-Identifier: Apache-2.0 */
/* The card side of the vsmartcard vpcd protocol: the card is a TCP client
 * of the reader driver; frames are a 16-bit big-endian length + payload. */
#ifndef NB_VCARD_VPCD_H
#define NB_VCARD_VPCD_H

#include <stddef.h>
#include <stdint.h>

#define NB_VPCD_POWER_OFF 0x00
#define NB_VPCD_POWER_ON 0x01
#define NB_VPCD_RESET 0x02
#define NB_VPCD_GET_ATR 0x04

/* Connects (insert the card); returns the socket or -1. */
int nb_vpcd_connect(const char *host, const char *port);
/* Reads one frame into buf; returns 0, or -1 when the reader went away or
 * the frame does not fit. */
int nb_vpcd_read(int fd, uint8_t *buf, size_t cap, size_t *len);
int nb_vpcd_write(int fd, const uint8_t *buf, size_t len);

#endif
