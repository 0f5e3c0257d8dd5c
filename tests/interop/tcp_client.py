#!/usr/bin/python3
"""Linux's TCP as the client: connect, send N bytes, half-close, read the
echo back, compare. Runs inside the test's namespace. Prints one line:
  ok sent=N received=N sha256=... seconds=...
or exits 1 with the reason. Bounded by --timeout."""

import argparse
import hashlib
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='198.18.0.2')
    ap.add_argument('--port', type=int, default=7)
    ap.add_argument('--bytes', type=int, default=1 << 20)
    ap.add_argument('--timeout', type=float, default=30)
    a = ap.parse_args()
    data = os.urandom(a.bytes)
    start = time.monotonic()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.settimeout(a.timeout)
    got = bytearray()
    view = memoryview(data)
    sent = 0
    # Interleave sends and reads so neither side's window stalls the other.
    s.setblocking(False)
    deadline = start + a.timeout
    while (sent < len(data) or len(got) < len(data)) and time.monotonic() < deadline:
        progressed = False
        if sent < len(data):
            try:
                n = s.send(view[sent:sent + 65536])
                sent += n
                progressed = n > 0
                if sent == len(data):
                    s.shutdown(socket.SHUT_WR)
            except BlockingIOError:
                pass
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            progressed = True
        except BlockingIOError:
            pass
        if not progressed:
            time.sleep(0.001)
    s.setblocking(True)
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        tail = s.recv(1)  # the server's FIN
    except socket.timeout:
        tail = b'timeout'
    s.close()
    secs = time.monotonic() - start
    if bytes(got) != data:
        print(f'mismatch sent={sent} received={len(got)}', file=sys.stderr)
        return 1
    if tail != b'':
        print(f'no FIN after the echo (got {tail!r})', file=sys.stderr)
        return 1
    print(f'ok sent={sent} received={len(got)} '
          f'sha256={hashlib.sha256(got).hexdigest()[:16]} seconds={secs:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
