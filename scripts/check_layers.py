#!/usr/bin/env python3
"""Checks that kbt's layers point one way (issue 16).

Each rule in RULES names the files it looks at and what they must not do.
An enforced rule fails the check, naming file and line of each breach; a
rule not yet enforced only reports how often it is broken ("known, not yet
enforced"), so that a rule can be written before the code obeys it and
turned on (enforced=True) once its count reaches zero.

Usage: scripts/check_layers.py [--root DIR] [--verbose] [--enforce RULE]... [--relax RULE]...
Exit status: 0 when every enforced rule holds, 1 when one does not, 2 on
bad arguments. Python 3 standard library only.
"""
import argparse
import os
import re
import sys
from dataclasses import dataclass

SOURCE_SUFFIXES = (".hh", ".cc", ".h", ".cpp")


@dataclass
class rule:
    name: str
    what: str          # the rule in words, for messages
    under: tuple       # folders (from the root) whose files it checks
    kind: str          # "include", "file_lines" or "function_lines"
    forbidden: tuple = ()  # include: include paths (prefixes) that must not appear
    limit: int = 0     # file_lines / function_lines: the most lines allowed
    enforced: bool = False


# The acceptance rules. Add a row to add a rule; flip `enforced`
# once the code obeys it.
RULES = [
    rule("tcp-below-core", "lib/tcp includes nothing from core/, dev/, ip/ or api/",
         ("lib/tcp",), "include", forbidden=("core/", "dev/", "ip/", "api/"), enforced=True),
    rule("no-tcb-above-tcp", "nothing in lib/api, apps/ or examples/ includes tcp/tcb.hh",
         ("lib/api", "apps", "examples"), "include", forbidden=("tcp/tcb.hh",), enforced=True),
    rule("function-lines", "no function in lib/ is over 100 lines",
         ("lib",), "function_lines", limit=100, enforced=True),
    rule("file-lines", "no file in lib/ is over 600 lines",
         ("lib",), "file_lines", limit=600, enforced=True),
]


@dataclass
class breach:
    path: str  # from the root
    line: int
    message: str


INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def source_files(root, folder):
    base = os.path.join(root, folder)
    for top, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(SOURCE_SUFFIXES):
                full = os.path.join(top, f)
                yield os.path.relpath(full, root), full


def read_lines(full):
    with open(full, encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def check_includes(r, rel, lines):
    for n, text in enumerate(lines, 1):
        m = INCLUDE.match(text)
        if m and m.group(1).startswith(r.forbidden):
            yield breach(rel, n, f'includes "{m.group(1)}"')


def check_file_lines(r, rel, lines):
    count = len(lines) - (1 if lines and lines[-1] == "" else 0)
    if count > r.limit:
        yield breach(rel, 1, f"{count} lines (at most {r.limit})")


def code_only(lines):
    """The lines with comments, string and character literals blanked, so
    that braces inside them do not count. Digit separators (1'000) stay."""
    out = []
    in_block = False
    for text in lines:
        res = []
        i = 0
        while i < len(text):
            c = text[i]
            if in_block:
                if text.startswith("*/", i):
                    in_block = False
                    i += 2
                else:
                    i += 1
                continue
            if text.startswith("//", i):
                break
            if text.startswith("/*", i):
                in_block = True
                i += 2
                continue
            if c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
                j = i + 1
                while j < len(text) and text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                res.append(c + c)
                i = j + 1
                continue
            res.append(c)
            i += 1
        out.append("".join(res))
    return out


# What stands before a function body's brace: a parameter list, then
# qualifiers or a trailing return type, or a constructor's initializer list.
BODY_HEAD = re.compile(
    r"\)\s*(const|noexcept(\([^)]*\))?|override|final|mutable|&|&&|->\s*[\w:<>,\s*&]+|\s)*$"
    r"|\)\s*:\s*[\w:]+\s*\(.*\)\s*$")
NOT_FUNCTION = re.compile(r"^\s*(if|for|while|switch|catch|return|else)\b|\[[^\]]*\]\s*(\([^)]*\))?")


def check_function_lines(r, rel, lines):
    """Function bodies at namespace or class level, from the line of their
    opening brace to that of their closing one. A heuristic: it does not
    parse C++, but kbt's style (one declaration per line) keeps it honest."""
    code = code_only(lines)
    stack = []  # per open brace: (is_function, first line)
    head = ""   # code since the last ; { or }
    for n, text in enumerate(code, 1):
        for c in text:
            if c == "{":
                inside_function = any(f for f, _ in stack)
                is_function = (not inside_function and BODY_HEAD.search(head.strip()) is not None
                               and NOT_FUNCTION.search(head) is None)
                stack.append((is_function, n))
                head = ""
            elif c == "}":
                if stack:
                    is_function, first = stack.pop()
                    if is_function and n - first + 1 > r.limit:
                        yield breach(rel, first, f"a function of {n - first + 1} lines "
                                                 f"(at most {r.limit})")
                head = ""
            elif c == ";":
                head = ""
            else:
                head += c
        head += " "


CHECKS = {
    "include": check_includes,
    "file_lines": check_file_lines,
    "function_lines": check_function_lines,
}


def run_rule(root, r):
    found = []
    for folder in r.under:
        for rel, full in source_files(root, folder):
            found.extend(CHECKS[r.kind](r, rel, read_lines(full)))
    return found


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Fails when a file breaks one of kbt's enforced layer rules "
                    "(issue 16); reports the rules not yet enforced with counts.")
    p.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                   help="the repository's top folder (default: this script's parent's)")
    p.add_argument("--verbose", action="store_true",
                   help="also list each breach of the rules not yet enforced")
    p.add_argument("--enforce", action="append", default=[], metavar="RULE",
                   help="treat RULE as enforced for this run (try a rule before turning it on)")
    p.add_argument("--relax", action="append", default=[], metavar="RULE",
                   help="treat RULE as not yet enforced for this run (count its breaches "
                        "while fixing them)")
    args = p.parse_args(argv)
    names = {r.name for r in RULES}
    for name in args.enforce + args.relax:
        if name not in names:
            p.error(f"no rule named {name!r}; rules: {', '.join(sorted(names))}")
    if not os.path.isdir(args.root):
        p.error(f"--root {args.root!r} is not a folder")

    failed = 0
    for r in RULES:
        found = run_rule(args.root, r)
        enforced = (r.enforced or r.name in args.enforce) and r.name not in args.relax
        if enforced:
            for b in found:
                print(f"{b.path}:{b.line}: {r.name}: {b.message} ({r.what})")
            failed += len(found)
            print(f"layers: {r.name}: {'ok' if not found else f'{len(found)} breaches'}")
        else:
            print(f"layers: {r.name}: known, not yet enforced: {len(found)} breaches ({r.what})")
            if args.verbose:
                for b in found:
                    print(f"  {b.path}:{b.line}: {b.message}")
    if failed:
        print(f"layers: {failed} breaches of enforced rules", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
