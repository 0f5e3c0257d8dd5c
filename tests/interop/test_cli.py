#!/usr/bin/python3
"""Every app's command line: --help, bad flags, bad values, no device, and
(for the clients) a target that does not answer.

A user's mistakes end with one line on stderr that says what to fix, and a
non-zero exit. The runs without a target open no device and send no
traffic; the unreachable-target runs use a TAP in a test namespace with
nothing behind the target address.
"""

import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

# EAL arguments that start DPDK without any device.
NO_DEVICE_EAL = ['--no-huge', '-m', '256', '--no-shconf', '--no-pci', '-l', '0']
UNREACHABLE = '198.18.0.9'  # inside the test subnet, nobody there

# name: (environment variable, flags the app requires, its own flags for --help)
APPS = {
    'kbt-httpd': ('KBT_HTTPD', [], ['--port', '--body-size']),
    'kbt-echo': ('KBT_ECHO', [], ['--mode', '--port', '--bytes', '--no-hash', '--connect',
                                  '--duration', '--timeout']),
    'kbt-load': ('KBT_LOAD', ['--url', f'http://{UNREACHABLE}/'],
                 ['--url', '--connections', '--duration', '--rate', '--close', '--json']),
    'kbt-flood': ('KBT_FLOOD', ['--target', f'{UNREACHABLE}:80'],
                  ['--target', '--rate', '--duration', '--sources']),
}
COMMON_FLAGS = ('--ip', '--gateway', '--stats-interval', '--syncookies', '--max-conns',
                '--pcap', '--mtu', '--cc', '--ip-frag-timeout', '--help')


def exe(app):
    env, _, _ = APPS[app]
    return os.environ.get(env, os.path.join(kbtnet.REPO, 'build', 'apps', app))


