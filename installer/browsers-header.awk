# SPDX-License-Identifier: Apache-2.0
# installer/browsers-linux.tsv -> the browser table of host/doctor_unix.c.
# Usage: awk -f installer/browsers-header.awk installer/browsers-linux.tsv
function str(v) { return v == "-" ? "NULL" : "\"" v "\"" }
BEGIN {
    FS = "\t"
    print "/* Generated from installer/browsers-linux.tsv; do not edit. */"
}
/^#/ || NF == 0 { next }
NF != 7 { printf "browsers-linux.tsv:%d: %d fields, expected 7\n", NR, NF > "/dev/stderr"; failed = 1; exit 1 }
$3 != "chromium" && $3 != "firefox" { printf "browsers-linux.tsv:%d: kind %s\n", NR, $3 > "/dev/stderr"; failed = 1; exit 1 }
{
    user_hosts = $4 == "-" ? "-" : $4 "/" ($3 == "chromium" ? "NativeMessagingHosts" : "native-messaging-hosts")
    system_hosts = $5 == "-" ? "-" : $5 "/native-messaging-hosts"
    printf "    {%s, %d, %s, %s, %s, %s, %s},\n", str($2), $3 == "firefox", str($4), str(user_hosts), str(system_hosts), str($6), str($7)
}
END { if (failed) exit 1 }
