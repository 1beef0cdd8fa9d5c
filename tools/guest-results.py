#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a test guest's console log.

The guest's /init prints KTAP (tools/guest/init): a plan, the names of the
tests the host selected (``# kcp: expect NAME...``), one ``ok``/``not ok``
line per test and ``# kcp: done`` before it powers off.  Its lines carry no
printk timestamp; kernel lines do (CONFIG_PRINTK_TIME), which is how the two
are told apart.  Top-level KUnit results in the kernel log count as tests
too (``kunit:SUITE``).  The run fails on a failed test, a selected test that
did not report, a run in which no selected test passed or failed (nothing
selected, nothing run, or all skipped), a guest that did not finish, or any
kernel splat, and the last line printed is ``N passed, N failed, N skipped``.

  guest-results.py LOG                   judge a recorded log (a saved
                                         $KCP_CACHE/logs/*.log)
  guest-results.py --follow LOG          read the console from stdin, keep
                                         it in LOG, show progress, judge it
  guest-results.py --live LOG            read from stdin the console that
                                         is being written to LOG (tail -f),
                                         show progress, judge it
  --expect NAME,...                      the tests that must report (the
                                         workbench passes its selection); by
                                         default the guest's ``# kcp: expect``
"""

import argparse
import re
import sys

KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\]\s?(.*)$")
RESULT = re.compile(r"^(ok|not ok) (\d+) (\S+)(?:\s+#\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
DONE = "# kcp: done"
EXPECT = re.compile(r"^# kcp: expect(?: (.*))?$")
RUNNING = re.compile(r"^# kcp: running (\S+)$")
# A test's own results, nested under it as kselftest nests them: "# ok 1 x"
# from a test the guest runs, "# # ok 1 x" from one that run_kselftest.sh
# runs; the runner's line for the whole binary is not a case.
CASE = re.compile(r"^#(?: #)*\s(ok|not ok) (\d+) (.*?)(?:\s+#\s*(.*))?$")
# A nested plan ("# 1..6", "# # 1..0 # SKIP ...") and a nested result, with
# their depth (the number of leading "# "): each plan must be kept, by as
# many results at its depth before the next plan there or the test's end.
NESTED_PLAN = re.compile(r"^((?:# )+)1\.\.(\d+)(?:\s+#.*)?$")
NESTED_RESULT = re.compile(r"^((?:# )+)(?:ok|not ok) \d+\b")
RUNNER_LINE = re.compile(r"selftests: \S+: ")

# Kernel messages that mean something went wrong, whatever the tests said.
SPLATS = [
    re.compile(p)
    for p in (
        r"\bBUG:",
        r"\bWARNING:",
        r"\bOops\b",
        r"general protection fault",
        r"kernel BUG at",
        r"Kernel panic",
        r"\bKASAN\b",
        r"\bUBSAN:",
        r"\blockdep\b",
        r"DEBUG_LOCKS_WARN_ON",
        r"possible (circular|recursive) locking",
        r"suspicious RCU usage",
        r"kmemleak: \d+ new suspected memory leak",
        r"unreferenced object 0x",
        r"Kernel memory leak detector disabled",
        r"kmemleak: Memory pool empty",
        r"rcu: INFO: .*stall",
        r"INFO: task .* blocked for more than",
        r"Call Trace:.*\bBUG\b",
    )
]
# Messages that match a splat pattern but are not one.
BENIGN = [
    re.compile(p)
    for p in (
        r"KASAN: (?:\w+ )*mode|kasan: KernelAddressSanitizer initialized",
        r"Lock dependency validator",
        r"RCU lockdep checking is enabled",
        r"lockdep: .*(?:dependency|depth|classes)",
        r"\.\.\. (MAX_LOCK|MAX_LOCKDEP|CLASSHASH|CHAINHASH)",
        r"kmemleak: Kernel memory leak detector initialized",
        r"kmemleak: Automatic memory scanning thread",
        r"Spectre|retbleed|mitigation",
    )
]


class Result:
    def __init__(self):
        self.tests = []  # (name, "pass" | "fail" | "skip", note)
        self.plan = None
        self.expect = None  # the names the guest announced, or None
        self.done = False
        self.splats = []  # (line number, text)
        self.lines = []
        self.running = None  # the test whose output this is
        self.cases = []  # (test, case, "pass" | "fail" | "skip")
        self.nested = {}  # depth -> [planned, reported], of the running test
        self.broken_plans = []  # (test, depth, planned, reported)


def is_splat(msg):
    if any(b.search(msg) for b in BENIGN):
        return False
    return any(s.search(msg) for s in SPLATS)


def classify(status, directive):
    directive = directive or ""
    if status == "ok":
        return "skip" if directive.upper().startswith("SKIP") else "pass"
    return "fail"


def close_plan(res, depth):
    """Check the running test's nested plan at depth, and forget it."""
    planned, reported = res.nested.pop(depth)
    if planned != reported:
        res.broken_plans.append((res.running, depth, planned, reported))


def nested_line(res, line):
    """Count a running test's nested plans and results."""
    m = NESTED_PLAN.match(line)
    if m:
        depth = len(m.group(1)) // 2
        if depth in res.nested:
            close_plan(res, depth)
        res.nested[depth] = [int(m.group(2)), 0]
        return
    m = NESTED_RESULT.match(line)
    if m:
        depth = len(m.group(1)) // 2
        if depth in res.nested:
            res.nested[depth][1] += 1


def feed(res, line):
    """Take one console line; return what to show live (or None)."""
    line = line.rstrip("\r\n").replace("\r", "")
    res.lines.append(line)
    k = KERNEL_LINE.match(line)
    if k:
        msg = k.group(1)
        if is_splat(msg):
            res.splats.append((len(res.lines), msg))
            return line
        m = RESULT.match(msg)
        if m:  # top-level KUnit suite result
            res.tests.append(("kunit:" + m.group(3), classify(m.group(1), m.group(4)), m.group(4) or ""))
            return line
        return None
    if line == DONE:
        res.done = True
        return line
    m = EXPECT.match(line)
    if m and res.expect is None:
        res.expect = (m.group(1) or "").split()
        return line
    m = PLAN.match(line)
    if m and res.plan is None:
        res.plan = int(m.group(1))
        return line
    m = RUNNING.match(line)
    if m:
        res.running = m.group(1)
        return line
    if res.running:
        nested_line(res, line)
    m = CASE.match(line)
    if m and res.running and not RUNNER_LINE.search(m.group(3)):
        res.cases.append((res.running, m.group(3), classify(m.group(1), m.group(4))))
        return line
    m = RESULT.match(line)
    if m:
        if res.running:
            for depth in sorted(res.nested):
                close_plan(res, depth)
        res.tests.append((m.group(3), classify(m.group(1), m.group(4)), m.group(4) or ""))
        res.running = None
    return line


def judge(res, log_path, out=sys.stdout, tail=40, expect=None):
    """Print the verdict; return the exit status.

    expect: the names of the tests that must report (the host's selection),
    or None to take the guest's ``# kcp: expect`` line."""
    problems = []
    user = [t for t in res.tests if not t[0].startswith("kunit:")]
    if res.plan is not None and len(user) != res.plan:
        problems.append(f"the guest planned {res.plan} tests but reported {len(user)}")
    if not res.done:
        problems.append("the guest did not finish (hang, timeout or crash)")
    if res.plan is None and not res.tests:
        problems.append("the guest reported no test")

    # Every selected test must report, and one at least must have run to a
    # verdict: a run that tests nothing is not a pass.
    if expect is not None and res.expect is not None and sorted(expect) != sorted(res.expect):
        problems.append("the guest's tests (# kcp: expect " + " ".join(res.expect)
                        + ") are not the host's selection (" + " ".join(expect) + ")")
    if expect is None:
        expect = res.expect
    missing = []
    if expect is None:
        # An old log, without the guest's list: its own tests at least.
        if res.done and not user:
            problems.append("the guest ran no test (plan 1..0): nothing was tested")
        selected = user
    elif not expect:
        problems.append("no test was selected: nothing was tested")
        selected = []
    else:
        reported = {t[0] for t in res.tests}
        missing = [name for name in expect if name not in reported]
        for name in missing:
            problems.append(f"the selected test {name} did not report a result")
        selected = [t for t in res.tests if t[0] in expect]
    if selected and all(t[1] == "skip" for t in selected):
        problems.append(f"all {len(selected)} selected tests skipped: nothing was tested")
    for lineno, msg in res.splats[:10]:
        problems.append(f"kernel splat at log line {lineno}: {msg}")
    # A test that passed with a failed case says less than it seems.
    verdicts = {t[0]: t[1] for t in res.tests}
    for test, case, verdict in res.cases:
        if verdict == "fail" and verdicts.get(test) == "pass":
            problems.append(f"{test} passed, but its case '{case}' failed")
    # So does one that planned more (or fewer) cases than it reported.
    for test, depth, planned, reported in res.broken_plans:
        if verdicts.get(test) == "pass":
            problems.append(f"{test} passed, but it planned {planned} results at depth "
                            f"{depth} and reported {reported}")

    for name, verdict, note in res.tests:
        print(f"{verdict.upper():4} {name}{'  # ' + note if note else ''}", file=out)
    passed = sum(1 for t in res.tests if t[1] == "pass")
    failed = sum(1 for t in res.tests if t[1] == "fail")
    skipped = sum(1 for t in res.tests if t[1] == "skip")
    unplanned = res.plan - len(user) if res.plan is not None and len(user) < res.plan else 0
    # Never ran, or died while running.
    failed += max(unplanned, len([m for m in missing if not m.startswith("kunit:")]))
    failed += len([m for m in missing if m.startswith("kunit:")])
    if res.splats:
        failed += 1  # the kernel log is a check of its own

    if problems:
        print("---- last lines of the console log ----", file=out)
        for line in res.lines[-tail:]:
            print(line, file=out)
        print("---- end ----", file=out)
        for p in problems:
            print("error: " + p, file=out)
        if failed == 0:
            failed = 1
    print(f"full console log: {log_path}", file=out)
    cases = ""
    if res.cases:
        n = {v: sum(1 for c in res.cases if c[2] == v) for v in ("pass", "fail", "skip")}
        cases = (f" ({len(res.cases)} cases: {n['pass']} passed, {n['fail']} failed,"
                 f" {n['skip']} skipped)")
    print(f"{passed} passed, {failed} failed, {skipped} skipped{cases}", file=out)
    return 1 if failed or problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", nargs="?", help="recorded console log to judge")
    ap.add_argument("--follow", metavar="LOG", help="read stdin, keep it in LOG")
    ap.add_argument("--live", metavar="LOG", help="read stdin, the console being written to LOG")
    ap.add_argument("--expect", metavar="NAME,...",
                    help="the tests that must report (default: the guest's list)")
    args = ap.parse_args(argv)
    expect = None
    if args.expect is not None:
        expect = [n for n in args.expect.split(",") if n]
    res = Result()
    if args.follow:
        with open(args.follow, "w", encoding="utf-8", errors="replace") as keep:
            for line in sys.stdin:
                keep.write(line)
                keep.flush()
                show = feed(res, line)
                if show is not None:
                    print(show, flush=True)
        path = args.follow
    elif args.live:
        for line in sys.stdin:
            show = feed(res, line)
            if show is not None:
                print(show, flush=True)
        path = args.live
    elif args.log:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            for line in f:
                feed(res, line)
        path = args.log
    else:
        ap.error("give a LOG or --follow LOG")
    return judge(res, path, expect=expect)


if __name__ == "__main__":
    sys.exit(main())
