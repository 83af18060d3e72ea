#!/usr/bin/python3
"""tap_report.py — parse the TAP written by the OCI runtime-tools validation
binaries (one results directory per runtime, see run.sh) and print
per-test counts, a summary table, and a check-by-check comparison.

  tap_report.py count TAPFILE RC            one line: pass fail skip todo checks
  tap_report.py report RESULTS [--candidate NAME] [--reference NAME ...]
                [--gate NAME ...] [--fail-on-regression] [--verbose]

report exits 1 when the candidate fails a check that a --gate runtime (or,
with --fail-on-regression, any reference) passes.

RESULTS/<runtime>/<test>.tap is the binary's stdout, <test>.err its stderr,
<test>.rc "EXIT_STATUS SECONDS", <test>.leftovers what had to be cleaned up.

A check is one TAP "ok"/"not ok" line, named "<test>: <description>" (with
random temp-file digits and UUIDs folded, and "#N" appended for repeated
descriptions).  Two synthetic checks per test make failures visible that the
suite reports only through its exit status or a YAML diagnostic:
  "<test>: [exit status 0]"       the binary exited 0 (util.Fatal exits 1)
  "<test>: [no failure diagnostic]"  only for binaries that exit 0 with no
                                  ok/not ok line at all (the hook tests):
                                  passes when no YAML diagnostic was printed
                                  (the exit status is the other check).
Only the standard library is used.
"""
import json
import os
import re
import sys

TEST_LINE = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$')
DIRECTIVE = re.compile(r'^(.*?)\s*#\s*(SKIP|TODO)\b\s*(.*)$', re.I)
UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
DIGITS = re.compile(r'\d{5,}')


def norm(desc):
    return DIGITS.sub('N', UUID.sub('UUID', desc.strip()))


class Check:
    __slots__ = ('key', 'desc', 'status', 'diag')

    def __init__(self, key, desc, status):
        self.key, self.desc, self.status, self.diag = key, desc, status, []


def parse_tap(text):
    """Returns (checks, blocks) from a TAP stream (possibly several
    concatenated streams; blocks is the list of all YAML blocks).  A YAML
    block or '#' line belongs to the check before it, except the block
    RuntimeInsideValidate prints (JSON whose "stdout" holds runtimetest's
    TAP), which comes before its check."""
    items = []            # ('check', Check) | ('diag', text, before) | ('break',)
    checks, seen, blocks = [], {}, []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == '---' and line.startswith('  '):
            j = i + 1
            body = []
            while j < len(lines) and lines[j].strip() != '...':
                body.append(lines[j][2:] if lines[j].startswith('  ') else lines[j])
                j += 1
            block = '\n'.join(body)
            blocks.append(block)
            items.append(('diag', block, is_inside_diag(block)))
            i = j + 1
            continue
        if line.startswith('#'):
            items.append(('diag', line, False))
            i += 1
            continue
        m = TEST_LINE.match(line)
        if m:
            ok = m.group(1) == 'ok'
            desc = m.group(3) or ''
            status = 'pass' if ok else 'fail'
            d = DIRECTIVE.match(line[len(m.group(1)):])
            if d:
                kind = d.group(2).upper()
                desc = d.group(3) or desc
                status = 'skip' if kind == 'SKIP' else 'todo'
            base = norm(desc)
            n = seen.get(base, 0) + 1
            seen[base] = n
            key = base if n == 1 else '%s #%d' % (base, n)
            c = Check(key, desc, status)
            checks.append(c)
            items.append(('check', c))
        else:
            items.append(('break',))
        i += 1
    prev = None
    for k, it in enumerate(items):
        if it[0] == 'check':
            prev = it[1]
        elif it[0] == 'break':
            prev = None
        else:
            target = None if it[2] else prev
            if target is None:
                for nxt in items[k + 1:]:
                    if nxt[0] == 'check':
                        target = nxt[1]
                        break
            if target is not None:
                target.diag.append(it[1])
    return checks, blocks


def is_inside_diag(block):
    try:
        obj = json.loads(block)
    except ValueError:
        return False
    return isinstance(obj, dict) and 'TAP version' in str(obj.get('stdout', ''))


def read(path):
    try:
        with open(path, 'r', errors='replace') as f:
            return f.read()
    except OSError:
        return None


def load_test(d, test):
    """All checks of one test of one runtime, synthetic ones included."""
    tap = read(os.path.join(d, test + '.tap')) or ''
    err = read(os.path.join(d, test + '.err')) or ''
    rcs = (read(os.path.join(d, test + '.rc')) or '').split()
    rc = int(rcs[0]) if rcs else None
    secs = float(rcs[1]) if len(rcs) > 1 else 0.0
    checks, blocks = parse_tap(tap)
    blocks_n = len(blocks)
    real = [c for c in checks if c.status in ('pass', 'fail')]
    ex = Check('[exit status 0]', '[exit status 0]', 'pass' if rc == 0 else 'fail')
    if rc != 0:
        why = 'timed out' if rc in (124, 137) else 'exit status %s' % rc
        ex.diag.append(why + (':\n' + tail(err, 25) if err.strip() else ''))
    out = list(checks) + [ex]
    if not real and rc == 0:
        nd = Check('[no failure diagnostic]', '[no failure diagnostic]',
                   'pass' if blocks_n == 0 else 'fail')
        nd.diag.extend(blocks)
        out.append(nd)
    left = (read(os.path.join(d, test + '.leftovers')) or '').strip()
    return {'checks': out, 'rc': rc, 'secs': secs, 'err': err, 'leftovers': left}


