#!/usr/bin/python3
"""kbt-httpd --root DIR (issue 15): the files of a directory served from
memory, with Content-Type by extension, HEAD, 404 for a missing file, 403
for a ".." path and for an entry that is not a regular file (a FIFO), and
ETag / If-None-Match (304, RFC 9110 §13.1.2). nginx serves the same tree in
the same namespace as the reference for the statuses; for ".." nginx answers 400 where kbt-httpd answers 403. A tree past --max-root-bytes
is refused at start-up with a message that names the flag.

Run by hand: sudo /usr/bin/python3 tests/interop/test_httpd_root.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import httpd_raw  # noqa: E402
import kbtnet  # noqa: E402
import test_load  # noqa: E402  (its nginx())

FILES = {
    'index.html': b'<html>kbt</html>\n',
    'style.css': b'body { color: red }\n',
    'data.json': b'{"a": 1}\n',
    'sub/page.txt': b'sub page\n' * 300,
    'sub/index.html': b'<p>sub index</p>\n',
    'blob.bin': bytes(range(256)) * 40,
}
TYPES = {'index.html': 'text/html', 'style.css': 'text/css', 'data.json': 'application/json',
         'sub/page.txt': 'text/plain', 'blob.bin': 'application/octet-stream'}


def make_tree(d):
    for name, body in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
        with open(os.path.join(d, name), 'wb') as f:
            f.write(body)


def get(path, extra=b'', method=b'GET'):
    return {'chunks': [method + b' ' + path + b' HTTP/1.1\r\nHost: x\r\n' + extra + b'\r\n']}


class Root(unittest.TestCase):
    def test_1_files_types_head_404_403_etag(self):
        with tempfile.TemporaryDirectory(prefix='kbt-httpd-root-') as tmp:
            tree = os.path.join(tmp, 'tree')
            make_tree(tree)
            os.mkfifo(os.path.join(tree, 'fifo'))
            names = list(TYPES)
            cases = [get(b'/' + n.encode()) for n in names]
            cases += [get(b'/'), get(b'/sub/'), get(b'/nope.html'), get(b'/style.css', method=b'HEAD'),
                      get(b'/sub/../../etc/passwd'), get(b'/fifo'), get(b'/%73tyle.css')]
            with kbtnet.KbtNet(kbtnet.httpd_cmd('--root', tree), ready=kbtnet.KBT_READY) as net:
                kbt = httpd_raw.exchange(net, httpd_raw.KBT, cases)
                etag = httpd_raw.parse(kbt[1]['raw'])[0]['headers'].get('etag', '')
                inm = httpd_raw.exchange(net, httpd_raw.KBT, [
                    get(b'/style.css', b'If-None-Match: ' + etag.encode() + b'\r\n'),
                    get(b'/style.css', b'If-None-Match: "other", W/' + etag.encode() + b'\r\n'),
                    get(b'/style.css', b'If-None-Match: "other"\r\n'),
                    get(b'/style.css', b'If-None-Match: *\r\n')])
                with test_load.nginx(net, tmp):
                    www = os.path.join(tmp, 'www')
                    shutil.rmtree(www)
                    make_tree(www)
                    ngx = httpd_raw.exchange(net, httpd_raw.NGINX, cases[:len(names) + 4])
            self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        for i, n in enumerate(names):
            with self.subTest(n):
                k = httpd_raw.parse(kbt[i]['raw'])
                g = httpd_raw.parse(ngx[i]['raw'])
                print(f'{n}: kbt {k[0]["status"]} {k[0]["headers"].get("content-type")} '
                      f'nginx {g[0]["status"]} {g[0]["headers"].get("content-type")}')
                self.assertEqual(k[0]['status'], 200)
                self.assertEqual(k[0]['body'], FILES[n])
                self.assertEqual(k[0]['headers']['content-type'], TYPES[n])
                self.assertEqual(g[0]['status'], 200)  # (its types need a mime.types)
                self.assertTrue(k[0]['headers'].get('etag', '').startswith('"'))
        rest = ['index', 'sub_index', 'missing', 'head', 'dotdot', 'fifo', 'percent']
        got = {r: httpd_raw.parse(kbt[len(names) + i]['raw'], head=(r == 'head'))
               for i, r in enumerate(rest)}
        ngot = {r: httpd_raw.parse(ngx[len(names) + i]['raw'], head=(r == 'head'))
                for i, r in enumerate(rest[:4])}
        print({r: v[0]['status'] for r, v in got.items()}, {r: v[0]['status'] for r, v in ngot.items()})
        with self.subTest('/ and /sub/ serve index.html, as nginx'):
            self.assertEqual(got['index'][0]['body'], FILES['index.html'])
            self.assertEqual(got['sub_index'][0]['body'], FILES['sub/index.html'])
            self.assertEqual(ngot['sub_index'][0]['body'], FILES['sub/index.html'])
        with self.subTest('missing: 404, as nginx'):
            self.assertEqual(got['missing'][0]['status'], 404)
            self.assertEqual(ngot['missing'][0]['status'], 404)
        with self.subTest('HEAD: the headers of GET, no body'):
            self.assertEqual(got['head'][0]['status'], 200)
            self.assertEqual(got['head'][0]['headers']['content-length'],
                             str(len(FILES['style.css'])))
            self.assertEqual(kbt[len(names) + 3]['raw'].count('body {'), 0)
        with self.subTest('".." escaping the root: 403 (nginx: 400)'):
            self.assertEqual(got['dotdot'][0]['status'], 403)
        with self.subTest('not a regular file: 403'):
            self.assertEqual(got['fifo'][0]['status'], 403)
        with self.subTest('percent-decoded path'):
            self.assertEqual(got['percent'][0]['body'], FILES['style.css'])
        with self.subTest('If-None-Match: 304 for the ETag, a list, W/ and *; 200 otherwise'):
            self.assertEqual([httpd_raw.summary(r)[0] for r in inm], [[304], [304], [200], [304]])
            self.assertEqual(httpd_raw.parse(inm[0]['raw'])[0]['headers']['etag'], etag)

    def test_2_tree_past_the_limit_refused_at_start(self):
        with tempfile.TemporaryDirectory(prefix='kbt-httpd-root-') as tmp:
            make_tree(tmp)
            r = subprocess.run([kbtnet.httpd_path(), '--no-huge', '-m', '64', '--no-shconf',
                                '--no-pci', '--', '--root', tmp, '--max-root-bytes', '4096'],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('--max-root-bytes', r.stderr)
            r = subprocess.run([kbtnet.httpd_path(), '--no-huge', '-m', '64', '--no-shconf',
                                '--no-pci', '--', '--root', os.path.join(tmp, 'absent')],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('not a readable directory', r.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
