#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Instruction profile of one benchmark burst, from QEMU's execution trace.

  profile.py --dir BUILD_DIR --point POINT [--accesses N] [--trace FILE]

BUILD_DIR is a kernel's directory of make bench ($KCP_CACHE/build/
<base>-bench-rust or -stock, with bench-initramfs.cpio.gz); POINT a point
and zone of the benchmark, e.g. out70/coalesced.  The guest runs that
point alone, one burst of N accesses (default 100), in QEMU with
-icount shift=0 and one instruction per translation block; the execution
trace is switched on through the monitor when the benchmark starts and off
when it ends, then analysed:

TRACE is QEMU's log of a guest run with one instruction per translation
block (-accel tcg,one-insn-per-tb=on) and -d nochain,exec, so that it has a
"Trace" line for every executed instruction.  The window is the nested VM's
timed burst: from the first to the second execution of an rdtsc of
guest_code() in BIN (guest_burst(), inlined) (the benchmark, whose code the nested VM runs at the
same addresses).  Every instruction in the window is charged to the symbol
it belongs to: vmlinux (System.map), a module (its .text address in the
guest, /sys/module/NAME/sections/.*text*, which the bench job prints, and
its .ko), or "user" (L1 userspace, or the nested VM's own code).  Prints
instructions per access by symbol, the largest first; under -icount
shift=0 these are the benchmark's cycles.
"""

import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import sys
import time

MODULE = re.compile(r"^# kcp: module (\S+) (\S+) (0x[0-9a-f]+)$")
TRACE = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def module_syms(path, sections, prefix):
    """The function symbols of a .ko, at the addresses of its loaded sections."""
    out = subprocess.run(["llvm-objdump-19", "-t", path], capture_output=True,
                         text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) .{7} (\S+)\s+[0-9a-f]+ (\S+)$", line)
        if m and m.group(2) in sections and m.group(3) != m.group(2):
            syms.append((sections[m.group(2)] + int(m.group(1), 16), prefix + m.group(3)))
    return syms


def load_map(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tT":
                syms.append((int(parts[0], 16), parts[2]))
    return syms


def rdtsc_pcs(binary):
    out = subprocess.run(["llvm-objdump-19", "-d", "--no-show-raw-insn",
                          "--disassemble-symbols=guest_code", binary],
                         capture_output=True, text=True, check=True).stdout
    pcs = {int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-f]+):\s+rdtsc\b", out, re.M)}
    if not pcs:
        sys.exit(f"no rdtsc in guest_code() of {binary}")
    return pcs


def monitor(sock, cmd, tries=50):
    for _ in range(tries):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
                s.sendall(cmd.encode() + b"\n")
                time.sleep(0.5)
                return True
        except OSError:
            time.sleep(0.2)
    return False


def run(d, point, accesses, trace, console):
    sock = trace + ".monitor"
    for f in (trace, sock):
        if os.path.exists(f):
            os.unlink(f)
    append = (f"console=ttyS0 panic=-1 kcp.job=bench "
              f"kcp.bench=-p,{point.replace(',', ':')},-r,1,-b,1,-n,{accesses}")
    cmd = ["qemu-system-x86_64", "-accel", "tcg,one-insn-per-tb=on",
           "-icount", "shift=0,align=off,sleep=off", "-cpu", "max", "-smp", "1",
           "-m", "1G", "-display", "none", "-no-reboot", "-nic", "none",
           "-serial", "stdio", "-monitor", f"unix:{sock},server=on,wait=off",
           "-d", "nochain", "-D", trace,
           "-kernel", os.path.join(d, "out", "arch", "x86", "boot", "bzImage"),
           "-initrd", os.path.join(d, "bench-initramfs.cpio.gz"), "-append", append]
    print(f"profile: booting {d} for {point}, trace in {trace}", flush=True)
    with open(console, "w") as log, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                      stdin=subprocess.DEVNULL) as qemu:
        tracing = False
        for raw in qemu.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            log.write(line + "\n")
            if line.startswith("# kcp: bench -") and not tracing:
                tracing = True
                if not monitor(sock, "log nochain,exec"):
                    sys.exit(f"cannot reach the QEMU monitor at {sock}")
                print("profile: tracing", flush=True)
            elif line.startswith("kcp-bench "):
                print("profile: " + line, flush=True)
                if line == "kcp-bench done":
                    monitor(sock, "log nochain", tries=1)
        qemu.wait()


def demangle(names):
    """Rust symbols, readable (llvm-cxxfilt knows the v0 mangling)."""
    out = subprocess.run(["llvm-cxxfilt-19"], input="\n".join(names), capture_output=True,
                         text=True, check=True).stdout.splitlines()
    return out if len(out) == len(names) else names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--point", required=True)
    ap.add_argument("--accesses", type=int, default=100)
    ap.add_argument("--trace", help="trace file (default: BUILD_DIR/profile-trace.log)")
    ap.add_argument("--no-run", action="store_true", help="analyse an existing trace")
    ap.add_argument("--keep-trace", action="store_true",
                    help="keep the trace (about 1 GB for 100 accesses)")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args(argv)
    d = args.dir
    trace = args.trace or os.path.join(d, "profile-trace.log")
    console = trace + ".console"
    if not args.no_run:
        run(d, args.point, args.accesses, trace, console)
    bases = collections.defaultdict(dict)
    with open(console, errors="replace") as f:
        for line in f:
            m = MODULE.match(line.strip())
            # .init.text is freed once the module is loaded, and reused.
            if m and not m.group(2).startswith(".init"):
                bases[m.group(1)][m.group(2)] = int(m.group(3), 16)
    args.bench = os.path.join(d, "bench", "coalesced_pio_bench")
    args.trace = trace
    kos = {"kvm": "out/arch/x86/kvm/kvm.ko", "kvm_amd": "out/arch/x86/kvm/kvm-amd.ko",
           "kvm_coalesced_pio": "out/virt/kvm/kvm_coalesced_pio.ko"}

    syms = load_map(os.path.join(d, "out", "System.map"))
    for name, sections in bases.items():
        syms += module_syms(os.path.join(d, kos[name]), sections, f"[{name}] ")
    syms.sort()
    addrs = [a for a, _ in syms]
    kernel_start = 0xffff800000000000
    marks = rdtsc_pcs(args.bench)

    counts = collections.Counter()
    state = 0  # 0 before the window, 1 in it, 2 after
    with open(args.trace, errors="replace") as f:
        for line in f:
            m = TRACE.match(line)
            if not m:
                continue
            pc = int(m.group(1), 16)
            if pc in marks:
                state += 1
                if state == 2:
                    break
                continue
            if state == 1:
                counts[pc] += 1
    if state != 2:
        sys.exit("the trace has no complete burst (two rdtsc of guest_burst)")

    by_sym = collections.Counter()
    for pc, n in counts.items():
        if pc < kernel_start:
            name = "user (L1 userspace, or the nested VM)"
        else:
            i = bisect.bisect_right(addrs, pc) - 1
            name = syms[i][1] if i >= 0 else "?"
        by_sym[name] += n
    if not args.no_run and not args.keep_trace:
        os.unlink(trace)
    total = sum(by_sym.values())
    top = by_sym.most_common(args.top)
    names = demangle([name for name, _ in top])
    print(f"{total / args.accesses:10.1f}  instructions per access, in all")
    for (_, n), name in zip(top, names):
        print(f"{n / args.accesses:10.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
