#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read make bench's guest console logs; print the tables and ratios.

  bench-report.py --out DIR rust=LOG [series-c=LOG] stock=LOG

Each log holds the lines of tools/bench/coalesced_pio_bench, one per
repetition of a point::

  kcp-bench point=out70 port=0x70 width=1 zone=coalesced rep=0
            accesses=10000 cycles=12345678 exits=0 coalesced=10000

For each kernel this prints the 2018 patch's table (port, samples, guest
cycles per access without and with coalescing, plus the in-kernel floor),
then the three ratios of the Rust kernel with their goals, and writes
DIR/bench.csv and DIR/bench.png.  Figures are the median of the
repetitions' means, with their spread (min..max).  Nothing here asserts a
time: a missed goal is reported, not failed.  A log with a kernel splat or
without the benchmark's closing line fails the report.
"""

import argparse
import csv
import importlib.util
import os
import re
import statistics
import sys

LINE = re.compile(r"^kcp-bench (point=.*)$")
KERNEL = re.compile(r"^kcp-bench kernel=(\S+) reps=(\d+) accesses=(\d+) burst=(\d+)")
KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\]\s?(.*)$")

# (point name, port label) of the 2018 table's rows, then the pairs.
WRITES = [("out70", "OUT 0x70"), ("outlcf8", "OUTL 0xcf8")]
PAIRS = [("rtc70+71", "OUT 0x70 + IN 0x71"), ("pcicf8+cfc", "OUTL 0xcf8 + INL 0xcfc")]
EXACT = [("outlcf8", "OUTL 0xcf8, exact zone"),
         ("pcicf8+cfc", "OUTL 0xcf8 + INL, exact")]
REFERENCE = [("out4d0", "pic", "OUT 0x4d0 (PIC ELCR, in kernel)"),
             ("loop", "exit", "timing loop alone")]

# The goals of issue 5, for the Rust kernel: (name, numerator, denominator, goal).
GOALS = [
    ("Rust/C", ("rust", "coalesced"), ("stock", "coalesced"), 1.00),
    ("Rust/floor", ("rust", "coalesced"), ("rust", "ioeventfd"), 1.10),
    ("Rust/userspace exit", ("rust", "coalesced"), ("rust", "exit"), 0.15),
]
# The misses of the I/O bus lookup: devices on the bus, and the goal for
# a bus whose ranges overlap against one whose ranges are disjoint.
# No regression for the VMs on KVM's C code: the series' C path (the
# series' kernel, provider not loaded) against upstream's.
SERIES_C_GOAL = 1.01
MISSES = [10, 100, 1000]
MISS_GOAL = (1000, 1.10)
COLORS = {"exit": "tab:red", "coalesced": "tab:blue", "ioeventfd": "tab:green"}
PATCH_2018 = {"out70": 0.146, "outlcf8": 0.19}


def load_is_splat():
    """tools/guest-results.py's splat patterns, the same as make check's."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest-results.py")
    spec = importlib.util.spec_from_file_location("guest_results", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.is_splat


def parse(path, is_splat):
    """Return (release, {(point, zone): [per-rep dicts]}, problems)."""
    release, data, problems, done = "?", {}, [], False
    skipped = {}
    with open(path, errors="replace") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n").replace("\r", "")
            k = KERNEL_LINE.match(line)
            if k:
                if is_splat(k.group(1)):
                    problems.append(f"{path}:{n}: kernel splat: {k.group(1)}")
                continue
            if line == "kcp-bench done":
                done = True
                continue
            m = KERNEL.match(line)
            if m:
                release = m.group(1)
                continue
            m = LINE.match(line)
            if not m:
                continue
            rec = dict(kv.split("=", 1) for kv in m.group(1).split())
            if "skipped" in rec:
                # A point this kernel cannot run (exact-width zones).
                skipped.setdefault((rec["point"], rec["zone"]), rec["skipped"])
                continue
            for key in ("width", "rep", "accesses", "cycles", "exits", "coalesced"):
                rec[key] = int(rec[key])
            rec["per_access"] = rec["cycles"] / rec["accesses"]
            data.setdefault((rec["point"], rec["zone"]), []).append(rec)
    if not done:
        problems.append(f"{path}: no 'kcp-bench done' line: the benchmark did not finish")
    return release, data, problems


def summary(recs):
    v = [r["per_access"] for r in recs]
    return {"median": statistics.median(v), "min": min(v), "max": max(v),
            "values": v, "reps": len(v), "accesses": recs[0]["accesses"],
            "port": recs[0]["port"], "width": recs[0]["width"]}


def fmt(s, width=24):
    if s is None:
        return "-".rjust(width)
    txt = f"{s['median']:.0f} [{s['min']:.0f}..{s['max']:.0f}]"
    return txt.rjust(width)


def print_kernel(label, release, stats):
    def get(point, zone):
        return stats.get((point, zone))

    any_rec = next(iter(stats.values()))
    print(f"\nkernel '{label}' ({release}): guest cycles per access, median of "
          f"{any_rec['reps']} repetitions [min..max], -icount shift=0")
    print(f"{'port':<24} {'samples':>8} {'without coalescing':>24} "
          f"{'with coalescing':>24} {'floor (ioeventfd)':>24}")
    for point, name in WRITES:
        row = [get(point, z) for z in ("exit", "coalesced", "ioeventfd")]
        samples = next((s["accesses"] for s in row if s), 0)
        print(f"{name:<24} {samples:>8} {fmt(row[0])} {fmt(row[1])} {fmt(row[2])}")
    for point, name in PAIRS:
        row = [get(point, z) for z in ("exit", "coalesced")]
        samples = next((s["accesses"] for s in row if s), 0)
        print(f"{name:<24} {samples:>8} {fmt(row[0])} {fmt(row[1])} {'':>24}")
    # Exact-width zones (KVM_COALESCED_PIO_EXACT), where the kernel has them.
    for point, name in EXACT:
        s = get(point, "exact")
        if s:
            print(f"{name:<24} {s['accesses']:>8} {'':>24} {fmt(s)} {'':>24}")
    for point, zone, name in REFERENCE:
        s = get(point, zone)
        if s:
            print(f"  {name}: {fmt(s, 0)} per access")


def ratio(stats, num, den, point):
    a = stats.get(num[0], {}).get((point, num[1]))
    b = stats.get(den[0], {}).get((point, den[1]))
    if not a or not b:
        return None
    return a["median"] / b["median"]


def write_csv(path, releases, stats):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kernel", "release", "point", "port", "width", "zone",
                    "accesses", "reps", "median", "min", "max", "per_rep"])
        for label, per in stats.items():
            for (point, zone), s in per.items():
                w.writerow([label, releases[label], point, s["port"], s["width"], zone,
                            s["accesses"], s["reps"], f"{s['median']:.1f}",
                            f"{s['min']:.1f}", f"{s['max']:.1f}",
                            " ".join(f"{v:.1f}" for v in s["values"])])


