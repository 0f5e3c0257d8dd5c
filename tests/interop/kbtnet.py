"""Interop harness: a DPDK app on net_tap inside a throw-away network namespace.

Everything a test does happens inside a namespace that the harness creates and
deletes (named ``kbt-it-<pid>-<n>``). The kernel side of the TAP gets
198.18.0.1/24, the stack under test is 198.18.0.2. No interface outside that
namespace is ever touched.

Typical use::

    with kbtnet.KbtNet(kbtnet.httpd_cmd()) as net:
        r = net.run('ping', '-c', '3', kbtnet.STACK_IP)
        stats = net.wait_for_stats(lambda s: s.get('rx_pkts', 0) >= 3)

Run with /usr/bin/python3 (Debian's, which has scapy). Needs root.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time

KERNEL_IP = '198.18.0.1'
KERNEL_MAC = '02:00:00:00:00:01'  # locally administered, kernel side of the TAP
STACK_IP = '198.18.0.2'
PREFIX_LEN = 24
NS_PREFIX = 'kbt-it-'
NETNS_DIR = '/run/netns'
DPDK_RUNTIME_DIR = '/var/run/dpdk'  # the EAL's --file-prefix directories (as root)
PYTHON = '/usr/bin/python3'  # the one with scapy
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKET_HELPER = os.path.join(HERE, 'netns_packet.py')

STATS_PREFIX = 'kbt stats:'

_ns_counter = 0


class HarnessError(Exception):
    """The test rig itself could not do its job (not a stack failure)."""


# --------------------------------------------------------------------------
# small helpers

def wait_for(predicate, timeout, interval=0.05, what='condition'):
    """Poll predicate() until it returns something truthy; return that value.

    Bounded by `timeout` seconds (and by timeout/interval + 1 calls). Raises
    TimeoutError naming `what` when the time is up.
    """
    deadline = time.monotonic() + timeout
    max_calls = int(timeout / interval) + 2
    for _ in range(max_calls):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise TimeoutError(f'timed out after {timeout:.1f}s waiting for {what}')


def _parse_value(text):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_stats_line(line):
    """'kbt stats: a=1 b=2' -> {'a': 1, 'b': 2}; None if not a stats line."""
    line = line.strip()
    if not line.startswith(STATS_PREFIX):
        return None
    out = {}
    for tok in line[len(STATS_PREFIX):].split():
        key, sep, value = tok.partition('=')
        if sep:
            out[key] = _parse_value(value)
    return out


def parse_stats(text):
    """All 'kbt stats:' lines of `text`, parsed, oldest first."""
    return [s for s in (parse_stats_line(l) for l in text.splitlines())
            if s is not None]


def latest_stats(text):
    """The latest 'kbt stats:' line of `text` as a dict, or None."""
    all_stats = parse_stats(text)
    return all_stats[-1] if all_stats else None


def lost_segment_timeouts(stats):
    """RTO expiries of a stats dict that RFC 3522's timestamp check did not
    prove spurious (tcp_spurious_rtos): a late peer may make the RTO fire,
    and only these point at a segment lost."""
    return stats.get('tcp_rto_expiries', 0) - stats.get('tcp_spurious_rtos', 0)


def ping_received(output):
    """(transmitted, received) from iputils ping's summary, or None."""
    m = re.search(r'(\d+) packets transmitted, (\d+) received', output)
    return (int(m.group(1)), int(m.group(2))) if m else None


def arping_received(output):
    """(sent, received) from iputils arping's summary, or None."""
    sent = re.search(r'Sent (\d+) probes?', output)
    got = re.search(r'Received (\d+) responses?', output)
    if not got:
        return None
    return (int(sent.group(1)) if sent else None, int(got.group(1)))


