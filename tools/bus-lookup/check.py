#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Test the I/O bus lookup of a kernel tree's kvm_main.c on the host.

  check.py KERNEL_TREE [ROUNDS [SEED]]

Copies the functions of virt/kvm/kvm_main.c from kvm_io_bus_cmp() to
kvm_io_bus_set_tree() (patch 1's lookup and bus copies), compiles them with
tools/bus-lookup/harness.c and runs it: random buses against a brute force
(see harness.c).  Exits 0 if every access was offered to exactly the devices
that contain it, 1 if not, 2 if the tree has no such functions.
"""

import os
import subprocess
import sys
import tempfile


def extract(src):
    start = src.find("static inline int kvm_io_bus_cmp(")
    end_fn = src.find("static void kvm_io_bus_set_tree(")
    if start < 0 or end_fn < 0:
        return None
    end = src.find("\n}\n", end_fn)
    if end < 0:
        return None
    body = src[start:end + 3]
    # Only what the lookup and the copies need: drop the callers of the bus
    # and the SRCU accessors in between.
    for name in ("static struct kvm_io_bus *kvm_get_bus_srcu(",
                 "int kvm_io_bus_write(", "int kvm_io_bus_write_cookie(",
                 "int kvm_io_bus_read(", "static void __free_bus("):
        i = body.find(name)
        if i < 0:
            continue
        j = body.find("\n}\n", i) + 3
        # An EXPORT_SYMBOL line right after the function goes with it.
        if body.startswith("EXPORT_SYMBOL", j):
            j = body.find("\n", j) + 1
        body = body[:i] + body[j:]
    return body


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tree = argv[1]
    with open(os.path.join(tree, "virt/kvm/kvm_main.c"), encoding="utf-8") as f:
        body = extract(f.read())
    if body is None:
        print("bus lookup: no kvm_io_bus_set_tree() in the tree: not patch 1's lookup")
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "kvm_main_extract.c")
        with open(inc, "w", encoding="utf-8") as f:
            f.write(body)
        exe = os.path.join(tmp, "harness")
        cc = subprocess.run(["gcc", "-O2", "-w", f'-DKVM_MAIN_EXTRACT="{inc}"',
                             "-o", exe, os.path.join(here, "harness.c")],
                            capture_output=True, text=True)
        if cc.returncode:
            print(cc.stdout + cc.stderr)
            print("bus lookup: the extract does not compile")
            return 1
        run = subprocess.run([exe] + argv[2:], capture_output=True, text=True)
        sys.stdout.write(run.stdout + run.stderr)
        return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
