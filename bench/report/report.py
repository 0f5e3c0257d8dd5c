#!/usr/bin/python3
"""scripts/bench.sh's bookkeeping: checks each side's JSON line, picks the
latency rate, and turns the runs into bench/results/latest.{json,md,png};
summarises the micro-benchmarks' JSON.

Subcommands (standard library only; the chart needs gnuplot):
  machine                          the machine as JSON (CPU, cores, kernel, DPDK, git)
  record --side S --workload W --round N --exit RC --wall SECS --stdout FILE [--calibration]
                                   one run as a JSON line; exit 1 when the side's
                                   stdout is not exactly one valid JSON line
  rate --runs FILE                 half the smaller of the two sides' keep-alive medians
  report --runs FILE --machine FILE --out-dir DIR --seconds N
         [--latency-rate R --latency-rate-rule TEXT]
                                   latest.json, latest.md, latest.png; prints the table
  report --again OLD.json --out-dir DIR
                                   the same from an earlier latest.json's runs
  micro --in FILE --md FILE        the micro-benchmarks as a table (stdout and FILE)
"""

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The workloads in the order of the issue's table, with what "bigger is
# better" means for each (the ratio) and the issue's targets (issue 6).
WORKLOADS = ['cps', 'keepalive', 'bulk', 'syncookies', 'latency']
NAMES = {
    'cps': 'connections/s',
    'keepalive': 'keep-alive requests/s',
    'bulk': 'bulk, one connection',
    'syncookies': 'SYN-ACK cookies/s',
    'latency': 'p99 latency at equal load',
}
SHORT = {'cps': 'conn/s', 'keepalive': 'keep-alive req/s', 'bulk': 'bulk Gbit/s',
         'syncookies': 'SYN cookies/s', 'latency': 'p99 latency'}
TARGETS = {
    'cps': {'linux_here': 'about 26k', 'best_published': 'IX 0.65M, mTCP 0.27M per core',
            'kbt_target': '>= 1.0M (>= 40x Linux)', 'min_value': 1.0e6, 'min_ratio': 40},
    'keepalive': {'linux_here': 'about 94k', 'best_published': 'IX about 1.4M, Libtpa 1.14M per core',
                  'kbt_target': '>= 3.0M (>= 30x Linux)', 'min_value': 3.0e6, 'min_ratio': 30},
    'bulk': {'linux_here': 'about 37 Gbit/s (loopback, 64 KB MTU)', 'best_published': '-',
             'kbt_target': '>= 2x Linux', 'min_ratio': 2},
    'syncookies': {'linux_here': 'measure it', 'best_published': 'Linux 3.5M SYN/s on a whole machine',
                   'kbt_target': '>= 15M on one core (10GbE line rate)', 'min_value': 15e6},
    'latency': {'linux_here': 'measure it', 'best_published': 'IX one-way 5.7 us vs Linux 24 us',
                'kbt_target': '<= 1/5 of Linux (Linux/kbt >= 5)', 'min_ratio': 5},
}
RATIO_RULE = ('kbt/Linux for throughput; Linux/kbt for latency (p99), so bigger is better '
              'everywhere')
LOWER_IS_BETTER = {'latency'}


def die(msg, code=1):
    print(f'report.py: {msg}', file=sys.stderr)
    sys.exit(code)


def run(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd=REPO)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def first_line(text):
    return text.splitlines()[0] if text else None


# ---- machine

def machine():
    model = None
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    rev = run(['git', 'rev-parse', 'HEAD'])
    dirty = run(['git', 'status', '--porcelain', '--untracked-files=no'])
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'cpu_model': model,
        'cores': os.cpu_count(),
        'kernel': platform.release(),
        'os': first_line(run(['sh', '-c', '. /etc/os-release && echo "$PRETTY_NAME"'])),
        'dpdk': run(['pkg-config', '--modversion', 'libdpdk']),
        'git_rev': rev,
        'git_dirty': bool(dirty) if dirty is not None else None,
        'tools': {
            'nginx': first_line(run(['sh', '-c', 'nginx -v 2>&1'])),
            'wrk': first_line(run(['sh', '-c', 'wrk -v 2>&1; true'])),
            'iperf3': first_line(run(['iperf3', '--version'])),
            'gnuplot': first_line(run(['gnuplot', '--version'])),
        },
    }


