"""Raw HTTP exchanges for the kbt-httpd interop tests (test_httpd_strict.py,
test_httpd_root.py): the same bytes to kbt-httpd and to nginx, and what
came back, parsed only as far as status lines, lengths and the close.
"""

import json

import kbtnet

# Runs in the namespace. stdin: a JSON list of cases {ip, port, chunks (hex
# pieces written in turn), gap (s between pieces), read_delay (s before the
# first read), idle (s of silence that ends the read)}. Prints per case the
# bytes (latin-1), whether the server closed (eof) or reset, and when the
# first byte came (s after the first write).
CLIENT = r'''
import json, socket, sys, time
out = []
for c in json.load(sys.stdin):
    s = socket.create_connection((c['ip'], c['port']), timeout=5)
    t0 = time.monotonic()
    first = None
    buf, eof, reset = b'', False, False
    s.setblocking(False)
    chunks = [bytes.fromhex(h) for h in c['chunks']]
    for i, piece in enumerate(chunks):
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(piece)
        s.setblocking(False)
        if i + 1 < len(chunks):
            end = time.monotonic() + c['gap']
            while time.monotonic() < end:  # note what comes between pieces
                try:
                    d = s.recv(65536)
                    if not d:
                        eof = True
                        break
                    if first is None:
                        first = time.monotonic() - t0
                    buf += d
                except BlockingIOError:
                    time.sleep(0.01)
                except ConnectionResetError:
                    reset = True
                    break
            if eof or reset:
                break
    time.sleep(c['read_delay'])
    s.setblocking(True)
    s.settimeout(c['idle'])
    deadline = time.monotonic() + 15
    while not eof and not reset and time.monotonic() < deadline:
        try:
            d = s.recv(262144)
        except socket.timeout:
            break
        except ConnectionResetError:
            reset = True
            break
        if not d:
            eof = True
            break
        if first is None:
            first = time.monotonic() - t0
        buf += d
    s.close()
    out.append({'raw': buf.decode('latin-1'), 'eof': eof, 'reset': reset, 'first': first})
print(json.dumps(out))
'''

KBT = (kbtnet.STACK_IP, 80)
NGINX = (kbtnet.KERNEL_IP, 8080)  # test_load.nginx()


def exchange(net, server, cases):
    """Sends each case (dict: chunks as bytes, optional gap/read_delay/idle)
    to server (ip, port); returns the client's per-case results."""
    spec = [{'ip': server[0], 'port': server[1],
             'chunks': [c.hex() for c in case['chunks']],
             'gap': case.get('gap', 0.0), 'read_delay': case.get('read_delay', 0.0),
             'idle': case.get('idle', 1.0)} for case in cases]
    r = net.run(kbtnet.PYTHON, '-c', CLIENT, input=json.dumps(spec), timeout=300)
    if r.returncode != 0:
        raise AssertionError(f'raw client failed: {r.stdout}{r.stderr}')
    return json.loads(r.stdout)


def parse(raw, head=False):
    """The responses in raw: a list of dicts (status, headers, body); an
    answer with no status line (HTTP/0.9) is status 'body-only'."""
    data = raw.encode('latin-1')
    out = []
    while data:
        if not data.startswith(b'HTTP/'):
            out.append({'status': 'body-only', 'headers': {}, 'body': data})
            break
        if b'\r\n\r\n' not in data:
            out.append({'status': 'torn', 'headers': {}, 'body': data})
            break
        top, data = data.split(b'\r\n\r\n', 1)
        lines = top.decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(':')
            headers[k.strip().lower()] = v.strip()
        n = 0
        if not head and status >= 200 and status not in (204, 304):
            n = int(headers.get('content-length', '0'))
        out.append({'status': status, 'headers': headers, 'body': data[:n]})
        data = data[n:]
    return out


def summary(result, head=False):
    """(statuses, how the connection ended) of one exchange."""
    ended = 'reset' if result['reset'] else 'closed' if result['eof'] else 'open'
    return [r['status'] for r in parse(result['raw'], head)], ended