def tail(s, n):
    ls = s.rstrip('\n').splitlines()
    return '\n'.join(ls[-n:])


def count(c):
    r = {'pass': 0, 'fail': 0, 'skip': 0, 'todo': 0}
    for x in c:
        r[x.status] += 1
    return r


def fmt_diag(diag, width=2000):
    """Diagnostics, with the runtimetest TAP embedded in a JSON 'stdout'
    field reduced to its failing lines and their YAML."""
    out = []
    for d in diag:
        txt = d
        try:
            obj = json.loads(d)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            obj = dict(obj)
            inner = obj.get('stdout')
            if isinstance(inner, str) and 'TAP version' in inner:
                ic, _ = parse_tap(inner)
                bad = [x for x in ic if x.status == 'fail']
                obj['stdout'] = '(runtimetest: %d ok, %d not ok)' % (
                    sum(1 for x in ic if x.status == 'pass'), len(bad))
                txt = json.dumps(obj, indent=2)
                for b in bad:
                    txt += '\n  inner not ok - ' + b.desc
                    for dd in b.diag:
                        txt += '\n' + indent(dd, '      ')
            else:
                txt = json.dumps(obj, indent=2)
        if len(txt) > width:
            txt = txt[:width] + '\n...(%d more chars)' % (len(txt) - width)
        out.append(txt)
    return '\n'.join(out)


REPEAT = re.compile(r' #\d+$')


def group_repeats(pairs):
    """[(test, key)] -> [(test, key without '#N', count)], order kept."""
    out, idx = [], {}
    for t, k in pairs:
        b = (t, REPEAT.sub('', k))
        if b in idx:
            out[idx[b]][2] += 1
        else:
            idx[b] = len(out)
            out.append([b[0], b[1], 1])
    return out


def indent(s, p):
    return '\n'.join(p + x for x in s.splitlines())


def tests_of(results, runtimes):
    names = set()
    for r in runtimes:
        d = os.path.join(results, r)
        for f in os.listdir(d):
            if f.endswith('.rc'):
                names.add(f[:-3])
    return sorted(names)


def runtimes_of(results):
    order = read(os.path.join(results, 'runtimes'))
    if order:
        return [l.split()[0] for l in order.splitlines() if l.strip()]
    return sorted(x for x in os.listdir(results) if os.path.isdir(os.path.join(results, x)))


def cmd_count(argv):
    tap = read(argv[0]) or ''
    checks, _ = parse_tap(tap)
    c = count(checks)
    print('%d %d %d %d %d' % (c['pass'], c['fail'], c['skip'], c['todo'], len(checks)))


