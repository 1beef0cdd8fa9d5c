# SPDX-License-Identifier: GPL-2.0
"""Tests of tools/guest-results.py on recorded guest console logs."""

import importlib.util
import io
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "guest_results", os.path.join(HERE, "..", "guest-results.py"))
gr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gr)


def judge(name, expect=None):
    path = os.path.join(HERE, "logs", name)
    res = gr.Result()
    with open(path, encoding="utf-8") as f:
        for line in f:
            gr.feed(res, line)
    out = io.StringIO()
    status = gr.judge(res, path, out=out, expect=expect)
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
        self.assertEqual(out[-1], "1 passed, 1 failed, 0 skipped "
                                  "(1 cases: 1 passed, 0 failed, 0 skipped)")
        self.assertIn("FAIL coalesced_pio_test  # exit status 1", out)

    def test_cases(self):
        # Every test's own KTAP cases are counted; a test that passes with
        # a failed case fails the run; the runner's line is not a case.
        status, out = judge("case-failed.log")
        self.assertEqual(status, 1)
        self.assertIn("error: t1 passed, but its case 'the second case' failed", out)
        self.assertEqual(out[-1], "2 passed, 1 failed, 0 skipped "
                                  "(4 cases: 2 passed, 1 failed, 1 skipped)")

    def test_nested_plan_kept(self):
        # A test that passes having reported fewer results than it planned
        # fails the run; plans kept at every depth (run_kselftest.sh's and
        # the binary's) and a plan of 0 with SKIP pass.
        status, out = judge("plan-broken.log")
        self.assertEqual(status, 1)
        self.assertIn("error: t1 passed, but it planned 3 results at depth 1 "
                      "and reported 2", out)
        self.assertFalse(any("t2" in line and line.startswith("error:") for line in out), out)
        self.assertFalse(any("t3" in line and line.startswith("error:") for line in out), out)
        # tools/guest/expect-fail shows its test's output behind "| ": its
        # failed cases are what it expects, not cases of its own.
        self.assertFalse(any("t4" in line and line.startswith("error:") for line in out), out)
        self.assertIn("PASS t4", out)

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


class NoFalseGreen(unittest.TestCase):
    """A run that tests nothing, or misses a selected test, fails."""

    def test_nothing_run_old_log(self):
        # Issue 13: T=<misspelt name> ran no guest test (plan 1..0) and the
        # three KUnit suites made it "3 passed, 0 failed".  A log without the
        # guest's list of selected tests must still fail.
        status, out = judge("nothing-run.log")
        self.assertEqual(status, 1, out)
        self.assertIn("error: the guest ran no test (plan 1..0): nothing was tested", out)
        self.assertEqual(out[-1], "3 passed, 1 failed, 0 skipped")

    def test_none_selected(self):
        status, out = judge("none-selected.log")
        self.assertEqual(status, 1, out)
        self.assertIn("error: no test was selected: nothing was tested", out)

    def test_only_a_kunit_suite_selected(self):
        # T=kunit:rust_kvm_coalesced_ring: the guest runs nothing itself.
        status, out = judge("kunit-selected.log")
        self.assertEqual(status, 0, out)
        self.assertEqual(out[-1], "3 passed, 0 failed, 0 skipped")

    def test_selected_kunit_suite_missing(self):
        status, out = judge("expect-missing.log")
        self.assertEqual(status, 1, out)
        self.assertIn("error: the selected test kunit:rust_kvm_coalesced_ring did not report a result", out)
        self.assertEqual(out[-1], "3 passed, 1 failed, 0 skipped")

    def test_all_selected_skipped(self):
        status, out = judge("all-skipped.log")
        self.assertEqual(status, 1, out)
        self.assertIn("error: all 1 selected tests skipped: nothing was tested", out)

    def test_selected(self):
        status, out = judge("selected.log")
        self.assertEqual(status, 0, out)
        self.assertEqual(out[-1], "5 passed, 0 failed, 0 skipped "
                                  "(1 cases: 1 passed, 0 failed, 0 skipped)")
        # A test's own TAP is a diagnostic line, not a result.
        self.assertNotIn("PASS rtc", out)

    def test_host_selection_must_match_the_guests(self):
        status, out = judge("selected.log", expect=["coalesced_io_test"])
        self.assertEqual(status, 1, out)
        self.assertTrue(any(line.startswith("error: the guest's tests (# kcp: expect")
                            for line in out), out)

    def test_host_selection_without_guest_list(self):
        # An old log judged against a selection: each selected test reports.
        status, out = judge("pass.log", expect=["coalesced_io_test", "coalesced_pio_test"])
        self.assertEqual(status, 1, out)
        self.assertIn("error: the selected test coalesced_pio_test did not report a result", out)
        status, out = judge("pass.log", expect=["coalesced_io_test"])
        self.assertEqual(status, 0, out)

    def test_rejudge_a_saved_log(self):
        # The command line of README's "Re-judging a console log".
        script = os.path.join(HERE, "..", "guest-results.py")
        for log, want in (("pass.log", 0), ("nothing-run.log", 1)):
            p = subprocess.run([sys.executable, script, os.path.join(HERE, "logs", log)],
                               capture_output=True, text=True, check=False)
            self.assertEqual(p.returncode, want, p.stdout + p.stderr)
            self.assertRegex(p.stdout.splitlines()[-1], r"^\d+ passed, \d+ failed, \d+ skipped$")
        p = subprocess.run([sys.executable, script, "--expect", "coalesced_pio_test",
                            os.path.join(HERE, "logs", "pass.log")],
                           capture_output=True, text=True, check=False)
        self.assertEqual(p.returncode, 1, p.stdout)


if __name__ == "__main__":
    unittest.main()