# ---- one run

def check_line(text, side, workload):
    """The side's stdout as a dict, or a reason it is not one valid JSON line."""
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        return None, f'{len(lines)} non-empty lines on stdout, not 1'
    try:
        r = json.loads(lines[0])
    except json.JSONDecodeError as e:
        return None, f'not JSON: {e}'
    if not isinstance(r, dict):
        return None, 'not a JSON object'
    want = {'side': str, 'workload': str, 'value': (int, float), 'unit': str,
            'errors': int, 'link': str, 'commands': list, 'detail': dict}
    for key, kind in want.items():
        if not isinstance(r.get(key), kind) or isinstance(r.get(key), bool):
            return None, f'"{key}" missing or not a {kind}'
    if 'peer_value' not in r or not isinstance(r['peer_value'], (int, float, type(None))):
        return None, '"peer_value" missing'
    if r['side'] != side or r['workload'] != workload:
        return None, f'says {r["side"]}/{r["workload"]}, ran as {side}/{workload}'
    if not math.isfinite(r['value']) or r['value'] <= 0:
        return None, f'value {r["value"]} is not a positive number'
    return r, None


def cmd_record(a):
    try:
        with open(a.stdout) as f:
            text = f.read()
    except OSError as e:
        text = ''
        print(f'report.py: {e}', file=sys.stderr)
    result, why = check_line(text, a.side, a.workload)
    rec = {'round': a.round, 'side': a.side, 'workload': a.workload, 'exit': a.exit,
           'wall_s': round(a.wall, 1), 'calibration': a.calibration, 'result': result}
    if why:
        rec['invalid'] = why
    print(json.dumps(rec, separators=(',', ':')))
    if why:
        print(f'report.py: {a.side} {a.workload}: {why}', file=sys.stderr)
    return 1 if why else 0


# ---- medians and the latency rate

