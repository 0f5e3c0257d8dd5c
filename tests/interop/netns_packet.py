"""Send raw Ethernet frames on an interface, optionally capture what comes back.

Runs INSIDE the test's network namespace (kbtnet.KbtNet.exchange starts it with
`ip netns exec`). Frames come as hex, one per line, on stdin; the result is one
JSON object on stdout: {"sent": N, "received": ["<hex>", ...]}. Only frames
arriving on the interface (not the ones the kernel sends) are captured. The
capture is bounded by --listen seconds and --max frames. --rate paces the
sending (frames per second), so that a burst does not overflow the TAP's queue.
"""

import argparse
import json
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23  # Linux 4.20: the frames we send are not queued back to us


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', default='kbt0')
    ap.add_argument('--listen', type=float, default=0.0)
    ap.add_argument('--max', type=int, default=1000)
    ap.add_argument('--rate', type=float, default=0.0)
    args = ap.parse_args()

    frames = [bytes.fromhex(line.strip()) for line in sys.stdin if line.strip()]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        # Thousands of frames sent would otherwise fill the receive buffer
        # with copies of themselves and crowd out the replies.
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass  # an older kernel: the PACKET_OUTGOING check below still applies
    s.bind((args.iface, ETH_P_ALL))  # bound before sending: no reply is missed
    sent = 0
    start = time.monotonic()
    for f in frames:
        if args.rate > 0:
            ahead = start + sent / args.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
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
