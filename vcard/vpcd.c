/* SPDX-License-Identifier: Apache-2.0 */
#include "vpcd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

int nb_vpcd_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        /* Without these every APDU waits ~40 ms for Nagle and delayed ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
    return fd;
}

int nb_vpcd_read(int fd, uint8_t *buf, size_t cap, size_t *len)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    uint8_t header[2];
    if (nb_read_exact(fd, header, 2) != 2)
        return -1;
    size_t n = ((size_t)header[0] << 8) | header[1];
    if (n == 0 || n > cap)
        return -1;
    if (nb_read_exact(fd, buf, n) != n)
        return -1;
    *len = n;
    return 0;
}

int nb_vpcd_write(int fd, const uint8_t *buf, size_t len)
{
    if (len > 0xFFFF)
        return -1;
    uint8_t header[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (nb_write_exact(fd, header, 2) != 2 || nb_write_exact(fd, buf, len) != len)
        return -1;
    return 0;
}
