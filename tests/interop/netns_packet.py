"""Send raw Ethernet frames on an interface, optionally capture what comes back.

Runs INSIDE the test's network namespace (kbtnet.KbtNet.exchange starts it with
`ip netns exec`). Frames come as hex, one per line, on stdin; the result is one
JSON object on stdout: {"sent": N, "received": ["<hex>", ...]}. Only frames
arriving on the interface (not the ones the kernel sends) are captured. The
capture is bounded by --listen seconds and --max frames.
"""

import argparse
import json
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', default='kbt0')
    ap.add_argument('--listen', type=float, default=0.0)
    ap.add_argument('--max', type=int, default=1000)
    args = ap.parse_args()

    frames = [bytes.fromhex(line.strip()) for line in sys.stdin if line.strip()]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, ETH_P_ALL))  # bound before sending: no reply is missed
    sent = 0
    for f in frames:
        s.send(f)
        sent += 1

    received = []
    deadline = time.monotonic() + args.listen
    while len(received) < args.max:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([s], [], [], left)
        if not ready:
            break
        data, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING:
            received.append(data.hex())
    s.close()
    json.dump({'sent': sent, 'received': received}, sys.stdout)


if __name__ == '__main__':
    main()
