#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fail a test VM whose console stays silent, with its vCPUs' registers.

  watchdog.py --console LOG --monitor SOCKET --qemu-pid PID
              [--system-map MAP] [--limit SECONDS] [--report FILE]

Watches the console log that QEMU writes.  When it has not grown for
--limit seconds (default 300) while QEMU still runs, asks QEMU's human
monitor (a unix socket, -monitor unix:SOCKET,server=on,wait=off) for every
vCPU's registers, resolves each RIP that lies in the kernel to a symbol
with System.map, then samples every vCPU's RIP and flags --samples times
a second apart (a vCPU that spins shows one loop, one that is stuck with
interrupts off the same RIP with IF clear), prints it all with the
console's tail, writes it to --report, and stops QEMU: the run then fails
as a guest that did not finish, within minutes instead of the whole
timeout.
"""

import argparse
import bisect
import os
import re
import signal
import socket
import sys
import time


def load_map(path):
    """Sorted (address, name) of the text symbols of System.map."""
    syms = []
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in "tTwW":
                    syms.append((int(parts[0], 16), parts[2]))
    except OSError:
        return []
    syms.sort()
    return syms


def resolve(syms, addr):
    """NAME+0xOFF for a kernel address, or None."""
    if not syms or addr < syms[0][0]:
        return None
    i = bisect.bisect_right([a for a, _ in syms], addr) - 1
    base, name = syms[i]
    if addr - base > 0x100000:
        return None
    return f"{name}+{addr - base:#x}"


def monitor(path, commands, timeout=20.0):
    """Send HMP commands, return what QEMU answered."""
    out = b""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        time.sleep(0.5)
        for cmd in commands:
            s.sendall(cmd.encode() + b"\n")
            time.sleep(1.0)
        s.sendall(b"\n")
        end = time.time() + timeout
        s.settimeout(2.0)
        while time.time() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out.decode(errors="replace")


# QEMU's monitor decorates its output with terminal escapes.
ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def annotate(text, syms):
    """Append the symbol of every RIP= in QEMU's register dump."""
    lines = []
    for line in text.splitlines():
        line = ESCAPES.sub("", line).rstrip()
        m = re.search(r"RIP=([0-9a-f]{16})", line)
        if m:
            sym = resolve(syms, int(m.group(1), 16))
            if sym:
                line += f"   <{sym}>"
        lines.append(line)
    return "\n".join(lines)


def rip_samples(text, syms):
    """Per vCPU, the "RIP <symbol> IF=n" of each register dump in text."""
    samples = {}
    cpu = None
    for line in ESCAPES.sub("", text).splitlines():
        m = re.match(r"\s*CPU#(\d+)\s*$", line)
        if m:
            cpu = int(m.group(1))
            continue
        m = re.search(r"RIP=([0-9a-f]{16}) RFL=([0-9a-f]{8})", line)
        if m and cpu is not None:
            rip = int(m.group(1), 16)
            flag = (int(m.group(2), 16) >> 9) & 1
            samples.setdefault(cpu, []).append(f"{resolve(syms, rip) or hex(rip)} IF={flag}")
    return samples


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--console", required=True)
    ap.add_argument("--monitor", required=True)
    ap.add_argument("--qemu-pid", type=int, required=True)
    ap.add_argument("--system-map")
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--report")
    ap.add_argument("--poll", type=float, default=5.0)
    ap.add_argument("--samples", type=int, default=8)
    args = ap.parse_args(argv)

    size, since = -1, time.time()
    while alive(args.qemu_pid):
        try:
            now_size = os.path.getsize(args.console)
        except OSError:
            now_size = 0
        if now_size != size:
            size, since = now_size, time.time()
        elif time.time() - since >= args.limit:
            break
        time.sleep(args.poll)
    else:
        return 0

    syms = load_map(args.system_map) if args.system_map else []
    try:
        dump = monitor(args.monitor, ["info cpus", "info registers -a"])
    except OSError as e:
        dump = f"(the monitor did not answer: {e})"
    try:
        sampled = monitor(args.monitor, ["info registers -a"] * args.samples)
    except OSError:
        sampled = ""
    samples = rip_samples(sampled, syms)
    lines = [f"CPU#{cpu}: " + ", ".join(rips) for cpu, rips in sorted(samples.items())]
    with open(args.console, encoding="utf-8", errors="replace") as f:
        tail = f.readlines()[-30:]
    report = [f"watchdog: the console was silent for {args.limit} s: the guest hangs",
              "---- the vCPUs, from QEMU's monitor ----", annotate(dump, syms),
              f"---- each vCPU's RIP, {args.samples} samples a second apart ----"]
    report += lines or ["(no samples: the monitor did not answer)"]
    report += ["---- the console's last lines ----"] + [t.rstrip("\n") for t in tail] + ["---- end ----"]
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(text)
    try:
        os.kill(args.qemu_pid, signal.SIGTERM)
    except OSError:
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
