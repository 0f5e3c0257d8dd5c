"""The peer side of test_conformance.py: a scapy-crafted TCP endpoint that
checks every segment the stack sends against a model of what it must send.

- Rig: kbtnet.KbtNet (namespace + app on a TAP) plus what the suite adds in
  that namespace: the iptables rule that keeps the kernel quiet, the
  long-lived packet driver (conformance_driver.py) and the app's DPDK
  telemetry socket (TCP counters and connections per state).
- Conn: one connection as we (the peer at 198.18.0.1) see it: our sequence
  numbers and timestamps, and a model of the stack's: where its next
  segment starts, which TSecr it must echo (RFC 7323 §4.3) and which window
  it must advertise (receiver SWS avoidance, RFC 9293 §3.8.6.2.2, as
  lib/tcp/output.cc advertised_window() does it).
- Seg: one parsed segment from the stack, options decoded byte by byte.

Only addresses of kbtnet (198.18.0.1 and 198.18.0.2) are ever used.
"""

import json
import os
import select
import socket
import struct
import subprocess

import kbtnet
from scapy.all import IP, TCP, Ether, Raw

DRIVER = os.path.join(kbtnet.HERE, 'conformance_driver.py')

# What lib/tcp/config.hh (tcp_config) and tcp_layer.cc give a connection.
BUFFER = 256 * 1024      # rcv_buffer: the most a connection holds and offers
STACK_MSS = 1460         # mss advertised in the stack's SYN and SYN-ACK
STACK_WSCALE = 3         # rcv_wscale_for_buffer(): smallest s with BUFFER >> s <= 65535
SYN_WINDOW = 65535       # min(receive_space, 0xffff), unscaled (RFC 7323 §2.2)
DELAYED_ACK = 0.040      # delayed_ack
MIN_RTO = 0.200          # rtt_config::min_rto_ns; after a sub-ms handshake RTO is this

# lib/tcp/syn_cookie.hh kMssTable: a cookie's low 3 bits index it.
COOKIE_MSS_TABLE = (536, 1200, 1300, 1400, 1440, 1452, 1460, 8960)
TS_OPTION_SPACE = 12     # output.cc kTsOptionSpace: NOP NOP + 10-byte timestamps

# Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
EOL, NOP, MSS, WSCALE, SACK_OK, SACK, TIMESTAMPS = 0, 1, 2, 3, 4, 5, 8

_FLAG_BITS = (('F', 0x01), ('S', 0x02), ('R', 0x04), ('P', 0x08), ('A', 0x10),
              ('U', 0x20), ('E', 0x40), ('C', 0x80))


def flags_str(value):
    """0x12 -> 'SA': flag letters in bit order (FSRPAUEC)."""
    return ''.join(c for c, b in _FLAG_BITS if value & b)


def flags_val(text):
    bits = dict(_FLAG_BITS)
    return sum(bits[c] for c in text)


def parse_options(raw):
    """[(kind, value bytes)] of a TCP option area, NOPs included, EOL ends it."""
    out, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == EOL:
            break
        if kind == NOP:
            out.append((NOP, b''))
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            out.append((kind, b'<malformed>'))
            break
        length = raw[i + 1]
        out.append((kind, raw[i + 2:i + length]))
        i += length
    return out


