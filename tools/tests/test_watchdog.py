# SPDX-License-Identifier: GPL-2.0
"""tools/watchdog.py: the RIP samples of a hung guest."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import watchdog  # noqa: E402

DUMP = """(qemu) info registers -a

CPU#0
RAX=0000000000000000 RBX=0000000000000000
RIP=ffffffff81000010 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0

CPU#1
RIP=ffffffff81000120 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
"""
SYMS = [(0xFFFFFFFF81000000, "spin"), (0xFFFFFFFF81000100, "idle")]


class RipSamples(unittest.TestCase):
    def test_each_dump_one_sample_per_vcpu(self):
        got = watchdog.rip_samples(DUMP + DUMP.replace("81000010", "81000018"), SYMS)
        self.assertEqual(got, {0: ["spin+0x10 IF=0", "spin+0x18 IF=0"],
                               1: ["idle+0x20 IF=1", "idle+0x20 IF=1"]})

    def test_no_dump_no_samples(self):
        self.assertEqual(watchdog.rip_samples("(qemu) \x1b[K", SYMS), {})

    def test_unknown_address_in_hex(self):
        got = watchdog.rip_samples(DUMP.replace("ffffffff81000010", "0000000000401000"), SYMS)
        self.assertEqual(got[0], ["0x401000 IF=0"])


if __name__ == "__main__":
    unittest.main()
