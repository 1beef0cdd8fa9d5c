#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a test guest's console log.

The guest's /init prints KTAP (tools/guest/init): a plan, one ``ok``/``not
ok`` line per test and ``# kcp: done`` before it powers off.  Its lines carry
no printk timestamp; kernel lines do (CONFIG_PRINTK_TIME), which is how the
two are told apart.  Top-level KUnit results in the kernel log count as tests
too.  The run fails on a failed or missing test, a guest that did not finish,
or any kernel splat, and the last line printed is ``N passed, N failed, N
skipped``.

  guest-results.py LOG                   judge a recorded log
  guest-results.py --follow LOG          read the console from stdin, keep
                                         it in LOG, show progress, judge it
"""

import argparse
import re
import sys

KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\]\s?(.*)$")
RESULT = re.compile(r"^(ok|not ok) (\d+) (\S+)(?:\s+#\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
DONE = "# kcp: done"

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
        self.done = False
        self.splats = []  # (line number, text)
        self.lines = []


def is_splat(msg):
    if any(b.search(msg) for b in BENIGN):
        return False
    return any(s.search(msg) for s in SPLATS)


def classify(status, directive):
    directive = directive or ""
    if status == "ok":
        return "skip" if directive.upper().startswith("SKIP") else "pass"
    return "fail"


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
    m = PLAN.match(line)
    if m and res.plan is None:
        res.plan = int(m.group(1))
        return line
    m = RESULT.match(line)
    if m:
        res.tests.append((m.group(3), classify(m.group(1), m.group(4)), m.group(4) or ""))
    return line


def judge(res, log_path, out=sys.stdout, tail=40):
    """Print the verdict; return the exit status."""
    problems = []
    user = [t for t in res.tests if not t[0].startswith("kunit:")]
    if res.plan is not None and len(user) != res.plan:
        problems.append(f"the guest planned {res.plan} tests but reported {len(user)}")
    if not res.done:
        problems.append("the guest did not finish (hang, timeout or crash)")
    if res.plan is None and not res.tests:
        problems.append("the guest reported no test")
    for lineno, msg in res.splats[:10]:
        problems.append(f"kernel splat at log line {lineno}: {msg}")

    for name, verdict, note in res.tests:
        print(f"{verdict.upper():4} {name}{'  # ' + note if note else ''}", file=out)
    passed = sum(1 for t in res.tests if t[1] == "pass")
    failed = sum(1 for t in res.tests if t[1] == "fail")
    skipped = sum(1 for t in res.tests if t[1] == "skip")
    if res.plan is not None and len(user) < res.plan:
        failed += res.plan - len(user)  # never ran, or died while running
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
    print(f"{passed} passed, {failed} failed, {skipped} skipped", file=out)
    return 1 if failed or problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", nargs="?", help="recorded console log to judge")
    ap.add_argument("--follow", metavar="LOG", help="read stdin, keep it in LOG")
    args = ap.parse_args(argv)
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
    elif args.log:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            for line in f:
                feed(res, line)
        path = args.log
    else:
        ap.error("give a LOG or --follow LOG")
    return judge(res, path)


if __name__ == "__main__":
    sys.exit(main())
