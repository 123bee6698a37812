#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal native-messaging host in Python (standard library only), the
baseline that nesbridge-host's cold start is compared with: it answers a
hello frame exactly like the real host does."""
import json
import struct
import sys


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return 0
        (length,) = struct.unpack("=I", header)
        request = json.loads(stdin.read(length))
        reply = {"id": request.get("id"), "ok": True,
                 "result": {"protocol": 1, "host_version": "py-baseline", "features": []}}
        body = json.dumps(reply, separators=(",", ":")).encode()
        stdout.write(struct.pack("=I", len(body)) + body)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
