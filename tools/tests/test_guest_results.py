# SPDX-License-Identifier: GPL-2.0
"""Tests of tools/guest-results.py on recorded guest console logs."""

import importlib.util
import io
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "guest_results", os.path.join(HERE, "..", "guest-results.py"))
gr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gr)


def judge(name):
    path = os.path.join(HERE, "logs", name)
    res = gr.Result()
    with open(path, encoding="utf-8") as f:
        for line in f:
            gr.feed(res, line)
    out = io.StringIO()
    status = gr.judge(res, path, out=out)
    return status, out.getvalue().splitlines()


class GuestResults(unittest.TestCase):
    def test_pass(self):
        # A real boot of the test kernel (KASAN, lockdep, kmemleak) running
        # upstream's coalesced_io_test; two Rust KUnit suites ran at boot.
        status, out = judge("pass.log")
        self.assertEqual(status, 0, out)
        self.assertEqual(out[-1], "3 passed, 0 failed, 0 skipped")
        self.assertIn("PASS coalesced_io_test", out)
        self.assertIn("PASS kunit:rust_kernel_fmt", out)
        self.assertFalse(any(line.startswith("error:") for line in out))

    def test_failed_test(self):
        status, out = judge("fail.log")
        self.assertEqual(status, 1)
        self.assertEqual(out[-1], "1 passed, 1 failed, 0 skipped")
        self.assertIn("FAIL coalesced_pio_test  # exit status 1", out)

    def test_skipped_test(self):
        status, out = judge("skip.log")
        self.assertEqual(status, 0, out)
        self.assertEqual(out[-1], "1 passed, 0 failed, 1 skipped")
        self.assertIn("SKIP coalesced_io_test  # SKIP", out)

    def test_hung_guest(self):
        # The guest stopped printing in the middle of its second test and
        # QEMU was killed: no "# kcp: done", one planned test missing.
        status, out = judge("hang.log")
        self.assertEqual(status, 1)
        self.assertEqual(out[-1], "1 passed, 1 failed, 0 skipped")
        self.assertIn("error: the guest did not finish (hang, timeout or crash)", out)
        self.assertIn("error: the guest planned 2 tests but reported 1", out)
        # The tail of the console is shown on failure.
        self.assertIn("---- last lines of the console log ----", out)

    def test_kasan_splat_among_passing_tests(self):
        status, out = judge("kasan.log")
        self.assertEqual(status, 1)
        self.assertEqual(out[-1], "2 passed, 1 failed, 0 skipped")
        self.assertTrue(any(line.startswith("error: kernel splat at log line")
                            and "KASAN: slab-use-after-free" in line for line in out), out)

    def test_kunit_results_count(self):
        status, out = judge("kunit.log")
        self.assertEqual(status, 1)
        self.assertIn("PASS kunit:rust_kvm_coalesced_ring", out)
        self.assertIn("FAIL kunit:rust_kernel_bitmap", out)
        self.assertEqual(out[-1], "2 passed, 1 failed, 0 skipped")

    def test_boot_messages_are_not_splats(self):
        # KASAN, lockdep and kmemleak announce themselves at boot.
        for msg in ("kasan: KernelAddressSanitizer initialized (generic)",
                    "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
                    "kmemleak: Kernel memory leak detector initialized (mem pool available: 15709)",
                    "... MAX_LOCKDEP_SUBCLASSES:  8",
                    "rcu: \tRCU lockdep checking is enabled."):
            self.assertFalse(gr.is_splat(msg), msg)
        for msg in ("BUG: KASAN: slab-out-of-bounds in foo+0x1/0x2",
                    "WARNING: possible circular locking dependency detected",
                    "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
                    "BUG: sleeping function called from invalid context at mm/slab.c:1"):
            self.assertTrue(gr.is_splat(msg), msg)

    def test_user_lines_are_not_splats(self):
        # A test may print the word WARNING itself; only kernel lines count.
        res = gr.Result()
        gr.feed(res, "# WARNING: this test prints scary words\n")
        self.assertEqual(res.splats, [])


if __name__ == "__main__":
    unittest.main()
