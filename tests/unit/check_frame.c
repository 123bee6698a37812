/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "testutil.h"

/* Writes bytes into a pipe and closes it; returns the read end. */
static int pipe_with(const void *bytes, size_t len)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_uint_eq(nb_write_exact(fds[1], bytes, len), len);
    close(fds[1]);
    return fds[0];
}

static int pipe_with_frame(uint32_t declared, const char *body, size_t body_len)
{
    uint8_t buf[64];
    memcpy(buf, &declared, 4);
    memcpy(buf + 4, body, body_len);
    return pipe_with(buf, 4 + body_len);
}

START_TEST(reads_a_whole_frame)
{
    int fd = pipe_with_frame(7, "{\"a\":1}", 7);
    char *body;
    size_t len;
    uint32_t declared;
    ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_uint_eq(len, 7);
    ck_assert_str_eq(body, "{\"a\":1}");
    free(body);
    ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_EOF);
    close(fd);
}
END_TEST

START_TEST(classifies_bad_lengths)
{
    char *body;
    size_t len;
    uint32_t declared;
    int fd = pipe_with_frame(0, "", 0);
    ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_EMPTY);
    close(fd);
    const uint32_t too_large[] = {NB_MAX_REQUEST_BYTES + 1, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < 3; i++) {
        fd = pipe_with_frame(too_large[i], "", 0);
        ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_TOO_LARGE);
        ck_assert_uint_eq(declared, too_large[i]);
        ck_assert_ptr_null(body);
        close(fd);
    }
}
END_TEST

START_TEST(detects_truncation)
{
    char *body;
    size_t len;
    uint32_t declared;
    int fd = pipe_with("\x05\x00", 2); /* half a length word */
    ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_TRUNCATED);
    close(fd);
    fd = pipe_with_frame(10, "{\"a\"", 4); /* body cut short */
    ck_assert_int_eq(nb_frame_read(fd, &body, &len, &declared), NB_FRAME_TRUNCATED);
    ck_assert_ptr_null(body);
    close(fd);
}
END_TEST

typedef struct {
    int fd;
    const uint8_t *bytes;
    size_t len;
} trickle_arg;

static void *trickle(void *p)
{
    trickle_arg *a = p;
    for (size_t i = 0; i < a->len; i++) {
        ck_assert_int_eq(write(a->fd, a->bytes + i, 1), 1);
        usleep(200);
    }
    close(a->fd);
    return NULL;
}

START_TEST(survives_short_reads)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    uint8_t msg[4 + 11];
    uint32_t n = 11;
    memcpy(msg, &n, 4);
    memcpy(msg + 4, "{\"id\":\"x\"}\n", 11);
    trickle_arg a = {fds[1], msg, sizeof(msg)};
    pthread_t t;
    pthread_create(&t, NULL, trickle, &a);
    char *body;
    size_t len;
    uint32_t declared;
    ck_assert_int_eq(nb_frame_read(fds[0], &body, &len, &declared), NB_FRAME_OK);
    ck_assert_uint_eq(len, 11);
    free(body);
    pthread_join(t, NULL);
    close(fds[0]);
}
END_TEST

START_TEST(accepts_the_limit_exactly)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    size_t size = NB_MAX_REQUEST_BYTES;
    uint8_t *msg = malloc(4 + size);
    uint32_t n = (uint32_t)size;
    memcpy(msg, &n, 4);
    memset(msg + 4, ' ', size);
    trickle_arg a = {fds[1], msg, 0};
    (void)a;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        nb_write_exact(fds[1], msg, 4 + size);
        _exit(0);
    }
    close(fds[1]);
    char *body;
    size_t len;
    uint32_t declared;
    ck_assert_int_eq(nb_frame_read(fds[0], &body, &len, &declared), NB_FRAME_OK);
    ck_assert_uint_eq(len, size);
    free(body);
    free(msg);
    close(fds[0]);
}
END_TEST

