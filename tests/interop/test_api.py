#!/usr/bin/python3
"""run_app as an application sees it (kbt-test-api, tests/interop/api_app.cc):
stack_config::tcp_on is respected, a stop requested from a handler or from
another thread ends the stack and run_app returns 0, and the user data of
connections still open at the stop is freed, once each.

Run by hand: sudo /usr/bin/python3 tests/interop/test_api.py
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

# Two connections from the namespace: the first sends "hello" and reads the
# echo, the second sends "stop"; both stay open (no close before the stop).
CLIENT = r'''
import socket, sys, time
a = socket.create_connection(("198.18.0.2", 7), timeout=5)
a.sendall(b"hello")
got = b""
while len(got) < 5:
    chunk = a.recv(5 - len(got))
    if not chunk:
        break
    got += chunk
b = socket.create_connection(("198.18.0.2", 7), timeout=5)
b.sendall(b"stop")
time.sleep(1.0)
print("echo=" + got.decode())
'''


def api_cmd(*extra):
    exe = os.environ.get('KBT_TEST_API',
                         os.path.join(kbtnet.REPO, 'build', 'tests', 'interop', 'kbt-test-api'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', f'{kbtnet.STACK_IP}/24',
            '--stats-interval', '1', *extra]


class RunApp(unittest.TestCase):
    def wait_exit(self, net, seconds=10):
        """The app must end by itself: no SIGTERM from the harness."""
        net.proc.wait(timeout=seconds)

    def assert_clean_end(self, net):
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        self.assertEqual(net.returncode, 0, net.describe())
        self.assertRegex(net.stdout, r'kbt stats: .* when=final')

    def test_stop_from_a_handler_frees_open_connections_user_data(self):
        with kbtnet.KbtNet(api_cmd('--port', '7', '--stop-on-data'), ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, '-c', CLIENT, timeout=20)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn('echo=hello', r.stdout)
            self.wait_exit(net)
        self.assert_clean_end(net)
        self.assertIn('kbt-test-api: stop requested from a handler', net.stdout)
        self.assertIn('run_app returned 0, user data freed 2 of 2', net.stdout)

    def test_stop_from_another_thread_with_tcp_off(self):
        with kbtnet.KbtNet(api_cmd('--tcp', 'off', '--stop-from-thread-ms', '3000'),
                           ready=kbtnet.KBT_READY) as net:
            self.wait_exit(net)
        self.assert_clean_end(net)
        self.assertIn('kbt-test-api: core 0 tcp=off', net.stdout, 'tcp_on = false respected')
        self.assertIn('kbt-test-api: stop requested from another thread', net.stdout)
        self.assertIn('run_app returned 0, user data freed 0 of 0', net.stdout)

    def test_tcp_is_on_by_default(self):
        with kbtnet.KbtNet(api_cmd('--stop-from-thread-ms', '3000'), ready=kbtnet.KBT_READY) as net:
            self.wait_exit(net)
        self.assert_clean_end(net)
        self.assertIn('kbt-test-api: core 0 tcp=on', net.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
