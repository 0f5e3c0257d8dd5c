#!/usr/bin/env python3
"""scripts/check_layers.py on small temporary trees: each rule, broken once,
is reported with file and line; enforced rules fail the check, the others
are counted as known and pass it. Python 3 standard library only."""
import contextlib
import importlib.util
import io
import os
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "check_layers.py")
spec = importlib.util.spec_from_file_location("check_layers", SCRIPT)
check_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layers)


def function_of(lines):
    body = "\n".join(f"  x += {i};" for i in range(lines - 2))
    return f"int f(int x) noexcept {{\n{body}\n}}\n"


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        # A tree that obeys every rule.
        self.write("lib/tcp/a.hh", '#pragma once\n#include "wire/tcp.hh"\n#include "base/clock.hh"\n')
        self.write("lib/api/b.hh", '#pragma once\n#include "tcp/handle.hh"\n')
        self.write("apps/x/main.cc", '#include "tcp/events.hh"\nint main() { return 0; }\n')
        self.write("examples/e.cc", '#include "api/app.hh"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        full = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)

    def run_check(self, *extra):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            rc = check_layers.main(["--root", self.root, *extra])
        return rc, out.getvalue()

    def test_a_clean_tree_passes(self):
        rc, out = self.run_check()
        self.assertEqual(rc, 0, out)
        self.assertIn("layers: tcp-below-core: ok", out)
        self.assertIn("layers: no-tcb-above-tcp: ok", out)

    def test_tcp_including_each_upper_layer_fails_naming_file_and_line(self):
        for layer in ("core", "dev", "ip", "api"):
            with self.subTest(layer=layer):
                self.write("lib/tcp/bad.cc", f'// top\n#include <cstdint>\n#include "{layer}/x.hh"\n')
                rc, out = self.run_check()
                self.assertEqual(rc, 1, out)
                self.assertIn(f'lib/tcp/bad.cc:3: tcp-below-core: includes "{layer}/x.hh"', out)

    def test_the_tcb_included_above_tcp_fails_in_each_folder(self):
        for rel in ("lib/api/c.hh", "apps/x/y.cc", "examples/z.cc"):
            with self.subTest(file=rel):
                self.write(rel, '#pragma once\n#  include "tcp/tcb.hh"\n')
                rc, out = self.run_check()
                os.remove(os.path.join(self.root, rel))
                self.assertEqual(rc, 1, out)
                self.assertIn(f'{rel}:2: no-tcb-above-tcp: includes "tcp/tcb.hh"', out)
                self.assertNotIn("no-tcb-above-tcp: ok", out)

    def test_the_tcb_in_a_comment_or_below_the_api_passes(self):
        self.write("lib/api/d.hh", '// not "tcp/tcb.hh": the handle\n#include "tcp/handle.hh"\n')
        self.write("lib/tcp/handle.hh", '#include "tcp/tcb.hh"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 0, out)

    def test_a_file_over_600_lines_fails(self):
        self.write("lib/tcp/ok.cc", "\n".join(["// x"] * 600) + "\n")
        rc, out = self.run_check()
        self.assertEqual(rc, 0, out)
        self.assertIn("layers: file-lines: ok", out)
        self.write("lib/tcp/long.cc", "\n".join(["// x"] * 601) + "\n")
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("lib/tcp/long.cc:1: file-lines: 601 lines (at most 600)", out)
        self.assertNotIn("ok.cc", out)

    def test_a_long_function_fails_and_is_only_counted_when_relaxed(self):
        # 100 lines is allowed; 101 is not. Braces in strings, comments and
        # the blocks inside a function do not split or add functions.
        self.write("lib/tcp/ok.cc", "namespace kbt {\n" + function_of(100) + "}\n")
        text = function_of(101).replace("  x += 1;", '  if (x) { x = \'}\'; }  // }')
        self.write("lib/tcp/f.cc", "// head\nnamespace kbt {\n" + text + "}\n")
        rc, out = self.run_check("--verbose", "--relax", "function-lines")
        self.assertEqual(rc, 0, out)
        self.assertIn("layers: function-lines: known, not yet enforced: 1 breaches", out)
        self.assertIn("lib/tcp/f.cc:3: a function of 101 lines", out)
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("lib/tcp/f.cc:3: function-lines: a function of 101 lines (at most 100)", out)

    def test_an_unknown_rule_is_a_usage_error(self):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as e:
            check_layers.main(["--root", self.root, "--enforce", "no-such-rule"])
        self.assertEqual(e.exception.code, 2)


if __name__ == "__main__":
    unittest.main()