def cmd_report(argv):
    results, cand, refs, gates, fail_on, verbose = None, None, [], [], False, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--candidate':
            cand = argv[i + 1]; i += 2
        elif a == '--reference':
            refs.append(argv[i + 1]); i += 2
        elif a == '--gate':
            gates.append(argv[i + 1]); i += 2
        elif a == '--fail-on-regression':
            fail_on = True; i += 1
        elif a == '--verbose':
            verbose = True; i += 1
        elif results is None:
            results = a; i += 1
        else:
            sys.exit('tap_report: unexpected argument %s' % a)
    rts = runtimes_of(results)
    if cand is None:
        cand = rts[0]
    if not refs:
        refs = [r for r in rts if r != cand]
    for g in gates:
        if g not in rts:
            sys.exit('tap_report: --gate %s: no results for that runtime' % g)
        if g not in refs:
            refs.append(g)
    if fail_on:
        gates = list(refs)
    tests = tests_of(results, rts)
    data = {r: {t: load_test(os.path.join(results, r), t) for t in tests} for r in rts}

    # ---- summary table
    w = max([len(t) for t in tests] + [4])
    print('\n== Summary (checks: pass/fail/skip, then exit status and seconds)')
    hdr = '%-*s' % (w, 'test') + ''.join('  %-24s' % r for r in rts)
    print(hdr)
    print('-' * len(hdr))
    tot = {r: {'pass': 0, 'fail': 0, 'skip': 0, 'todo': 0} for r in rts}
    for t in tests:
        row = '%-*s' % (w, t)
        for r in rts:
            x = data[r][t]
            c = count(x['checks'])
            for k in tot[r]:
                tot[r][k] += c[k]
            cell = '%d/%d/%d rc=%s %.0fs' % (c['pass'], c['fail'], c['skip'],
                                             x['rc'] if x['rc'] is not None else '-', x['secs'])
            row += '  %-24s' % cell
        print(row)
    print('-' * len(hdr))
    row = '%-*s' % (w, 'TOTAL')
    for r in rts:
        row += '  %-24s' % ('%d/%d/%d' % (tot[r]['pass'], tot[r]['fail'], tot[r]['skip']))
    print(row)
    for r in rts:
        secs = sum(data[r][t]['secs'] for t in tests)
        print('%s: %d checks passed, %d failed, %d skipped, %d todo; %.0f s' % (
            r, tot[r]['pass'], tot[r]['fail'], tot[r]['skip'], tot[r]['todo'], secs))

    left = [(r, t, data[r][t]['leftovers']) for r in rts for t in tests if data[r][t]['leftovers']]
    if left:
        print('\n== Left behind by a test (and cleaned up by run.sh)')
        for r, t, l in left:
            ls = l.splitlines()
            shown = ls[:4] + (['... %d more' % (len(ls) - 4)] if len(ls) > 4 else [])
            print('%s %s:\n%s' % (r, t, indent('\n'.join(shown), '    ')))

    # ---- every failing check of the candidate, one line each
    fails = [(t, c.key) for t in tests for c in data[cand][t]['checks'] if c.status == 'fail']
    print('\n== Checks failing on %s (%d)' % (cand, len(fails)))
    for t, k, n in group_repeats(fails):
        print('  %s: %s%s' % (t, k, ' (x%d)' % n if n > 1 else ''))

    # ---- comparison
    regressions = {}
    for ref in refs:
        if ref == cand or ref not in data:
            continue
        worse, better = [], []      # worse: (test, present failing checks, missing keys)
        other_path = []             # (test, keys) only the reference emitted; candidate exited 0
        nworse = 0
        for t in tests:
            ct, rt = data[cand][t], data[ref][t]
            cm = {c.key: c for c in ct['checks']}
            rm = {c.key: c for c in rt['checks']}
            failing, missing = [], []
            for k, rc_ in rm.items():
                cc = cm.get(k)
                if rc_.status != 'pass' or (cc is not None and cc.status == 'pass'):
                    continue
                if cc is not None:
                    failing.append(cc)
                else:
                    missing.append(k)
            if missing and ct['rc'] == 0:
                # The candidate's test ran to completion on another code
                # path (e.g. it rejected a config the reference accepted):
                # those checks are not comparable.
                other_path.append((t, missing))
                missing = []
            if failing or missing:
                worse.append((t, failing, missing))
                nworse += len(failing) + len(missing)
            for k, cc in cm.items():
                rc_ = rm.get(k)
                if cc.status == 'pass' and (rc_ is None or rc_.status != 'pass'):
                    better.append((t, k))
        print('\n== %s vs %s: %d check(s) pass on %s but not on %s' % (
            cand, ref, nworse, ref, cand))
        for t, failing, missing in worse:
            ct, rt = data[cand][t], data[ref][t]
            print('\n-- %s  (%s: exit %s; %s: exit %s)' % (t, cand, ct['rc'], ref, rt['rc']))
            bare = False
            for cc in failing:
                print('  %s on %s: %s' % (cc.status.upper(), cand, cc.key or '(empty description)'))
                if cc.diag:
                    print(indent(fmt_diag(cc.diag), '    '))
                else:
                    bare = True
            if bare and not missing and ct['err'].strip():
                print(indent(tail(ct['err'], 12), '    stderr| '))
            if missing:
                why = 'timed out' if ct['rc'] in (124, 137) else 'exit status %s' % ct['rc']
                print('  NOT REACHED on %s (%s): %d check(s) %s passes, e.g.' % (cand, why, len(missing), ref))
                for k in missing[:6]:
                    print('    - ' + k)
                if len(missing) > 6:
                    print('    - ... %d more' % (len(missing) - 6))
                if ct['err'].strip():
                    print(indent(tail(ct['err'], 12), '    stderr| '))
        if other_path:
            print('\n  (not compared: checks only %s emitted, in tests that %s completed with exit 0 on another path)' % (ref, cand))
            for t, ks in other_path:
                print('    %s: %d check(s), e.g. %s' % (t, len(ks), ks[0] or '(empty description)'))
        print('\n== %s vs %s: %d check(s) pass on %s but not on %s' % (
            cand, ref, len(better), cand, ref))
        for t, k, n in group_repeats(better):
            print('  %s: %s%s' % (t, k, ' (x%d)' % n if n > 1 else ''))
        regressions[ref] = nworse
    rc = 0
    for g in gates:
        if regressions.get(g):
            print('\nFAIL: %s fails %d check(s) that %s passes' % (cand, regressions[g], g))
            rc = 1
        else:
            print('\nOK: %s passes every check that %s passes' % (cand, g))
    return rc


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == 'count':
        cmd_count(sys.argv[2:])
        return 0
    if sys.argv[1] == 'report':
        return cmd_report(sys.argv[2:])
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main())