def load_runs(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def medians(runs, workload, include_calibration=False):
    out = {}
    for side in ('kbt', 'linux'):
        vals = [r['result']['value'] for r in runs
                if r['workload'] == workload and r['side'] == side and r['result']
                and r['exit'] in (0, 3) and (include_calibration or not r['calibration'])]
        out[side] = (statistics.median(vals), len(vals)) if vals else (None, 0)
    return out


def median_or_none(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def cmd_rate(a):
    m = medians(load_runs(a.runs), 'keepalive', include_calibration=True)
    vals = [v for v, _ in m.values() if v]
    if len(vals) != 2:
        die('no keep-alive median for both sides: cannot choose the latency rate')
    print(f'{min(vals) / 2:.0f}')
    return 0


# ---- the report

def si(v, unit):
    if v is None:
        return '-'
    if unit.startswith('us'):
        return f'{v:.1f} us' if v < 100 else f'{v:.0f} us'
    if unit == 'Gbit/s':
        return f'{v:.2f} Gbit/s'
    for scale, suffix in ((1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
        if abs(v) >= scale:
            return f'{v / scale:.3g}{suffix} {unit}'.rstrip()
    return f'{v:.3g} {unit}'.rstrip()


def assess(workload, kbt, linux):
    """(ratio, met, the ratio a chart shows as the target) for one workload."""
    t = TARGETS[workload]
    if kbt is None or linux is None:
        return None, None, t.get('min_ratio')
    ratio = linux / kbt if workload in LOWER_IS_BETTER else kbt / linux
    met = True
    chart_target = 0
    if 'min_value' in t:
        met = met and kbt >= t['min_value']
        chart_target = max(chart_target, t['min_value'] / linux)
    if 'min_ratio' in t:
        met = met and ratio >= t['min_ratio']
        chart_target = max(chart_target, t['min_ratio'])
    return ratio, met, chart_target


def median_run_detail(runs, workload, side):
    """The detail of the run whose value is the median (the lower middle one for an even count)."""
    done = sorted((r for r in runs if r['workload'] == workload and r['side'] == side
                   and r['result'] and not r['calibration']), key=lambda r: r['result']['value'])
    return done[(len(done) - 1) // 2]['result']['detail'] if done else {}


def build(runs, mach, a, workloads):
    res = {'generated': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
           'machine': mach,
           'settings': {'seconds_per_run': a.seconds, 'rounds': 3,
                        'order': 'kbt then Linux, three times over, per workload',
                        'workloads': workloads, 'latency_rate': a.latency_rate,
                        'latency_rate_rule': a.latency_rate_rule,
                        'median': 'of the runs that produced a valid line (exit 0, or 3: with '
                                  'errors, which are excluded from the value)',
                        'ratio': RATIO_RULE},
           'runs': runs, 'medians': {}, 'ratios': {}, 'targets': {}}
    failed = [r for r in runs if r['exit'] != 0 or not r['result']]
    res['failed_runs'] = [{k: r.get(k) for k in ('round', 'side', 'workload', 'exit', 'invalid')}
                          for r in failed]
    for w in workloads:
        m = medians(runs, w)
        units = [r['result']['unit'] for r in runs if r['workload'] == w and r['result']]
        unit = units[0] if units else ''
        kbt, linux = m['kbt'][0], m['linux'][0]
        ratio, met, chart_target = assess(w, kbt, linux)
        res['medians'][w] = {'kbt': kbt, 'linux': linux, 'unit': unit,
                             'kbt_runs': m['kbt'][1], 'linux_runs': m['linux'][1]}
        if w == 'latency':
            # p50 as each side names it (p50_us, or p50 in us).
            res['medians'][w]['p50_us'] = {
                side: median_or_none([r['result']['detail'].get('p50_us', r['result']['detail'].get('p50'))
                                      for r in runs if r['workload'] == w and r['side'] == side
                                      and r['result'] and r['exit'] in (0, 3) and not r['calibration']])
                for side in ('kbt', 'linux')}
        res['ratios'][w] = {'value': ratio,
                            'definition': 'linux/kbt' if w in LOWER_IS_BETTER else 'kbt/linux'}
        res['targets'][w] = dict(TARGETS[w], met=met, chart_target_ratio=chart_target)
    res['ok'] = not failed
    return res


def markdown(res):
    m = res['machine']
    s = res['settings']
    lines = [f'# kbt and Linux side by side ({m["date"]})', '',
             f'{m["cpu_model"]}, {m["cores"]} cores, kernel {m["kernel"]}, DPDK {m["dpdk"]}; '
             f'git {(m["git_rev"] or "?")[:12]}{" (with local changes)" if m["git_dirty"] else ""}. '
             f'Each run {s["seconds_per_run"]} s; per workload kbt and Linux alternately, three '
             'runs each; the medians.', '',
             '| workload | Linux | kbt | ratio | target | met? |',
             '|---|---|---|---|---|---|']
    for w in s['workloads']:
        md = res['medians'][w]
        r = res['ratios'][w]['value']
        t = res['targets'][w]
        name = NAMES[w]
        if w == 'latency' and s['latency_rate']:
            name += f' ({si(s["latency_rate"], "req/s")})'
        ratio = '-' if r is None else f'{r:.3g}x' + (' (Linux/kbt)' if w in LOWER_IS_BETTER else '')
        met = {True: 'yes', False: 'no', None: '-'}[t['met']]
        runs = ''
        if md['kbt_runs'] < 3 or md['linux_runs'] < 3:
            runs = f' ({md["kbt_runs"]} kbt, {md["linux_runs"]} Linux runs)'
        lines.append(f'| {name} | {si(md["linux"], md["unit"])} | {si(md["kbt"], md["unit"])}{runs} '
                     f'| {ratio} | {t["kbt_target"]} | {met} |')
    lines += ['', f'Ratio: {RATIO_RULE}.']
    if 'latency' in s['workloads']:
        p50 = res['medians']['latency'].get('p50_us', {})
        lines.append(f'Latency rate: {s["latency_rate_rule"]}. p50 (medians): '
                     f'Linux {si(p50.get("linux"), "us")}, kbt {si(p50.get("kbt"), "us")}.')
    if 'syncookies' in s['workloads']:
        for side in ('linux', 'kbt'):
            bound = median_run_detail(res['runs'], 'syncookies', side).get('bounded_by')
            if bound:
                lines.append(f'SYN cookies, what bounded {"Linux" if side == "linux" else side}: {bound}.')
    if res['failed_runs']:
        lines.append('Failed runs (not clean, or no valid line): ' + ', '.join(
            f'{f["side"]} {f["workload"]} round {f["round"]} (exit {f["exit"]}'
            f'{"; " + f["invalid"] if f.get("invalid") else ""})' for f in res['failed_runs']) + '.')
    lines += ['', '## Every run', '',
              '| round | workload | side | value | peer value | errors | exit |',
              '|---|---|---|---|---|---|---|']
    links = {}
    for r in res['runs']:
        x = r['result'] or {}
        unit = x.get('unit', '')
        tag = ' (calibration)' if r['calibration'] else ''
        why = f' ({r["invalid"]})' if r.get('invalid') else ''
        lines.append(f'| {r["round"]}{tag} | {r["workload"]} | {r["side"]} | '
                     f'{si(x.get("value"), unit)}{why} | {si(x.get("peer_value"), unit)} | '
                     f'{x.get("errors", "-")} | {r["exit"]} |')
        if x.get('link'):
            links.setdefault((r['workload'], r['side']), x['link'])
    lines += ['', '## How each side ran', '']
    lines += [f'- {w}, {side}: {link}' for (w, side), link in links.items()]
    lines += ['', 'The exact commands of every run are in latest.json (runs[].result.commands).']
    return '\n'.join(lines) + '\n'


def chart(res, out_png, work):
    """The bars (one group per workload, Linux = 1), the runs and the targets, for chart.gp."""
    s = res['settings']
    bars, dots, vals = [], [], [1.0]
    for x, w in enumerate(s['workloads']):
        md = res['medians'][w]
        linux, kbt = md['linux'], md['kbt']
        ratio = res['ratios'][w]['value']
        target = res['targets'][w]['chart_target_ratio']
        label = SHORT[w] + (' (Linux/kbt)' if w in LOWER_IS_BETTER else '')
        bars.append(f'{x} "{label}" {1 if linux else "?"} {ratio if ratio else "?"} '
                    f'{target if target else "?"} "{si(linux, md["unit"])}" "{si(kbt, md["unit"])}"')
        vals += [v for v in (ratio, target) if v]
        for r in res['runs']:
            if r['workload'] != w or not r['result'] or r['calibration'] or not linux:
                continue
            v = r['result']['value']
            norm = linux / v if w in LOWER_IS_BETTER else v / linux
            off = -0.2 if r['side'] == 'linux' else 0.2
            dots.append(f'{x + off} {norm}')
            vals.append(norm)
    with open(os.path.join(work, 'bars.dat'), 'w') as f:
        f.write('\n'.join(bars) + '\n')
    with open(os.path.join(work, 'runs.dat'), 'w') as f:
        f.write('\n'.join(dots or ['0 ?']) + '\n')
    ymin = 10 ** math.floor(math.log10(min(vals) / 2))
    ymax = 10 ** math.ceil(math.log10(max(vals) * 3))
    m = res['machine']
    subtitle = (f'{m["cpu_model"]}, {m["cores"]} cores, kernel {m["kernel"]}; git {(m["git_rev"] or "?")[:10]}; '
                f'{s["seconds_per_run"]} s a run, medians of 3; dots: every run')
    cmd = ['gnuplot', '-e',
           f'bars="{work}/bars.dat"; runs="{work}/runs.dat"; out="{out_png}"; '
           f'ymin={ymin}; ymax={ymax}; n={len(s["workloads"])}; subtitle="{subtitle}"',
           os.path.join(HERE, 'chart.gp')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        die(f'gnuplot failed: {r.stderr.strip()}')


def write_atomic(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def cmd_report(a):
    if a.again:
        # Again from an earlier latest.json: its runs, machine and settings.
        with open(a.again) as f:
            old = json.load(f)
        runs, mach = old['runs'], old['machine']
        a.seconds = old['settings']['seconds_per_run']
        a.latency_rate = old['settings']['latency_rate']
        a.latency_rate_rule = old['settings']['latency_rate_rule']
    else:
        runs = load_runs(a.runs)
        with open(a.machine) as f:
            mach = json.load(f)
    workloads = [w for w in WORKLOADS if any(r['workload'] == w and not r['calibration'] for r in runs)]
    res = build(runs, mach, a, workloads)
    os.makedirs(a.out_dir, exist_ok=True)
    write_atomic(os.path.join(a.out_dir, 'latest.json'), json.dumps(res, indent=1) + '\n')
    md = markdown(res)
    write_atomic(os.path.join(a.out_dir, 'latest.md'), md)
    png = os.path.join(a.out_dir, 'latest.png')
    with tempfile.TemporaryDirectory(prefix='kbt-report.') as work:
        chart(res, png + '.tmp', work)
    os.replace(png + '.tmp', png)
    print(md.split('\n## Every run')[0].rstrip())
    return 0


# ---- micro-benchmarks

def cmd_micro(a):
    try:
        with open(a.__dict__['in']) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        die(f'cannot read the micro-benchmarks\' JSON: {e}')
    to_ns = {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9}
    ctx = data.get('context', {})
    rows = []
    for b in data.get('benchmarks', []):
        if b.get('run_type') == 'aggregate' and b.get('aggregate_name') != 'median':
            continue
        if b.get('error_occurred'):
            rows.append((b['name'], 'error: ' + b.get('error_message', ''), '-'))
            continue
        ns = b['cpu_time'] * to_ns.get(b.get('time_unit', 'ns'), 1)
        items = b.get('items_per_second')
        rows.append((b['name'], f'{ns:,.1f}', si(items, '') if items else '-'))
    if not rows:
        die('no benchmark in the JSON')
    try:
        with open(os.path.join(REPO, 'build', 'meson-info', 'intro-buildoptions.json')) as f:
            opts = {o['name']: o['value'] for o in json.load(f)}
        kbt_build = (f'buildtype {opts.get("buildtype")}, -O{opts.get("optimization")}, '
                     f'b_ndebug {opts.get("b_ndebug")}')
    except (OSError, ValueError, KeyError):
        kbt_build = 'unknown'
    lines = [f'# Micro-benchmarks ({ctx.get("date", "?")})', '',
             f'build/bench/kbt-bench on {ctx.get("num_cpus", "?")} CPUs at {ctx.get("mhz_per_cpu", "?")} MHz; '
             f'kbt built with {kbt_build} (Google Benchmark\'s own library: '
             f'{ctx.get("library_build_type", "?")}). ns/op: CPU time per iteration; items/s: as the '
             'benchmark counts its items (packets, lookups, timers).', '',
             '| benchmark | ns/op | items/s |', '|---|---:|---:|']
    lines += [f'| {n} | {t} | {i} |' for n, t, i in rows]
    md = '\n'.join(lines) + '\n'
    write_atomic(a.md, md)
    print(md.rstrip())
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    sub.add_parser('machine')
    r = sub.add_parser('record')
    r.add_argument('--side', required=True, choices=['kbt', 'linux'])
    r.add_argument('--workload', required=True, choices=WORKLOADS)
    r.add_argument('--round', required=True, type=int)
    r.add_argument('--exit', required=True, type=int)
    r.add_argument('--wall', required=True, type=float)
    r.add_argument('--stdout', required=True)
    r.add_argument('--calibration', action='store_true')
    r = sub.add_parser('rate')
    r.add_argument('--runs', required=True)
    r = sub.add_parser('report')
    r.add_argument('--again', metavar='LATEST_JSON', help='redo the report from an earlier latest.json')
    r.add_argument('--runs')
    r.add_argument('--machine')
    r.add_argument('--out-dir', required=True)
    r.add_argument('--seconds', type=int)
    r.add_argument('--latency-rate', type=float)
    r.add_argument('--latency-rate-rule', default='')
    r = sub.add_parser('micro')
    r.add_argument('--in', required=True)
    r.add_argument('--md', required=True)
    a = p.parse_args()
    if a.cmd == 'report' and not a.again and not (a.runs and a.machine and a.seconds):
        p.error('report needs --runs, --machine and --seconds (or --again)')
    if a.cmd == 'machine':
        print(json.dumps(machine(), indent=1))
        return 0
    return {'record': cmd_record, 'rate': cmd_rate, 'report': cmd_report, 'micro': cmd_micro}[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