def _pdeathsig_term():
    """preexec_fn: our children get SIGTERM if this Python dies (even SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except Exception:  # best effort; the stale-namespace sweep is the backstop
        pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_host(args, timeout=10, check=True):
    """Run an `ip` command (on the host side, e.g. `ip netns add`)."""
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except FileNotFoundError as e:
        raise HarnessError(f'cannot run {args[0]}: {e}') from e
    if check and r.returncode != 0:
        raise HarnessError(f'{" ".join(args)} failed (exit {r.returncode}): '
                           f'{r.stderr.strip()}')
    return r


def netns_inode(name):
    try:
        return os.stat(os.path.join(NETNS_DIR, name)).st_ino
    except FileNotFoundError:
        return None


def pids_in_netns(inode):
    """PIDs of processes whose network namespace has this inode (/proc scan)."""
    pids = []
    if inode is None:
        return pids
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f'/proc/{entry}/ns/net').st_ino == inode:
                pids.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids


def list_namespaces():
    r = _run_host(['ip', 'netns', 'list'], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def _delete_namespace(name):
    """Kill (by id) whatever still runs in namespace `name`, then delete it."""
    inode = netns_inode(name)
    for _ in range(3):
        pids = [p for p in pids_in_netns(inode) if p != os.getpid()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not [p for p in pids if _pid_alive(p)], 2,
                 what=f'stragglers {pids} in {name} to die')
    _run_host(['ip', 'netns', 'del', name], check=False)
    return name not in list_namespaces()


def clean_stale_namespaces():
    """Delete kbt-it-<pid>-<n> namespaces whose creating pid no longer exists,
    and testpmd's kbt-testpmd-<pid>-<n> runtime directories likewise."""
    removed = []
    for name in list_namespaces():
        m = re.fullmatch(re.escape(NS_PREFIX) + r'(\d+)-(\d+)', name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        _delete_namespace(name)
        removed.append(name)
    try:
        runtime = os.listdir(DPDK_RUNTIME_DIR)
    except OSError:
        runtime = []
    for name in runtime:
        m = re.fullmatch(re.escape(TESTPMD_PREFIX) + r'(\d+)-(\d+)', name)
        if m and not _pid_alive(int(m.group(1))):
            remove_dpdk_runtime(name)
            removed.append(name)
    return removed


def file_prefix_of(cmd):
    """The --file-prefix an EAL command line names, or None."""
    for i, arg in enumerate(cmd):
        if arg == '--file-prefix' and i + 1 < len(cmd):
            return cmd[i + 1]
        if arg.startswith('--file-prefix='):
            return arg.partition('=')[2]
        if arg == '--':
            break
    return None


def kernel_checksum_errors(snmp_text):
    """Linux's receive-side checksum failures from /proc/net/snmp text.

    {'IpInHdrErrors': n, 'TcpInCsumErrors': n, 'IcmpInCsumErrors': n,
    'UdpInCsumErrors': n}: what the namespace's kernel refused of what it
    was sent (a bad IPv4 header checksum counts as InHdrErrors).
    """
    tables = {}
    lines = snmp_text.splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        proto, _, keys = names.partition(':')
        vproto, _, vals = values.partition(':')
        if proto != vproto:
            continue
        tables[proto] = dict(zip(keys.split(), (int(v) for v in vals.split())))
    return {
        'IpInHdrErrors': tables.get('Ip', {}).get('InHdrErrors', 0),
        'TcpInCsumErrors': tables.get('Tcp', {}).get('InCsumErrors', 0),
        'IcmpInCsumErrors': tables.get('Icmp', {}).get('InCsumErrors', 0),
        'UdpInCsumErrors': tables.get('Udp', {}).get('InCsumErrors', 0),
    }


class KernelChecksumErrors(AssertionError):
    """The namespace's kernel rejected frames for their checksums."""


def require_root():
    if os.geteuid() != 0:
        raise HarnessError('interop tests need root (network namespaces, TAP); '
                           f'running as uid {os.geteuid()}')
    for tool in ('ip',):
        if shutil.which(tool) is None:
            raise HarnessError(f'interop tests need `{tool}` on PATH')


def remove_dpdk_runtime(prefix):
    """Remove /var/run/dpdk/<prefix>, which the EAL leaves behind after exit.

    Call it once the app with `--file-prefix prefix` has exited (in a
    finally, so a failed test leaves nothing behind either). A missing
    directory is fine; a prefix that could name anything else is refused.
    """
    if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9._-]*', prefix or '') or '..' in prefix:
        raise ValueError(f'refusing to remove DPDK runtime dir for prefix {prefix!r}')
    shutil.rmtree(os.path.join(DPDK_RUNTIME_DIR, prefix), ignore_errors=True)


class _SignalGuard:
    """While active, SIGTERM/SIGHUP raise KeyboardInterrupt so finally-blocks run."""

    def __init__(self):
        self._old = {}
        self._shielded = False

    def _handler(self, signum, _frame):
        if not self._shielded:
            raise KeyboardInterrupt(f'signal {signum}')

    def shield(self):
        """From now on these signals are ignored (teardown must finish)."""
        self._shielded = True

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        self._shielded = False
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()


# --------------------------------------------------------------------------
# the app command lines

