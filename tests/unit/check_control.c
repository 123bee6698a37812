/* SPDX-License-Identifier: Apache-2.0 */
/* The virtual cards' control language (vcard/control.c): what each line
 * means, the keypad's entries, and the faults both cards share. */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "testutil.h"

static nb_ctl_command parse_ok(const char *text)
{
    char line[NB_CTL_LINE_MAX];
    snprintf(line, sizeof(line), "%s", text);
    nb_ctl_command cmd;
    const char *why = NULL;
    ck_assert_int_eq(nb_ctl_parse(line, &cmd, &why), 0);
    cmd.word = NULL; /* points into line */
    return cmd;
}

START_TEST(plain_commands)
{
    ck_assert_int_eq(parse_ok("insert\n").kind, NB_CTL_INSERT);
    ck_assert_int_eq(parse_ok("remove\r\n").kind, NB_CTL_REMOVE);
    ck_assert_int_eq(parse_ok("status").kind, NB_CTL_STATUS);
    ck_assert_int_eq(parse_ok("quit").kind, NB_CTL_QUIT);
    nb_ctl_command c = parse_ok("mute on");
    ck_assert_int_eq(c.kind, NB_CTL_MUTE);
    ck_assert_int_eq(c.number, 1);
    ck_assert_int_eq(parse_ok("mute off").number, 0);
    ck_assert_int_eq(parse_ok("remove-after 3").number, 3);
    ck_assert_int_eq(parse_ok("mute-after 2").kind, NB_CTL_MUTE_AFTER);
    ck_assert_int_eq(parse_ok("slow 250").number, 250);
    ck_assert_int_eq(parse_ok("bogus").kind, NB_CTL_UNKNOWN);
    ck_assert_int_eq(parse_ok("keypad").kind, NB_CTL_UNKNOWN);
    char line[] = "reset-state pin-locked\n";
    nb_ctl_command r;
    const char *why = NULL;
    ck_assert_int_eq(nb_ctl_parse(line, &r, &why), 0);
    ck_assert_int_eq(r.kind, NB_CTL_RESET_STATE);
    ck_assert_str_eq(r.word, "pin-locked");
}
END_TEST

START_TEST(keypad_lines)
{
    nb_ctl_command c = parse_ok("keypad 24681357\n");
    ck_assert_int_eq(c.kind, NB_CTL_KEYPAD);
    ck_assert_int_eq(c.keypad.kind, NB_KEYPAD_DIGITS);
    ck_assert_uint_eq(c.keypad.count, 1);
    ck_assert_str_eq(c.keypad.entry[0], "24681357");
    c = parse_ok("keypad 123456 654321 654321");
    ck_assert_uint_eq(c.keypad.count, 3);
    ck_assert_str_eq(c.keypad.entry[2], "654321");
    ck_assert_int_eq(parse_ok("keypad cancel").keypad.kind, NB_KEYPAD_CANCEL);
    ck_assert_int_eq(parse_ok("keypad timeout").keypad.kind, NB_KEYPAD_TIMEOUT);
    const char *bad[] = {"keypad 12a4", "keypad 1 2 3 4", "keypad ",
                         "keypad 123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[NB_CTL_LINE_MAX];
        snprintf(line, sizeof(line), "%s", bad[i]);
        nb_ctl_command cmd;
        const char *why = NULL;
        ck_assert_msg(nb_ctl_parse(line, &cmd, &why) == -1, "%s", bad[i]);
        ck_assert_ptr_nonnull(why);
    }
}
END_TEST

START_TEST(faults)
{
    nb_ctl_faults f;
    nb_ctl_faults_init(&f);
    char reply[NB_CTL_REPLY_MAX];
    long wait = -1;
    ck_assert_int_eq(nb_ctl_faults_before(&f, &wait), 0);
    ck_assert_int_eq(wait, 0);
    ck_assert_int_eq(nb_ctl_faults_after(&f), 0);
    nb_ctl_command c = parse_ok("slow 70000"); /* over the limit: off */
    ck_assert(nb_ctl_faults_apply(&f, &c, reply, sizeof(reply)));
    ck_assert_str_eq(reply, "ok slow 0\n");
    c = parse_ok("remove-after 2");
    ck_assert(nb_ctl_faults_apply(&f, &c, reply, sizeof(reply)));
    nb_ctl_faults_before(&f, &wait);
    ck_assert_int_eq(nb_ctl_faults_after(&f), 0);
    nb_ctl_faults_before(&f, &wait);
    ck_assert_int_eq(nb_ctl_faults_after(&f), 1); /* the second APDU pulls it */
    c = parse_ok("mute-after 1");
    nb_ctl_faults_apply(&f, &c, reply, sizeof(reply));
    ck_assert_int_eq(nb_ctl_faults_before(&f, &wait), 0); /* answered */
    ck_assert_int_eq(nb_ctl_faults_before(&f, &wait), 1); /* then mute */
    c = parse_ok("mute off");
    nb_ctl_faults_apply(&f, &c, reply, sizeof(reply));
    ck_assert_int_eq(nb_ctl_faults_before(&f, &wait), 0);
    ck_assert_uint_eq(f.apdus, 6);
    c = parse_ok("insert");
    ck_assert(!nb_ctl_faults_apply(&f, &c, reply, sizeof(reply)));
}
END_TEST

static Suite *control_suite(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plain_commands);
    tcase_add_test(tc, keypad_lines);
    tcase_add_test(tc, faults);
    suite_add_tcase(s, tc);
    return s;
}

NB_CHECK_MAIN(control_suite)