class Seg:
    """A segment from the stack (Ethernet/IPv4/TCP frame), fields decoded."""

    def __init__(self, frame):
        self.frame = frame
        p = Ether(frame)
        ip, tcp = p[IP], p[TCP]
        self.src, self.dst = ip.src, ip.dst
        self.sport, self.dport = tcp.sport, tcp.dport
        self.seq, self.ack = tcp.seq, tcp.ack
        self.flags = flags_str(int(tcp.flags))
        self.window = tcp.window
        self.urgptr = tcp.urgptr
        hdr = bytes(tcp)[:tcp.dataofs * 4]
        self.options = parse_options(hdr[20:])
        self.payload = bytes(ip)[ip.ihl * 4 + tcp.dataofs * 4:ip.len]
        self.ip_len = ip.len

    def opt(self, kind):
        for k, v in self.options:
            if k == kind:
                return v
        return None

    def mss(self):
        v = self.opt(MSS)
        return struct.unpack('!H', v)[0] if v is not None and len(v) == 2 else None

    def wscale(self):
        v = self.opt(WSCALE)
        return v[0] if v is not None and len(v) == 1 else None

    def sack_permitted(self):
        return self.opt(SACK_OK) == b''

    def ts(self):
        v = self.opt(TIMESTAMPS)
        return struct.unpack('!II', v) if v is not None and len(v) == 8 else None

    def sack_blocks(self):
        v = self.opt(SACK)
        if v is None:
            return []
        return [struct.unpack('!II', v[i:i + 8]) for i in range(0, len(v), 8)]

    def seg_len(self):
        return len(self.payload) + ('S' in self.flags) + ('F' in self.flags)

    def __repr__(self):
        names = {NOP: 'nop', MSS: 'mss', WSCALE: 'ws', SACK_OK: 'sackok', SACK: 'sack',
                 TIMESTAMPS: 'ts'}
        opts = []
        for k, v in self.options:
            if k == NOP:
                continue
            if k == MSS and len(v) == 2:
                opts.append(f'mss={struct.unpack("!H", v)[0]}')
            elif k == WSCALE and len(v) == 1:
                opts.append(f'ws={v[0]}')
            elif k == TIMESTAMPS and len(v) == 8:
                opts.append('ts=%d/%d' % struct.unpack('!II', v))
            elif k == SACK:
                opts.append(f'sack={self.sack_blocks()}')
            else:
                opts.append(f'{names.get(k, k)}:{v.hex()}')
        return (f'<{self.sport}>{self.dport} {self.flags or "."} seq={self.seq} ack={self.ack} '
                f'win={self.window} len={len(self.payload)}'
                + (f' urg={self.urgptr}' if self.urgptr else '')
                + (f' [{" ".join(opts)}]' if opts else '') + '>')


# --------------------------------------------------------------------------
# the apps

def _build_dir_exe(env, *parts):
    """An executable named by env, else beside KBT_TEST_ECHO's build, else build/."""
    if os.environ.get(env):
        return os.environ[env]
    echo = os.environ.get('KBT_TEST_ECHO')
    if echo:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(echo))))
        return os.path.join(build, *parts)
    return os.path.join(kbtnet.REPO, 'build', *parts)


def echo_path():
    return _build_dir_exe('KBT_TEST_ECHO', 'tests', 'interop', 'kbt-test-echo')


def httpd_path():
    return _build_dir_exe('KBT_HTTPD', 'apps', 'kbt-httpd')


def app_cmd(exe, prefix, *extra):
    """A kbt app on TAP kbt0 at 198.18.0.2 with its own telemetry file prefix."""
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--file-prefix', prefix, '--vdev=net_tap0,iface=kbt0', '--',
            '--ip', f'{kbtnet.STACK_IP}/{kbtnet.PREFIX_LEN}', '--stats-interval', '1', *extra]