def run(app, *args, timeout=30):
    return subprocess.run([exe(app), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def our_lines(app, stderr):
    """stderr lines written by the app itself (not DPDK's log lines)."""
    return [l for l in stderr.splitlines() if l.startswith(app + ':')]


class Cli(unittest.TestCase):
    def test_help_prints_usage_and_exits_0(self):
        for app, (_, _, own) in APPS.items():
            with self.subTest(app=app):
                r = run(app, '--help')
                self.assertEqual(r.returncode, 0, r.stderr)
                for flag in COMMON_FLAGS + tuple(own):
                    self.assertIn(flag, r.stdout)
                self.assertIn('--vdev=net_tap0,iface=kbt0', r.stdout)  # the embedded default
                self.assertEqual(r.stderr, '')

    def test_unknown_flag_is_one_line_and_exit_2(self):
        for app, (_, required, _) in APPS.items():
            with self.subTest(app=app):
                r = run(app, *required, '--bogus')
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stderr.count('\n'), 1, r.stderr)
                self.assertIn('--bogus', r.stderr)

    def test_bad_values_name_the_flag(self):
        common = [
            (['--ip', '198.18.0.300/24'], '--ip'),
            (['--ip', '198.18.0.2/40'], '--ip'),
            (['--gateway', '10.0.0.1'], '--gateway'),  # not inside --ip
            (['--stats-interval', '-1'], '--stats-interval'),
            (['--syncookies', 'sometimes'], '--syncookies'),
            (['--max-conns', '0'], '--max-conns'),
            (['--max-conns', 'many'], '--max-conns'),
            (['--mtu', '575'], '--mtu'),
            (['--mtu', '9001'], '--mtu'),
            (['--cc', 'reno'], '--cc'),  # exactly newreno or cubic
            (['--ip-frag-timeout', '0'], '--ip-frag-timeout'),
        ]
        own = {
            'kbt-httpd': [(['--port', '0'], '--port'), (['--port', 'http'], '--port')],
            'kbt-echo': [(['--mode', 'mirror'], '--mode'), (['--port', '70000'], '--port'),
                         (['--bytes', '-5'], '--bytes'),
                         (['--connect', '198.18.0.1'], '--connect'),
                         (['--connect', '198.18.0.1:0'], '--connect'),
                         (['--connect', 'host:9'], '--connect'),
                         (['--connect', '198.18.0.1:9', '--mode', 'echo'], '--connect'),
                         (['--connect', '198.18.0.1:9', '--duration', '0'], '--duration')],
            'kbt-load': [(['--url', 'ftp://198.18.0.1/'], '--url'),
                         (['--pipeline', '0'], '--pipeline'),
                         (['--pipeline', '8', '--close'], '--pipeline'),
                         (['--url', 'http://example.com/'], '--url'),
                         (['--connections', '0'], '--connections'),
                         (['--rate', '-1'], '--rate'), (['--duration', '0'], '--duration')],
            'kbt-flood': [(['--target', '198.18.0.1'], '--target'),
                          (['--target', '198.18.0.1:0'], '--target'),
                          (['--target', 'host:80'], '--target'),
                          (['--sources', '198.18.0.0/33'], '--sources'),
                          (['--rate', '-5'], '--rate'), (['--duration', '0'], '--duration'),
                          (['--target', '198.18.0.2:80'], '--target'),  # our own --ip
                          (['--target', '10.1.1.1:80'], '--target')],  # off-link, no gateway
        }
        for app, (_, required, _) in APPS.items():
            for args, flag in common + own[app]:
                with self.subTest(app=app, args=args):
                    # The app's own values come last, so they win over `required`.
                    r = run(app, *required, *args)
                    self.assertNotEqual(r.returncode, 0)
                    lines = our_lines(app, r.stderr)
                    self.assertEqual(len(lines), 1, r.stderr)
                    self.assertIn(flag, lines[0])

    def test_missing_device_says_how_to_give_one(self):
        kbtnet.require_root()
        for app, (_, required, _) in APPS.items():
            with self.subTest(app=app):
                r = run(app, *NO_DEVICE_EAL, '--', *required)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                lines = our_lines(app, r.stderr)
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn('no DPDK port', lines[0])
                self.assertIn('--vdev', lines[0])

    def test_bad_eal_argument_is_reported(self):
        kbtnet.require_root()
        for app, (_, required, _) in APPS.items():
            with self.subTest(app=app):
                r = run(app, '--no-huge', '--no-such-eal-flag', '--', *required)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                lines = our_lines(app, r.stderr)
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn('EAL', lines[0])


class UnreachableTarget(unittest.TestCase):
    """kbt-load and kbt-flood aimed at an address with nobody behind it: the
    TAP is up with the kernel at 198.18.0.1, but 198.18.0.9 answers no ARP."""

    def client(self, app, *flags):
        return [exe(app), '--no-huge', '-m', '256', '--no-shconf', '--no-pci', '-l', '0',
                '--vdev=net_tap0,iface=kbt0', '--', '--ip', f'{kbtnet.STACK_IP}/24', *flags]

    def run_in_namespace(self, cmd, timeout):
        # The app is the namespace's only DPDK process; KbtNet starts it,
        # sets the TAP up, and the app ends on its own.
        with kbtnet.KbtNet(cmd) as net:
            kbtnet.wait_for(lambda: net.proc.poll() is not None, timeout,
                            what=f'{os.path.basename(cmd[0])} to give up')
        return net

    def test_flood_without_arp_answer_is_one_line_and_exit_1(self):
        kbtnet.require_root()
        net = self.run_in_namespace(self.client(
            'kbt-flood', '--target', f'{UNREACHABLE}:80', '--arp-timeout', '1'), 15)
        self.assertEqual(net.returncode, 1)
        lines = our_lines('kbt-flood', net.stderr)
        self.assertEqual(len(lines), 1, net.stderr)
        self.assertIn(f'no ARP answer from {UNREACHABLE}', lines[0])

    def test_echo_client_without_arp_answer_is_one_line_and_exit_1(self):
        kbtnet.require_root()
        net = self.run_in_namespace(self.client(
            'kbt-echo', '--connect', f'{UNREACHABLE}:9', '--mode', 'source', '--duration', '1',
            '--timeout', '1'), 20)
        self.assertEqual(net.returncode, 1)
        lines = [l for l in our_lines('kbt-echo', net.stderr) if 'stats' not in l]
        self.assertEqual(len(lines), 1, net.stderr)
        self.assertIn(f'no connection to {UNREACHABLE}:9', lines[0])

    def test_load_without_arp_answer_is_one_line_and_exit_1(self):
        kbtnet.require_root()
        net = self.run_in_namespace(self.client(
            'kbt-load', '--url', f'http://{UNREACHABLE}/', '--connections', '2',
            '--duration', '1', '--timeout', '1'), 20)
        self.assertEqual(net.returncode, 1)
        # Besides its progress line each second, one line says what failed.
        lines = [l for l in our_lines('kbt-load', net.stderr) if ' t=' not in l]
        self.assertEqual(len(lines), 1, net.stderr)
        self.assertIn(f'no connection to {UNREACHABLE}:80', lines[0])


if __name__ == '__main__':
    os.chdir(kbtnet.HERE)
    unittest.main(verbosity=2)
