#!/usr/bin/python3
"""kbt-httpd's command line: --help, bad flags, bad values, no device.

A user's mistakes end with one line on stderr that says what to fix, and a
non-zero exit. These runs open no device and send no traffic.
"""

import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

# EAL arguments that start DPDK without any device.
NO_DEVICE_EAL = ['--no-huge', '-m', '256', '--no-shconf', '--no-pci', '-l', '0']


def run(*args, timeout=30):
    exe = kbtnet.httpd_cmd()[0]
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def our_lines(stderr):
    """stderr lines written by kbt-httpd itself (not DPDK's log lines)."""
    return [l for l in stderr.splitlines() if l.startswith('kbt-httpd:')]


class Cli(unittest.TestCase):
    def test_help_prints_usage_and_exits_0(self):
        r = run('--help')
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ('--ip', '--gateway', '--port', '--stats-interval', '--syncookies',
                     '--max-conns', '--help'):
            self.assertIn(flag, r.stdout)
        self.assertIn('--vdev=net_tap0,iface=kbt0', r.stdout)  # the embedded default
        self.assertEqual(r.stderr, '')

    def test_unknown_flag_is_one_line_and_exit_2(self):
        r = run('--bogus')
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count('\n'), 1, r.stderr)
        self.assertIn('--bogus', r.stderr)

    def test_bad_values_name_the_flag(self):
        cases = [
            (['--port', '0'], '--port'),
            (['--port', 'http'], '--port'),
            (['--ip', '198.18.0.300/24'], '--ip'),
            (['--ip', '198.18.0.2/40'], '--ip'),
            (['--gateway', '10.0.0.1'], '--gateway'),  # not inside --ip
            (['--stats-interval', '-1'], '--stats-interval'),
            (['--syncookies', 'sometimes'], '--syncookies'),
            (['--max-conns', '0'], '--max-conns'),
            (['--max-conns', 'many'], '--max-conns'),
        ]
        for args, flag in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertNotEqual(r.returncode, 0)
                lines = our_lines(r.stderr)
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn(flag, lines[0])

    def test_missing_device_says_how_to_give_one(self):
        kbtnet.require_root()
        r = run(*NO_DEVICE_EAL, '--')
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = our_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('no DPDK port', lines[0])
        self.assertIn('--vdev', lines[0])

    def test_bad_eal_argument_is_reported(self):
        kbtnet.require_root()
        r = run('--no-huge', '--no-such-eal-flag', '--')
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = our_lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('EAL', lines[0])


if __name__ == '__main__':
    os.chdir(kbtnet.HERE)
    unittest.main(verbosity=2)