def httpd_path():
    return os.environ.get('KBT_HTTPD', os.path.join(REPO, 'build', 'apps', 'kbt-httpd'))


def httpd_cmd(*extra, iface='kbt0', lcores='0'):
    """kbt-httpd on a net_tap vdev, 198.18.0.2/24, one stats line a second."""
    return [httpd_path(), '--no-huge', '-m', '512', '--no-shconf', '--no-pci',
            '-l', lcores, f'--vdev=net_tap0,iface={iface}', '--',
            '--ip', f'{STACK_IP}/{PREFIX_LEN}', '--stats-interval', '1', *extra]


TESTPMD_PREFIX = 'kbt-testpmd-'
_testpmd_counter = 0


def testpmd_cmd(iface='kbt0'):
    """dpdk-testpmd answering ARP and ping (icmpecho) on a net_tap vdev.

    It gets a --file-prefix of its own, kbt-testpmd-<pid>-<n>: even with
    --no-shconf, testpmd makes its EAL runtime directory (the default `rte`
    otherwise) and leaves it behind. KbtNet removes it once the app has
    exited; the stale sweep, when <pid> has died without doing so.
    """
    global _testpmd_counter
    _testpmd_counter += 1
    exe = os.environ.get('KBT_TESTPMD', shutil.which('dpdk-testpmd') or 'dpdk-testpmd')
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0-1',
            '--file-prefix', f'{TESTPMD_PREFIX}{os.getpid()}-{_testpmd_counter}',
            f'--vdev=net_tap0,iface={iface}', '--', '--forward-mode=icmpecho',
            '--auto-start', '--stats-period', '0', '--total-num-mbufs', '4096']


# testpmd prints this once forwarding runs; kbt apps print '<program>: ready'
# once every core polls (api/stack.cc), a second before their first stats line.
TESTPMD_READY = r'Press enter to exit'
KBT_READY = r'^[\w.-]+: ready$'


# --------------------------------------------------------------------------
# the rig

