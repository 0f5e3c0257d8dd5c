"""Long-lived packet driver for test_conformance.py, run INSIDE the test's namespace.

kbtnet.KbtNet.exchange() starts a Python per exchange and listens for a fixed
time; the conformance suite sends hundreds of segments and mostly waits for
one or two answers, so it keeps this process running instead (started with
`ip netns exec`). It needs no scapy (the test process builds and parses the
frames), so it starts in a few tens of milliseconds.

One AF_PACKET socket bound to the TAP; a thread stores every frame that
ARRIVES on it (what the stack sends, not what the kernel or we send). Commands
are JSON lines on stdin, answers JSON lines on stdout:

  {"op": "send", "frames": ["<hex>", ...]}       -> {"sent": N}
  {"op": "recv", "port": P, "count": N, "timeout": T, "settle": S}
      TCP frames to port P (None: any TCP frame), oldest first, taken out of
      the buffer. Waits until N are there or T seconds passed, then S more
      seconds for frames that should not come.  -> {"frames": ["<hex>", ...]}
  {"op": "quit"}                                   -> exits

Every wait is bounded by the timeouts in the command (at most 30 s each).
"""

import argparse
import json
import socket
import sys
import threading
import time

ETH_P_ALL = 0x0003
MAX_WAIT = 30.0
MAX_BUFFERED = 100000


def tcp_dport(frame):
    """TCP destination port of an Ethernet/IPv4/TCP frame, else None."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00' or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0f) * 4
    off = 14 + ihl
    if len(frame) < off + 4:
        return None
    return int.from_bytes(frame[off + 2:off + 4], 'big')


class Capture:
    def __init__(self, iface):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, ETH_P_ALL))
        self.cond = threading.Condition()
        self.frames = []  # (dport, bytes), oldest first
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            port = tcp_dport(data)
            if port is None:
                continue
            with self.cond:
                if len(self.frames) < MAX_BUFFERED:
                    self.frames.append((port, data))
                self.cond.notify_all()

    def send(self, frames):
        for f in frames:
            self.sock.send(f)
        return len(frames)

    def _take(self, port):
        got = [f for p, f in self.frames if port is None or p == port]
        self.frames = [(p, f) for p, f in self.frames if not (port is None or p == port)]
        return got

    def recv(self, port, count, timeout, settle):
        timeout = min(max(timeout, 0.0), MAX_WAIT)
        settle = min(max(settle, 0.0), MAX_WAIT)
        out = []
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                out += self._take(port)
                left = deadline - time.monotonic()
                if len(out) >= count or left <= 0:
                    break
                self.cond.wait(left)
            if settle > 0:
                end = time.monotonic() + settle
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                out += self._take(port)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', default='kbt0')
    args = ap.parse_args()
    cap = Capture(args.iface)
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.get('op')
        if op == 'send':
            answer = {'sent': cap.send([bytes.fromhex(h) for h in cmd['frames']])}
        elif op == 'recv':
            frames = cap.recv(cmd.get('port'), int(cmd.get('count', 1)),
                              float(cmd.get('timeout', 1.0)), float(cmd.get('settle', 0.0)))
            answer = {'frames': [f.hex() for f in frames]}
        elif op == 'quit':
            break
        else:
            answer = {'error': f'unknown op {op!r}'}
        print(json.dumps(answer), flush=True)
    cap.stop = True
    cap.sock.close()


if __name__ == '__main__':
    main()
