# SPDX-License-Identifier: GPL-2.0
"""Tests of tools/tests.sh, the reader of the test registry tools/tests.list."""

import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_SH = os.path.join(HERE, "..", "tests.sh")


def run(*args, registry=None):
    env = dict(os.environ)
    env.pop("KCP_TESTS_LIST", None)
    if registry is not None:
        env["KCP_TESTS_LIST"] = registry
    p = subprocess.run(["bash", TESTS_SH, *args], capture_output=True, text=True,
                       env=env, check=False)
    return p.returncode, p.stdout, p.stderr


class Registry(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def registry(self, text):
        path = os.path.join(self.tmp.name, "tests.list")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_the_registry_parses(self):
        status, out, err = run("list")
        self.assertEqual(status, 0, err)
        self.assertTrue(out.startswith("NAME "), out)
        names = [line.split()[0] for line in out.splitlines()[1:]]
        self.assertIn("coalesced_io_test", names)
        self.assertIn("kunit:rust_kvm_coalesced_ring", names)

    def test_select_keeps_registry_order_and_kunit_suites(self):
        reg = self.registry("# comment\n\n"
                            "kunit:a  check,run  -  -\n"
                            "t1  check,c  10  /tests/t1 --x\n"
                            "t2  check  20  /bin/sh /tests/t2.sh\n"
                            "m1  run    30  /tests/m1\n")
        status, out, err = run("select", "check", registry=reg)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["kunit:a check - -", "t1 check 10 /tests/t1 --x",
                                            "t2 check 20 /bin/sh /tests/t2.sh"])
        status, out, err = run("select", "check", "t2,t1", registry=reg)
        self.assertEqual(out.splitlines(), ["t1 check 10 /tests/t1 --x",
                                            "t2 check 20 /bin/sh /tests/t2.sh"])
        status, out, err = run("names", "run", registry=reg)
        self.assertEqual(out.strip(), "kunit:a,m1")
        # A test of several jobs is selected in each.
        status, out, err = run("select", "c", "t1", registry=reg)
        self.assertEqual(out.splitlines(), ["t1 c 10 /tests/t1 --x"])
        # make check selects over its two jobs: a name of either is known.
        status, _, err = run("check", "check,c", "t2", registry=reg)
        self.assertEqual(status, 0, err)
        # Selecting is filtering: t2 is not a test of c, and c runs nothing.
        status, out, err = run("select", "c", "t2", registry=reg)
        self.assertEqual((status, out), (0, ""), err)
        status, _, err = run("check", "check,c", "m1", registry=reg)
        self.assertEqual(status, 1)
        self.assertIn("no test 'm1' in make check; its tests: kunit:a t1 t2", err)

    def test_unknown_name_lists_the_known_tests(self):
        # make check T=nonexistent: one line, naming what exists.
        status, out, err = run("check", "check", "nonexistent")
        self.assertEqual(status, 1)
        self.assertEqual(out, "")
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertRegex(lines[0], r"^error: no test 'nonexistent' in make check; its tests: .*"
                         r"coalesced_io_test .*\(make list-tests\)$")
        # A test of another job is not a test of make check.
        status, out, err = run("check", "check", "kvm_caps")
        self.assertEqual(status, 1)
        self.assertIn("no test 'kvm_caps' in make check", err)

    def test_empty_selection_is_an_error(self):
        status, _, err = run("check", "check", ",")
        self.assertEqual(status, 1)
        self.assertIn("T= names no test", err)

    def test_malformed_lines(self):
        for text, msg in (
            ("t1 check ten /tests/t1\n", "TIMEOUT 'ten' is not a number"),
            ("t1 check 10\n", "no COMMAND"),
            ("t1 nightly 10 /tests/t1\n", "JOB 'nightly' is not one of: check check2 c run pristine qemu"),
            ("kunit:a check 10 -\n", "a KUnit suite has '-' for both TIMEOUT and COMMAND"),
            ("t1 check 10 /tests/t1\nt1 check 20 /tests/t1\n", "test 't1' already at tests.list:1"),
            ("k check,run - -\nk run 20 /tests/k\n", "test 'k' already at tests.list:1"),
            ("t/1 check 10 /tests/t1\n", "bad test name"),
        ):
            status, _, err = run("list", registry=self.registry(text))
            self.assertEqual(status, 1, text)
            self.assertIn(msg, err, text)

    def test_same_name_in_two_jobs(self):
        status, _, err = run("list", registry=self.registry(
            "demo check 10 /tests/demo\ndemo run 10 /tests/demo -i\n"))
        self.assertEqual(status, 0, err)


if __name__ == "__main__":
    unittest.main()