START_TEST(writes_frames_and_refuses_oversized)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(nb_frame_write(fds[1], "{}", 2), 0);
    uint8_t got[6];
    ck_assert_uint_eq(nb_read_exact(fds[0], got, 6), 6);
    uint32_t n;
    memcpy(&n, got, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(memcmp(got + 4, "{}", 2), 0);
    ck_assert_int_eq(nb_frame_write(fds[1], "x", NB_MAX_REPLY_BYTES + 1), -1);
    close(fds[0]);
    /* A closed reader gives an error, not a crash (SIGPIPE ignored). */
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(nb_frame_write(fds[1], "{}", 2), -1);
    close(fds[1]);
}
END_TEST

/* The reader takes what the pipe has at once: two frames written together
 * come out one by one, the second from what was read ahead; a frame in
 * pieces, a truncated one and the end of the stream are told apart; and
 * what was handed out no longer lies in the read-ahead. */
START_TEST(the_reader_reads_ahead_and_wipes)
{
    uint8_t two[64];
    uint32_t a = 5, b = 3;
    memcpy(two, &a, 4);
    memcpy(two + 4, "hello", 5);
    memcpy(two + 9, &b, 4);
    memcpy(two + 13, "PIN", 3);
    int fd = pipe_with(two, 16);
    static nb_frame_reader r;
    nb_frame_reader_init(&r, fd);
    char *body = NULL;
    size_t len = 0;
    uint32_t declared = 0;
    ck_assert_int_eq(nb_frame_reader_next(&r, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_str_eq(body, "hello");
    ck_assert(nb_frame_reader_has_more(&r)); /* the second came with the first read */
    free(body);
    ck_assert_int_eq(nb_frame_reader_next(&r, &body, &len, &declared), NB_FRAME_OK);
    ck_assert_str_eq(body, "PIN");
    free(body);
    ck_assert(!nb_frame_reader_has_more(&r));
    for (size_t i = 0; i < sizeof(r.buf); i++)
        ck_assert_msg(r.buf[i] == 0, "byte %zu of the read-ahead kept what was handed out", i);
    ck_assert_int_eq(nb_frame_reader_next(&r, &body, &len, &declared), NB_FRAME_EOF);
    close(fd);
    /* Cut inside the body. */
    fd = pipe_with(two, 7);
    nb_frame_reader_init(&r, fd);
    ck_assert_int_eq(nb_frame_reader_next(&r, &body, &len, &declared), NB_FRAME_TRUNCATED);
    ck_assert_ptr_null(body);
    close(fd);
    /* Cut inside the length. */
    fd = pipe_with(two, 2);
    nb_frame_reader_init(&r, fd);
    ck_assert_int_eq(nb_frame_reader_next(&r, &body, &len, &declared), NB_FRAME_TRUNCATED);
    close(fd);
    nb_frame_reader_close(&r);
}
END_TEST

/* Small frames leave in one write: the reader on the other side wakes
 * once. */
START_TEST(a_small_frame_is_one_write)
{
    /* Each write on a SEQPACKET socket is one record: a frame sent in two
     * writes would come out as a 4-byte record first. */
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
    ck_assert_int_eq(nb_frame_write(fds[1], "{\"ok\":true}", 11), 0);
    uint8_t got[64];
    ssize_t n = read(fds[0], got, sizeof(got));
    ck_assert_int_eq(n, 15);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_a_whole_frame);
    tcase_add_test(tc, classifies_bad_lengths);
    tcase_add_test(tc, detects_truncation);
    tcase_add_test(tc, survives_short_reads);
    tcase_add_test(tc, accepts_the_limit_exactly);
    tcase_add_test(tc, writes_frames_and_refuses_oversized);
    tcase_add_test(tc, the_reader_reads_ahead_and_wipes);
    tcase_add_test(tc, a_small_frame_is_one_write);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(frame_suite)