def write_png(path, stats):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5),
                                   gridspec_kw={"width_ratios": [3, 2]})
    bars(ax1, stats, WRITES + PAIRS, (("exit", "exit to userspace"), ("coalesced", "coalesced"),
                                      ("ioeventfd", "in-kernel floor")))
    ax1.set_yscale("log")
    ax1.set_title("every point (log scale)")
    bars(ax2, stats, WRITES, (("coalesced", "coalesced"), ("ioeventfd", "in-kernel floor")))
    ax2.set_title("in-kernel paths: Rust, C, floor\n(the axis starts at 90% of the least)")
    lows = [s["min"] for per in stats.values() for (point, zone), s in per.items()
            if zone in ("coalesced", "ioeventfd") and point in dict(WRITES)]
    if lows:
        ax2.set_ylim(bottom=0.9 * min(lows))
    for ax in (ax1, ax2):
        ax.set_ylabel("guest cycles per access (= instructions)")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, ncol=2, loc="lower right" if ax is ax2 else "upper left")
    fig.suptitle("Coalesced PIO, -icount shift=0: median of the repetitions, "
                 "bars min..max")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def bars(ax, stats, groups, zones):
    series = [(label, zone, f"{label}: {what}") for label in stats for zone, what in zones]
    width = 0.8 / len(series)
    for i, (label, zone, name) in enumerate(series):
        xs, ys, lo, hi = [], [], [], []
        for g, (point, _) in enumerate(groups):
            s = stats[label].get((point, zone))
            if not s:
                continue
            xs.append(g - 0.4 + width * (i + 0.5))
            ys.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
        if xs:
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=name,
                   color=COLORS[zone], alpha=1.0 if label == "rust" else 0.55,
                   hatch=None if label == "rust" else "//", edgecolor="black",
                   linewidth=0.5)
    ax.set_xticks(range(len(groups)), [name for _, name in groups], fontsize=8)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="directory for bench.csv and bench.png")
    ap.add_argument("--no-png", action="store_true", help="skip the chart")
    ap.add_argument("logs", nargs="+", metavar="LABEL=LOG")
    args = ap.parse_args(argv)

    is_splat = load_is_splat()
    releases, stats, problems = {}, {}, []
    for arg in args.logs:
        label, _, path = arg.partition("=")
        release, data, probs = parse(path, is_splat)
        problems += probs
        if not data:
            problems.append(f"{path}: no kcp-bench result lines")
            continue
        releases[label] = release
        stats[label] = {key: summary(recs) for key, recs in data.items()}

    for label in stats:
        print_kernel(label, releases[label], stats[label])

    if "rust" in stats:
        print("\nratios of medians (Rust kernel), goal, verdict:")
        print(f"{'ratio':<22} {'port':<12} {'value':>7} {'goal':>8}  verdict")
        for name, num, den, goal in GOALS:
            for point, port in WRITES:
                r = ratio(stats, num, den, point)
                if r is None:
                    print(f"{name:<22} {port:<12} {'-':>7} {'<= %.2f' % goal:>8}  n/a")
                    continue
                note = ""
                if name == "Rust/userspace exit":
                    note = f" (2018 patch: {PATCH_2018[point]:.3f})"
                verdict = "PASS" if r <= goal else "MISS"
                print(f"{name:<22} {port:<12} {r:>7.3f} {'<= %.2f' % goal:>8}  {verdict}{note}")
        if "stock" in stats:
            print("\nfor comparison, the same ratios of upstream's C (stock kernel):")
            for name, num, den, _ in GOALS[1:]:
                for point, port in WRITES:
                    r = ratio(stats, ("stock", num[1]), ("stock", den[1]), point)
                    if r is not None:
                        print(f"C{name[4:]:<21} {port:<12} {r:>7.3f}")
        if "series-c" in stats and "stock" in stats:
            print("\nthe series' C code (its kernel, provider not loaded) against upstream's C:")
            for point, port in WRITES:
                r = ratio(stats, ("series-c", "coalesced"), ("stock", "coalesced"), point)
                if r is not None:
                    verdict = "PASS" if r <= SERIES_C_GOAL else "MISS"
                    print(f"{'series C/C':<22} {port:<12} {r:>7.3f} "
                          f"{'<= %.2f' % SERIES_C_GOAL:>8}  {verdict}")
        print("\nwhat a guest feels (index/address write + data read, with/without zone):")
        for label in stats:
            for point, name in PAIRS:
                r = ratio(stats, (label, "coalesced"), (label, "exit"), point)
                if r is not None:
                    print(f"  {label:<8} {name:<36} {r:.3f}")
                r = ratio(stats, (label, "exact"), (label, "exit"), point)
                if r is not None:
                    print(f"  {label:<8} {name + ', exact zone':<36} {r:.3f}")

    if any((f"miss{n}", "disjoint") in per for per in stats.values() for n in MISSES):
        print("\nmisses in the I/O bus lookup: OUTB to a port that none of N devices (ioeventfds")
        print("and coalesced zones) contains, so it exits to userspace; disjoint ranges, or one")
        print("zone more nested in the first (overlap); guest cycles per access:")
        print(f"{'kernel':<8} {'devices':>7} {'disjoint':>24} {'overlap':>24} "
              f"{'overlap/disjoint':>17}  goal")
        for label in stats:
            for n in MISSES:
                d = stats[label].get((f"miss{n}", "disjoint"))
                o = stats[label].get((f"miss{n}", "overlap"))
                if not d or not o:
                    continue
                r = o["median"] / d["median"]
                goal = ""
                if n == MISS_GOAL[0]:
                    goal = f"<= {MISS_GOAL[1]:.2f} {'PASS' if r <= MISS_GOAL[1] else 'MISS'}"
                print(f"{label:<8} {n:>7} {fmt(d)} {fmt(o)} {r:>17.3f}  {goal}")

    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "bench.csv")
    write_csv(csv_path, releases, stats)
    print(f"\nCSV: {csv_path}")
    if not args.no_png and stats:
        png_path = os.path.join(args.out, "bench.png")
        write_png(png_path, stats)
        print(f"PNG: {png_path}")

    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