class KbtNet:
    """Context manager: namespace + DPDK app on a TAP + Linux peer at 198.18.0.1.

    app_cmd      argv of the DPDK app (run as `ip netns exec NS argv...`)
    iface        TAP name the app creates (its --vdev iface=)
    tap_timeout  seconds to wait for the TAP to appear in the namespace
    ready        regex (multiline) to wait for in the app's stdout before the
                 body runs, e.g. KBT_READY; None to not wait
    ready_timeout seconds for that
    term_timeout seconds between SIGTERM and SIGKILL on exit
    disable_ipv6 keep the kernel quiet (no RS/MLD/DAD) so counters stay exact
    check_checksums  on exit, fail (KernelChecksumErrors) if the namespace's
                 kernel counted any frame with a bad IPv4, TCP, UDP or ICMP
                 checksum: every frame the stack emits is checked as Linux
                 checks it, in every interop test

    ns           run the app in this existing namespace (another KbtNet's .ns,
                 whose app has exited) instead of a new one: what the Linux
                 side holds (a server, its TIME_WAIT sockets) lasts across
                 both apps. The namespace is left for its owner to delete.

    After exit: .returncode (app exit code, negative = signal), .killed (True
    if SIGKILL was needed), .final_stats (latest stats line), .stdout/.stderr.
    """

    def __init__(self, app_cmd, iface='kbt0', tap_timeout=15.0, ready=None,
                 ready_timeout=15.0, term_timeout=10.0, disable_ipv6=True,
                 keep_logs=False, check_checksums=True, ns=None):
        self.borrowed_ns = ns
        self.app_cmd = list(app_cmd)
        self.iface = iface
        self.tap_timeout = tap_timeout
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.term_timeout = term_timeout
        self.disable_ipv6 = disable_ipv6
        self.keep_logs = keep_logs or bool(os.environ.get('KBT_IT_KEEP_LOGS'))
        self.check_checksums = check_checksums
        self.kernel_errors = None
        self.ns = None
        self.ns_inode = None
        self.proc = None
        self.pid = None
        self.returncode = None
        self.killed = False
        self.final_stats = None
        self.tap_seconds = None
        self.logdir = None
        self._guard = _SignalGuard()
        self._out_path = self._err_path = None
        self._pty_master = None
        self._reader = None
        self._stdout_cache = self._stderr_cache = None

    # ---- lifecycle

    def __enter__(self):
        self._guard.__enter__()
        try:
            self._setup()
        except BaseException as e:
            self._teardown(exc=e)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self._teardown(exc=exc)
        if exc is None and self.check_checksums and self.kernel_errors and \
                any(self.kernel_errors.values()):
            raise KernelChecksumErrors(
                f'the kernel rejected frames from the stack: {self.kernel_errors}')
        return False

    def read_kernel_errors(self):
        """The namespace kernel's checksum-failure counters now (see kernel_checksum_errors)."""
        r = self.run('cat', '/proc/net/snmp', timeout=5)
        return kernel_checksum_errors(r.stdout) if r.returncode == 0 else None

    def _setup(self):
        require_root()
        exe = self.app_cmd[0]
        if shutil.which(exe) is None:
            raise HarnessError(f'app not found or not executable: {exe} '
                               '(build it, or point KBT_HTTPD/KBT_TESTPMD at it)')
        if self.borrowed_ns is not None:
            name = self._borrow_namespace()
        else:
            name = self._new_namespace()

        self.logdir = tempfile.mkdtemp(prefix=f'{name}-')
        self._out_path = os.path.join(self.logdir, 'app.stdout')
        self._err_path = os.path.join(self.logdir, 'app.stderr')
        # stdout is a pty (copied to a file by a thread) so that C stdio in
        # the app is line-buffered and each stats line shows up at once; with
        # a file or pipe it would sit in a 4 KiB buffer until exit.
        master, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST  # no \n -> \r\n
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        try:
            with open(self._err_path, 'wb') as err:
                # stdin is a pipe we keep open: testpmd (non-interactive) exits
                # on EOF of stdin, and a closed fd 0 gets reused by the EAL.
                self.proc = subprocess.Popen(
                    ['ip', 'netns', 'exec', name] + self.app_cmd,
                    stdin=subprocess.PIPE, stdout=slave, stderr=err,
                    start_new_session=True, preexec_fn=_pdeathsig_term)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.pid = self.proc.pid
        self._pty_master = master
        self._reader = threading.Thread(target=self._copy_pty, args=(master,),
                                        daemon=True)
        self._reader.start()

        t0 = time.monotonic()
        wait_for(self._tap_present, self.tap_timeout,
                 what=f'TAP {self.iface} in namespace {name}')
        self.tap_seconds = time.monotonic() - t0
        self._check(self.run('ip', 'addr', 'add', f'{KERNEL_IP}/{PREFIX_LEN}',
                             'dev', self.iface))
        if self.disable_ipv6:
            self._check(self.run('sysctl', '-qw',
                                 f'net.ipv6.conf.{self.iface}.disable_ipv6=1'))
        # net_tap gives the kernel side the DPDK port's own MAC; a distinct
        # one keeps captures and neighbour tables unambiguous.
        self._check(self.run('ip', 'link', 'set', self.iface, 'address', KERNEL_MAC))
        self._check(self.run('ip', 'link', 'set', self.iface, 'up'))
        if self.ready:
            pat = re.compile(self.ready, re.M)
            wait_for(lambda: self._alive_or_raise() and pat.search(self.stdout),
                     self.ready_timeout, interval=0.1,
                     what=f'app output to match {self.ready!r}')

    def _new_namespace(self):
        global _ns_counter
        clean_stale_namespaces()
        _ns_counter += 1
        name = f'{NS_PREFIX}{os.getpid()}-{_ns_counter}'
        r = _run_host(['ip', 'netns', 'add', name], check=False)
        if r.returncode != 0:
            raise HarnessError(f'`ip netns add {name}` failed (exit {r.returncode}): '
                               f'{r.stderr.strip()} -- interop tests need root and '
                               'network namespace support')
        self.ns = name
        self.ns_inode = netns_inode(name)
        self._check(self.run('ip', 'link', 'set', 'lo', 'up'))
        if self.disable_ipv6:
            # 'default' makes the TAP start with IPv6 off: no RS/MLD ever leaves.
            self._check(self.run('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1',
                                 'net.ipv6.conf.default.disable_ipv6=1'))
        return name

    def _borrow_namespace(self):
        """The owner's namespace, once the owner's TAP is gone with its app
        (else the wait for our TAP would find the old one)."""
        name = self.borrowed_ns
        if name not in list_namespaces():
            raise HarnessError(f'namespace {name} to run the app in does not exist')
        self.ns = name
        self.ns_inode = netns_inode(name)
        wait_for(lambda: self.run('ip', 'link', 'show', 'dev', self.iface,
                                  timeout=5).returncode != 0,
                 5, what=f'the previous app\'s TAP {self.iface} to go from {name}')
        return name

    def _copy_pty(self, master):
        with open(self._out_path, 'wb', buffering=0) as out:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer has closed the pty
                    break
                if not data:
                    break
                out.write(data)

    def _close_pty(self):
        if self._reader is not None:
            self._reader.join(timeout=3)
        if self._pty_master is not None:
            try:
                os.close(self._pty_master)
            except OSError:
                pass
            self._pty_master = None

    def _tap_present(self):
        self._alive_or_raise()
        r = self.run('ip', 'link', 'show', 'dev', self.iface, timeout=5)
        return r.returncode == 0

    def _alive_or_raise(self):
        if self.proc.poll() is not None:
            raise HarnessError(f'app exited early with code {self.proc.returncode}\n'
                               + self.describe())
        return True

    def _teardown(self, exc):
        failed = exc is not None
        self._guard.shield()
        try:
            # Interrupted (SIGINT/SIGTERM, e.g. a meson timeout that SIGKILLs
            # us 0.5 s later): no grace period for the app.
            self._stop_app(quick=isinstance(exc, KeyboardInterrupt))
            prefix = file_prefix_of(self.app_cmd)
            if prefix is not None and self.proc is not None and self.proc.poll() is not None:
                remove_dpdk_runtime(prefix)  # the app has exited
            if self.ns is not None and self.check_checksums and \
                    not isinstance(exc, KeyboardInterrupt):
                self.kernel_errors = self.read_kernel_errors()
        finally:
            try:
                if self.ns is not None and self.borrowed_ns is None:
                    if not _delete_namespace(self.ns):
                        print(f'kbt-it: WARNING: namespace {self.ns} still present',
                              file=sys.stderr)
            finally:
                self._guard.__exit__(None, None, None)
        if self.proc is not None:
            self._stdout_cache = self._read(self._out_path)
            self._stderr_cache = self._read(self._err_path)
            self.final_stats = latest_stats(self._stdout_cache)
            print(f'kbt-it: {os.path.basename(self.app_cmd[0])} exited with code '
                  f'{self.returncode}{" (after SIGKILL)" if self.killed else ""}',
                  file=sys.stderr)
            if failed:
                print(self.describe(), file=sys.stderr)
        if self.logdir and not (self.keep_logs or failed):
            shutil.rmtree(self.logdir, ignore_errors=True)
        elif self.logdir:
            print(f'kbt-it: app logs kept in {self.logdir}', file=sys.stderr)

    def _stop_app(self, quick=False):
        p = self.proc
        if p is None:
            return
        try:
            if p.stdin:
                p.stdin.close()
        except OSError:
            pass
        if p.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                p.wait(timeout=0.3 if quick else self.term_timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self._signal_group(signal.SIGKILL)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    print(f'kbt-it: WARNING: app pid {p.pid} survived SIGKILL',
                          file=sys.stderr)
        self.returncode = p.returncode
        self._close_pty()

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    # ---- running things on the Linux side

    def run(self, *cmd, timeout=30, input=None):
        """Run cmd inside the namespace; CompletedProcess with text output.

        The command gets its own process group, killed whole on timeout
        (then subprocess.TimeoutExpired is raised).
        """
        if self.ns is None:
            raise HarnessError('namespace not set up')
        p = subprocess.Popen(['ip', 'netns', 'exec', self.ns, *cmd],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=_pdeathsig_term)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.communicate()
            raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def run_checked(self, *cmd, timeout=30, input=None):
        """run(), raising HarnessError when the command fails."""
        return self._check(self.run(*cmd, timeout=timeout, input=input))

    @staticmethod
    def _check(r):
        if r.returncode != 0:
            raise HarnessError(f'{" ".join(r.args)} failed (exit {r.returncode}): '
                               f'{r.stderr.strip()}')
        return r

    def ping(self, count=5, interval=0.2, dst=STACK_IP, deadline=None, timeout=None):
        """ping from the kernel side; returns (transmitted, received, output)."""
        deadline = deadline or int(count * interval + 5)
        r = self.run('ping', '-n', '-c', str(count), '-i', str(interval),
                     '-w', str(deadline), dst, timeout=timeout or deadline + 10)
        tr = ping_received(r.stdout) or (None, None)
        return tr[0], tr[1], r.stdout + r.stderr

    def arping(self, count=3, dst=STACK_IP, timeout=None):
        """arping from kbt0; returns (sent, received, output)."""
        r = self.run('arping', '-c', str(count), '-I', self.iface, dst,
                     timeout=timeout or count + 10)
        sr = arping_received(r.stdout) or (None, None)
        return sr[0], sr[1], r.stdout + r.stderr

    def stack_mac(self, dst=STACK_IP, attempts=3):
        """The stack's MAC, learned with arping (bounded attempts)."""
        out = ''
        for _ in range(attempts):
            _, _, out = self.arping(count=1, dst=dst, timeout=8)
            m = re.search(r'reply from \S+ \[([0-9A-Fa-f:]{17})\]', out)
            if m:
                return m.group(1).lower()
        raise HarnessError(f'no ARP reply from {dst}: {out.strip()}')

    def kernel_mac(self):
        r = self._check(self.run('cat', f'/sys/class/net/{self.iface}/address'))
        return r.stdout.strip()

    def exchange(self, frames, listen=0.0, max_frames=1000, timeout=None, rate=0):
        """Send raw Ethernet frames on the TAP from inside the namespace.

        frames: bytes or scapy packets (bytes(pkt) is taken). If listen > 0,
        frames arriving on the TAP (from the stack) while sending and during
        `listen` seconds after it are returned as a list of bytes (parse with
        scapy's Ether(b)). The socket is bound before sending, so replies are
        not lost. rate > 0: at most that many frames a second.
        """
        hexframes = '\n'.join(bytes(f).hex() for f in frames) + '\n'
        sending = len(frames) / rate if rate > 0 else 0
        r = self.run(PYTHON, PACKET_HELPER, '--iface', self.iface,
                     '--listen', str(listen), '--max', str(max_frames), '--rate', str(rate),
                     input=hexframes, timeout=timeout or sending + listen + 15)
        if r.returncode != 0:
            raise HarnessError(f'packet helper failed (exit {r.returncode}): '
                               f'{r.stderr.strip()}')
        result = json.loads(r.stdout)
        if result['sent'] != len(frames):
            raise HarnessError(f'sent {result["sent"]} of {len(frames)} frames')
        return [bytes.fromhex(h) for h in result['received']]

    def send_frames(self, frames):
        self.exchange(frames, listen=0.0)

    def scapy(self, code, timeout=30):
        """Run scapy code inside the namespace (conf.iface = the TAP)."""
        prelude = ('import logging\n'
                   'logging.getLogger("scapy.runtime").setLevel(logging.ERROR)\n'
                   'from scapy.all import *\n'
                   f'conf.iface = {self.iface!r}\nconf.verb = 0\n')
        return self.run(PYTHON, '-c', prelude + code, timeout=timeout)

    # ---- the app's output and stats

    @staticmethod
    def _read(path):
        try:
            with open(path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except (FileNotFoundError, TypeError):
            return ''

    @property
    def stdout(self):
        return self._stdout_cache if self._stdout_cache is not None \
            else self._read(self._out_path)

    @property
    def stderr(self):
        return self._stderr_cache if self._stderr_cache is not None \
            else self._read(self._err_path)

    def stats(self):
        """Latest 'kbt stats:' line as a dict (None if none yet)."""
        return latest_stats(self.stdout)

    def stats_history(self):
        return parse_stats(self.stdout)

    def wait_for_stats(self, predicate, timeout=10.0, what='stats predicate'):
        """Wait (bounded) until predicate(latest stats) holds; return the stats."""
        def check():
            self._alive_or_raise()
            s = self.stats()
            return s if s is not None and predicate(s) else None
        try:
            return wait_for(check, timeout, interval=0.1, what=what)
        except TimeoutError as e:
            s = self.stats()
            hint = ('' if s is not None else
                    " -- no 'kbt stats:' line at all (is --stats-interval set?)")
            raise TimeoutError(f'{e}; latest stats: {s}{hint}') from None

    def wait_for_new_stats(self, timeout=5.0):
        """Wait for one more stats line than now; return it."""
        n = len(self.stats_history())
        wait_for(lambda: self._alive_or_raise() and len(self.stats_history()) > n,
                 timeout, interval=0.1, what='a new stats line')
        return self.stats()

    def describe(self, lines=30):
        def tail(text):
            return '\n'.join(text.splitlines()[-lines:])
        return (f'--- app: {" ".join(self.app_cmd)}\n'
                f'--- namespace {self.ns}, logs {self.logdir}\n'
                f'--- stdout (tail)\n{tail(self.stdout)}\n'
                f'--- stderr (tail)\n{tail(self.stderr)}\n---')
