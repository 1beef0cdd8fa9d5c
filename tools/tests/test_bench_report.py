# SPDX-License-Identifier: GPL-2.0
"""Tests of tools/bench-report.py on a recorded benchmark guest log.

logs/bench-debug.log is a real run of tools/bench/coalesced_pio_bench
(2 repetitions of 1,000 accesses) on the debug test kernel.
"""

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "bench_report", os.path.join(HERE, "..", "bench-report.py"))
br = importlib.util.module_from_spec(spec)
spec.loader.exec_module(br)
LOG = os.path.join(HERE, "logs", "bench-debug.log")


class BenchReport(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def report(self, *logs):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = br.main(["--out", self.tmp, "--no-png", *logs])
        return status, out.getvalue(), err.getvalue()

    def test_parse(self):
        release, data, problems = br.parse(LOG, br.load_is_splat())
        self.assertEqual(problems, [])
        self.assertEqual(release, "7.3.4-kcp+")
        recs = data[("out70", "coalesced")]
        self.assertEqual([r["rep"] for r in recs], [0, 1])
        self.assertEqual(recs[0]["accesses"], 1000)
        self.assertEqual(recs[0]["cycles"], 9589726)
        self.assertEqual(len(data), 12)

    def test_tables_ratios_csv(self):
        status, out, err = self.report(f"rust={LOG}", f"stock={LOG}")
        self.assertEqual(status, 0, err)
        self.assertIn("kernel 'rust' (7.3.4-kcp+)", out)
        # median of 9589.726 and 9026.441 per access
        self.assertRegex(out, r"OUT 0x70 +1000 +29091 \[29081\.\.29101\] +9308 \[9026\.\.9590\]")
        # the same log twice: Rust/C is 1
        self.assertRegex(out, r"Rust/C +OUT 0x70 +1\.000 +<= 1\.00  PASS")
        self.assertRegex(out, r"Rust/userspace exit +OUT 0x70 +0\.320 +<= 0\.15  MISS")
        with open(os.path.join(self.tmp, "bench.csv")) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[0], "kernel,release,point,port,width,zone,accesses,reps,"
                                  "median,min,max,per_rep")
        self.assertEqual(len(rows), 1 + 2 * 12)

    def test_series_c(self):
        status, out, err = self.report(f"rust={LOG}", f"series-c={LOG}", f"stock={LOG}")
        self.assertEqual(status, 0, err)
        self.assertIn("kernel 'series-c' (7.3.4-kcp+)", out)
        self.assertRegex(out, r"series C/C +OUT 0x70 +1\.000 +<= 1\.01  PASS")
        # without it, no such line
        _, out, _ = self.report(f"rust={LOG}", f"stock={LOG}")
        self.assertNotIn("series C/C", out)

    def test_unfinished_or_splat_fails(self):
        bad = os.path.join(self.tmp, "bad.log")
        with open(LOG) as f:
            lines = [line for line in f if not line.startswith("kcp-bench done")]
        lines.insert(5, "[   12.000000] BUG: unable to handle page fault\n")
        with open(bad, "w") as f:
            f.writelines(lines)
        status, _, err = self.report(f"rust={bad}")
        self.assertEqual(status, 1)
        self.assertIn("kernel splat", err)
        self.assertIn("did not finish", err)


if __name__ == "__main__":
    unittest.main()