class Telemetry:
    """DPDK telemetry of one app (/var/run/dpdk/<prefix>/dpdk_telemetry.v2).

    A unix socket on the file system, so reachable from outside the
    namespace; each query is one connection (bounded by a 5 s timeout).
    """

    def __init__(self, prefix):
        self.prefix = prefix
        self.path = os.path.join(kbtnet.DPDK_RUNTIME_DIR, prefix, 'dpdk_telemetry.v2')

    def query(self, command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(self.path)
            s.recv(16384)  # greeting
            s.send(command.encode())
            reply = json.loads(s.recv(1 << 20).decode())
        finally:
            s.close()
        return reply[command]

    def counters(self):
        """/kbt/stats summed over cores: tcp_*, drop_*, rx_pkts, ..."""
        return {k: v for k, v in self.query('/kbt/stats').items() if not k.startswith('core')}

    def states(self):
        return self.query('/kbt/tcp/states')

    def cleanup(self):
        """The runtime directory DPDK left for our prefix (ours alone)."""
        kbtnet.remove_dpdk_runtime(self.prefix)


_prefix_counter = 0


class Rig:
    """One app in its namespace, ready for crafted segments.

    Keeping the kernel out of the way: we send as 198.18.0.1, the kernel's
    own address, so ARP works in both directions without us (the kernel
    answers the stack's requests, the stack answers arping). The kernel
    sees the stack's answers too and, having no socket for them, answers
    each with a RST; `iptables -A OUTPUT -p tcp --tcp-flags RST RST -d
    198.18.0.2 -j DROP` in the namespace drops those before they reach the
    TAP. An address the kernel does not own would need the driver to answer
    ARP for it in time for every first reply, for no gain.
    """

    def __init__(self, exe, *extra, name='app'):
        global _prefix_counter
        _prefix_counter += 1
        self.prefix = f'kbt-conf-{os.getpid()}-{_prefix_counter}'
        self.name = name
        self.cmd = app_cmd(exe, self.prefix, *extra)
        self.net = None
        self.driver = None
        self.telemetry = Telemetry(self.prefix)
        self.mac = None

    def __enter__(self):
        self.net = kbtnet.KbtNet(self.cmd, ready=kbtnet.KBT_READY)
        try:
            self.net.__enter__()  # stops the app itself if it fails
        except BaseException:
            self.telemetry.cleanup()
            raise
        try:
            self._setup()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _setup(self):
        r = self.net.run('iptables', '-w', '5', '-A', 'OUTPUT', '-p', 'tcp', '--tcp-flags',
                         'RST', 'RST', '-d', kbtnet.STACK_IP, '-j', 'DROP', timeout=20)
        if r.returncode != 0:
            raise kbtnet.HarnessError(f'iptables failed: {r.stdout}{r.stderr}')
        self.mac = self.net.stack_mac()
        self.driver = subprocess.Popen(
            ['ip', 'netns', 'exec', self.net.ns, kbtnet.PYTHON, DRIVER, '--iface',
             self.net.iface], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        ready = self._read_line(10)
        if not ready.get('ready'):
            raise kbtnet.HarnessError(f'driver did not start: {ready}')
        kbtnet.wait_for(self._telemetry_up, 10, interval=0.1, what='telemetry socket')

    def _telemetry_up(self):
        try:
            return self.telemetry.states() is not None
        except (OSError, ValueError, KeyError):
            return False

    def __exit__(self, *exc):
        try:
            if self.driver is not None:
                try:
                    self.driver.stdin.write(json.dumps({'op': 'quit'}) + '\n')
                    self.driver.stdin.flush()
                    self.driver.wait(timeout=3)
                except (OSError, subprocess.TimeoutExpired, ValueError):
                    self.driver.kill()
                    self.driver.wait(timeout=3)
                for f in (self.driver.stdin, self.driver.stdout, self.driver.stderr):
                    try:
                        f.close()
                    except OSError:
                        pass
        finally:
            try:
                self.net.__exit__(*exc)
            finally:
                self.telemetry.cleanup()
        return False

    # ---- the driver

    def _read_line(self, timeout):
        fd = self.driver.stdout
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise kbtnet.HarnessError(f'driver silent for {timeout}s; stderr: '
                                      + self._driver_stderr())
        line = fd.readline()
        if not line:
            raise kbtnet.HarnessError('driver exited; stderr: ' + self._driver_stderr())
        return json.loads(line)

    def _driver_stderr(self):
        if self.driver.poll() is None:
            return '(still running)'
        return self.driver.stderr.read()

    def _command(self, cmd, timeout):
        self.driver.stdin.write(json.dumps(cmd) + '\n')
        self.driver.stdin.flush()
        return self._read_line(timeout)

    def send_frames(self, frames):
        r = self._command({'op': 'send', 'frames': [bytes(f).hex() for f in frames]}, 10)
        if r.get('sent') != len(frames):
            raise kbtnet.HarnessError(f'driver sent {r} of {len(frames)} frames')

    def recv_frames(self, port, count, timeout, settle):
        r = self._command({'op': 'recv', 'port': port, 'count': count, 'timeout': timeout,
                           'settle': settle}, timeout + settle + 10)
        return [bytes.fromhex(h) for h in r['frames']]

    def eth(self):
        return Ether(dst=self.mac, src=kbtnet.KERNEL_MAC, type=0x0800)


# --------------------------------------------------------------------------
# one connection

def build_frame(rig, sport, dport, flags, seq, ack, window, options=(), payload=b'',
                urgptr=0, raw_options=None, chksum=None):
    """Ether/IP/TCP from 198.18.0.1 to the stack. raw_options: option bytes
    put in the header as they are (for malformed ones); chksum: force it."""
    ip = IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP, id=(seq ^ sport) & 0xffff)
    if raw_options is not None:
        pad = (-len(raw_options)) % 4
        opt = raw_options + b'\x00' * pad
        tcp = TCP(sport=sport, dport=dport, flags=flags_val(flags), seq=seq & 0xffffffff,
                  ack=ack & 0xffffffff, window=window, urgptr=urgptr,
                  dataofs=5 + len(opt) // 4, options=[])
        seg = tcp / Raw(opt + payload)
    else:
        tcp = TCP(sport=sport, dport=dport, flags=flags_val(flags), seq=seq & 0xffffffff,
                  ack=ack & 0xffffffff, window=window, urgptr=urgptr, options=list(options))
        seg = tcp / Raw(payload) if payload else tcp
    if chksum is not None:
        seg[TCP].chksum = chksum
    return rig.eth() / ip / seg


def good_chksum(frame):
    """The TCP checksum scapy computes for `frame` (built with chksum=None)."""
    return Ether(bytes(frame))[TCP].chksum


def sub(a, b):
    """a - b modulo 2^32."""
    return (a - b) & 0xffffffff


def add(a, b):
    return (a + b) & 0xffffffff


class ConformanceError(AssertionError):
    pass


class Conn:
    """A connection from 198.18.0.1:sport to the stack, built by hand.

    ts/ws/sack/mss: what our SYN offers (mss=None: no MSS option).
    Model of the stack (checked on every segment by expect()):
      rcv_nxt       where the stack's next segment starts (its SND.NXT)
      stack_ws      the shift its windows use (3 when we offered window scale)
      rcv_adv       the right edge of its last advertised window (absolute)
      ts_recent     the TSecr it must echo (RFC 7323 §4.3)
      last_ack_sent the ACK field of its last segment (RFC 7323 §4.3)
    """

    def __init__(self, rig, sport, dport, isn=None, ts=True, ws=2, sack=True, mss=1460,
                 window=16384):
        self.rig = rig
        self.sport, self.dport = sport, dport
        self.isn = isn if isn is not None else (sport * 7919 * 65537) & 0xffffffff
        self.snd_nxt = self.isn          # our SND.NXT
        self.offer_ts, self.offer_ws, self.offer_sack, self.offer_mss = ts, ws, sack, mss
        self.window = window             # our window field (scaled by ws if negotiated)
        self.tsval = (sport * 1000003) & 0x3fffffff  # ours, +1 per segment sent
        self.ts_ok = self.ws_ok = self.sack_ok = False
        self.stack_iss = None
        self.rcv_nxt = None              # the stack's SND.NXT as we have seen it
        self.rcv_adv = None
        self.stack_ws = 0
        self.ts_recent = None
        self.last_ack_sent = None
        self.last_stack_tsval = None
        self.snd_mss = min(mss if mss is not None else 536, STACK_MSS)
        self._stack_rcv_nxt = None
        self.syn_tsval = None
        self.log = []                    # (direction, text) for failure messages
        self.pending = []                # received, not checked yet (oldest first)

    # ---- sending

    def next_tsval(self):
        self.tsval = add(self.tsval, 1)
        return self.tsval

    def options(self, ts=True, tsval=None, extra=()):
        """Options of a non-SYN segment: timestamps when negotiated."""
        opts = list(extra)
        if self.ts_ok and ts:
            tv = self.next_tsval() if tsval is None else tsval
            opts = [('NOP', None), ('NOP', None), ('Timestamp', (tv, self.ts_recent_peer()))] + opts
        return opts

    def raw_ts(self):
        """NOP NOP Timestamps as raw option bytes, for hand-made option areas."""
        return b'\x01\x01\x08\x0a' + struct.pack('!II', self.next_tsval(), self.ts_recent_peer())

    def ts_recent_peer(self):
        """Our TSecr: the stack's latest TSval."""
        return self.last_stack_tsval or 0

    def send(self, flags, payload=b'', seq=None, ack=None, window=None, ts=True, tsval=None,
             options=None, raw_options=None, urgptr=0, chksum=None, advance=None,
             accepted=True):
        """Send one segment. seq defaults to our SND.NXT and ack to the stack's.

        advance (default: seq was defaulted) moves our SND.NXT past the
        segment. accepted: whether the stack takes the segment past its
        sequence and PAWS checks (then RFC 7323 §4.3 may move TS.Recent).
        """
        if advance is None:
            advance = seq is None
        seq = self.snd_nxt if seq is None else seq
        if ack is None:
            ack = self.rcv_nxt if self.rcv_nxt is not None else 0
        if window is None:
            window = self.window
        if options is None:
            opts = self.options(ts=ts, tsval=tsval) if raw_options is None else []
        else:
            opts = options
        tv_sent = None
        for name, val in opts:
            if name == 'Timestamp':
                tv_sent = val[0]
        for kind, val in parse_options(raw_options or b''):
            if kind == TIMESTAMPS and len(val) == 8:
                tv_sent = struct.unpack('!II', val)[0]
        frame = build_frame(self.rig, self.sport, self.dport, flags, seq, ack, window, opts,
                            payload, urgptr=urgptr, raw_options=raw_options,
                            chksum=None if chksum == 'bad' else chksum)
        if chksum == 'bad':
            # Whatever scapy computes, flipped: wrong for sure, and not 0.
            frame[TCP].chksum = good_chksum(frame) ^ 0x5a5a
        seg_len = len(payload) + ('S' in flags) + ('F' in flags)
        if (accepted and tv_sent is not None and self.last_ack_sent is not None
                and 'R' not in flags
                and sub(self.last_ack_sent, seq) <= seg_len):
            # RFC 7323 §4.3 (1) as input.cc check_sequence():
            # SEG.SEQ <= Last.ACK.sent <= SEG.SEQ + SEG.LEN.
            self.ts_recent = tv_sent
        if advance:
            self.snd_nxt = add(seq, seg_len)
        self.log.append(('>', f'{flags} seq={seq} ack={ack} win={window} len={len(payload)}'
                         + (f' tsval={tv_sent}' if tv_sent is not None else '')))
        self.rig.send_frames([frame])
        return frame

    # ---- receiving

    def recv(self, count=1, timeout=2.0, settle=0.15):
        """Segments from the stack for this connection: what arrived
        already and was not looked at yet first, then up to `count` (more
        only if they arrive within `settle`)."""
        segs, self.pending = self.pending, []
        if len(segs) < count or settle > 0:
            frames = self.rig.recv_frames(self.sport, max(count - len(segs), 0),
                                          timeout if len(segs) < count else 0, settle)
            fresh = [Seg(f) for f in frames]
            for s in fresh:
                self.log.append(('<', repr(s)))
            segs += fresh
        return segs

    def next_seg(self, timeout=3.0):
        """The next segment from the stack, unchecked (the rest stay pending)."""
        segs = self.recv(1, timeout, 0)
        if not segs:
            self.fail(f'nothing from the stack within {timeout}s')
        self.pending = segs[1:]
        return segs[0]

    def history(self):
        return '\n'.join(f'  {d} {t}' for d, t in self.log[-30:])

    def fail(self, msg):
        raise ConformanceError(f'{msg}\n  connection {self.sport}->{self.dport}, '
                               f'last segments:\n{self.history()}')

    def model_window(self, held=0):
        """The window field the stack must send now (advertised_window()),
        moving our copy of its right edge; `held` is what it holds unread
        (in-order data the app has not taken, or out-of-order data)."""
        right = add(self.rcv_nxt_stack_side(), BUFFER - held)
        step = min(BUFFER // 2, self.snd_mss)
        if 0 < sub(right, self.rcv_adv) < 0x80000000 and sub(right, self.rcv_adv) >= step:
            self.rcv_adv = right
        elif 0 < sub(self.rcv_nxt_stack_side(), self.rcv_adv) < 0x80000000:
            self.rcv_adv = self.rcv_nxt_stack_side()
        wnd = sub(self.rcv_adv, self.rcv_nxt_stack_side())
        return min(wnd >> self.stack_ws, 0xffff)

    def rcv_nxt_stack_side(self):
        """The stack's RCV.NXT: what its ACK field says (set by expect())."""
        return self._stack_rcv_nxt

    def expect(self, flags, seq=None, ack=None, window='model', held=0, payload=b'',
               sack=(), tsecr='model', timeout=2.0, seg=None):
        """Take the next segment from the stack (waiting up to `timeout`) and
        check every field; segments are checked strictly in the order they
        came, and expect_nothing() fails on any left unchecked.

        seq defaults to the stack's next sequence number, ack to our SND.NXT,
        window to the model (held: bytes the stack holds unread when it
        sends), tsecr to the model's TS.Recent, sack to no SACK blocks.
        """
        if seg is None:
            segs = self.recv(1, timeout, 0)
            if not segs:
                self.fail(f'expected {flags} within {timeout}s, got nothing')
            seg, self.pending = segs[0], segs[1:]
        self.check(seg, flags, seq=seq, ack=ack, window=window, held=held, payload=payload,
                   sack=sack, tsecr=tsecr)
        return seg

    def check(self, seg, flags, seq=None, ack=None, window='model', held=0, payload=b'',
              sack=(), tsecr='model'):
        want_seq = self.rcv_nxt if seq is None else seq
        want_ack = self.snd_nxt if ack is None else ack
        problems = []
        if seg.flags != flags:
            problems.append(f'flags {seg.flags!r} != {flags!r}')
        if seg.seq != want_seq:
            problems.append(f'seq {seg.seq} != {want_seq} (diff {sub(seg.seq, want_seq)})')
        if 'A' in flags and seg.ack != want_ack:
            problems.append(f'ack {seg.ack} != {want_ack} (diff {sub(seg.ack, want_ack)})')
        if 'A' not in flags and seg.ack != (0 if ack is None else ack):
            problems.append(f'ack field {seg.ack} != {0 if ack is None else ack} (no ACK flag)')
        if payload is not None and seg.payload != payload:
            problems.append(f'payload {seg.payload[:40]!r}... ({len(seg.payload)} bytes) != '
                            f'{payload[:40]!r}... ({len(payload)} bytes)')
        if 'A' in flags and 'R' not in flags:
            self._stack_rcv_nxt = seg.ack
        if window == 'model':
            want_win = 0 if 'R' in flags else self.model_window(held)
        else:
            want_win = window
        if want_win is not None and seg.window != want_win:
            problems.append(f'window {seg.window} != {want_win}')
        ts = seg.ts()
        if 'R' in flags:
            # RFC 7323 §3.2: timestamps SHOULD ride on a RST of a connection
            # that has them (kbt sends none; allowed either way); a RST for
            # no connection has nothing to carry.
            allowed = {NOP, TIMESTAMPS} if self.ts_ok else set()
            if any(k not in allowed for k, _ in seg.options):
                problems.append(f'RST with options {seg.options}')
        elif self.ts_ok:
            if ts is None:
                problems.append('no timestamps option on a connection that has them')
            else:
                want_ecr = self.ts_recent if tsecr == 'model' else tsecr
                if want_ecr is not None and ts[1] != want_ecr:
                    problems.append(f'TSecr {ts[1]} != {want_ecr} (RFC 7323 §4.3)')
                if (self.last_stack_tsval is not None
                        and sub(ts[0], self.last_stack_tsval) >= 0x80000000):
                    problems.append(f'TSval went back: {ts[0]} < {self.last_stack_tsval} '
                                    '(RFC 7323 §5.4)')
                self.last_stack_tsval = ts[0]
        elif ts is not None:
            problems.append('timestamps option on a connection without them (RFC 7323 §3.2)')
        if list(sack) != seg.sack_blocks():
            problems.append(f'SACK blocks {seg.sack_blocks()} != {list(sack)}')
        if problems:
            self.fail(f'segment {seg!r} wrong: ' + '; '.join(problems))
        if 'A' in flags and 'R' not in flags:
            self.last_ack_sent = seg.ack
        if 'R' not in flags and self.rcv_nxt is not None and seg.seq == self.rcv_nxt:
            self.rcv_nxt = add(seg.seq, seg.seg_len())
        return seg

    def expect_nothing(self, wait=0.3):
        """Nothing unchecked, and nothing more for `wait` seconds."""
        segs = self.recv(1, wait, 0)
        if segs:
            self.fail(f'expected no (further) answer within {wait}s, got {segs}')

    # ---- the handshake

    def syn_options(self):
        opts = []
        if self.offer_mss is not None:
            opts.append(('MSS', self.offer_mss))
        if self.offer_sack:
            opts.append(('SAckOK', b''))
        if self.offer_ts:
            opts.append(('Timestamp', (self.next_tsval(), 0)))
        if self.offer_ws is not None:
            opts += [('NOP', None), ('WScale', self.offer_ws)]
        return opts

    def send_syn(self, **kw):
        opts = self.syn_options()
        self.syn_tsval = self.tsval if self.offer_ts else None
        self.snd_nxt = self.isn
        return self.send('S', seq=self.isn, ack=0, window=kw.pop('window', 65535),
                         options=opts, advance=True, **kw)

    def take_syn_ack(self, seg, cookie=False):
        """Check a SYN-ACK's numbers and options and set the model up from it."""
        problems = []
        if seg.flags != 'SA':
            problems.append(f'flags {seg.flags!r} != SA')
        if seg.ack != add(self.isn, 1):
            problems.append(f'ack {seg.ack} != ISN+1 {add(self.isn, 1)}')
        if seg.window != SYN_WINDOW:
            problems.append(f'window {seg.window} != {SYN_WINDOW} (unscaled in a SYN)')
        if seg.payload:
            problems.append('data on a SYN-ACK')
        if seg.mss() != STACK_MSS:
            problems.append(f'MSS option {seg.mss()} != {STACK_MSS}')
        want_ts = self.offer_ts
        want_ws = self.offer_ws is not None and (self.offer_ts or not cookie)
        want_sack = self.offer_sack and (self.offer_ts or not cookie)
        if want_ws and seg.wscale() != STACK_WSCALE:
            problems.append(f'window scale {seg.wscale()} != {STACK_WSCALE}')
        if not want_ws and seg.wscale() is not None:
            problems.append(f'window scale {seg.wscale()} not offered back (RFC 7323 §2.2)')
        if seg.sack_permitted() != want_sack:
            problems.append(f'SACK-permitted {seg.sack_permitted()} != {want_sack}')
        ts = seg.ts()
        if want_ts and (ts is None or ts[1] != self.syn_tsval):
            problems.append(f'timestamps {ts}: TSecr must echo our TSval {self.syn_tsval}')
        if not want_ts and ts is not None:
            problems.append('timestamps on a SYN-ACK to a SYN without them')
        if problems:
            self.fail(f'SYN-ACK {seg!r} wrong: ' + '; '.join(problems))
        if cookie:
            # The cookie keeps only an index into its MSS table (syn_cookie.hh).
            self.snd_mss = min(COOKIE_MSS_TABLE[seg.seq & 7], STACK_MSS)
        self.stack_iss = seg.seq
        self.rcv_nxt = add(seg.seq, 1)
        self._stack_rcv_nxt = seg.ack
        self.rcv_adv = add(seg.ack, SYN_WINDOW)
        self.ts_ok = want_ts
        self.ws_ok = want_ws
        self.sack_ok = want_sack
        self.stack_ws = STACK_WSCALE if want_ws else 0
        if ts is not None:
            self.last_stack_tsval = ts[0]
        self.ts_recent = self.syn_tsval if want_ts else None
        self.last_ack_sent = seg.ack
        return seg

    def open(self, data=b'', cookie=False):
        """SYN, SYN-ACK (checked), ACK (with `data`, echo checked)."""
        self.send_syn()
        self.take_syn_ack(self.next_seg(), cookie=cookie)
        self.send('PA' if data else 'A', data)
        if data:
            self.expect_echo(data)
        return self

    def expect_echo(self, data, ack_it=True):
        """The echo of `data` in one segment (PSH, piggybacked ACK); ACK it."""
        seg = self.expect('PA', payload=data)
        if ack_it:
            self.send('A')
        return seg

    def echo_round(self, data):
        """Send `data` in order, check its echo, ACK it."""
        self.send('PA', data)
        return self.expect_echo(data)

    def close_from_peer(self):
        """FIN, the stack's ACK of it and its own FIN (half-close followed), our ACK."""
        self.send('FA')
        self.expect('A')
        self.expect('FA')
        self.send('A')
