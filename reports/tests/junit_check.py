#!/usr/bin/env python3
"""junit_check.py - checks a junit.xml written by lab_render_junit().

usage: junit_check.py FILE.xml --testcases N --failure-elements N
                      --error-elements N [--orphan-cases N] [--script-title]

What it checks:
  - the file is ASCII, starts with an XML declaration naming UTF-8, parses
  - <testsuites> holds <testsuite>s holding <testcase>s, each with a
    non-empty name and classname and a numeric time
  - the number of test cases, of <failure> and of <error> elements, and of
    synthetic "findings without a run record" cases, are the expected ones
  - each suite's tests/failures/errors attributes are right by the JUnit
    convention (failures and errors count test cases; a case with an
    <error> counts as an error only), and <testsuites>' are their sums
  - with --script-title: the report fixture's title with markup
    ("<script>alert(1)</script> & ...", an e-acute and a control byte)
    came back as text, markup intact, e-acute decoded, control byte gone
Exit 0 if all hold, 1 with a line per problem otherwise.
"""
import argparse
import sys
import xml.etree.ElementTree as ET

ORPHANS = "findings without a run record"
SCRIPT_TITLE = "<script>alert(1)</script> & \"owner\" 'x' \u00e9"


def suite_counts(suite):
    """tests, failures, errors of a suite by the JUnit convention."""
    tests = failures = errors = 0
    for case in suite.findall("testcase"):
        tests += 1
        if case.find("error") is not None:
            errors += 1
        elif case.find("failure") is not None:
            failures += 1
    return tests, failures, errors


def check_attrs(elem, what, want, problems):
    for name, value in zip(("tests", "failures", "errors"), want):
        got = elem.get(name)
        if got != str(value):
            problems.append(f"{what}: {name}={got!r}, want {value}")


def check_cases(root, problems):
    for case in root.iter("testcase"):
        name = case.get("name", "")
        if not name.strip() or not case.get("classname", "").strip():
            problems.append(f"test case without name or classname: {name!r}")
        try:
            float(case.get("time", ""))
        except ValueError:
            problems.append(f"{name}: time={case.get('time')!r}")


def check_counts(root, args, problems):
    want = {
        "test cases": (len(list(root.iter("testcase"))), args.testcases),
        "<failure> elements": (len(list(root.iter("failure"))),
                               args.failure_elements),
        "<error> elements": (len(list(root.iter("error"))),
                             args.error_elements),
        "cases '" + ORPHANS + "'": (
            sum(ORPHANS in c.get("name", "") for c in root.iter("testcase")),
            args.orphan_cases),
    }
    for what, (got, expected) in want.items():
        if expected is not None and got != expected:
            problems.append(f"{what}: {got}, want {expected}")
    total = [0, 0, 0]
    for suite in root.findall("testsuite"):
        counts = suite_counts(suite)
        check_attrs(suite, f"testsuite {suite.get('name')!r}", counts,
                    problems)
        total = [a + b for a, b in zip(total, counts)]
    check_attrs(root, "testsuites", total, problems)


def check_title(root, problems):
    messages = [f.get("message") for f in root.iter("failure")]
    if SCRIPT_TITLE not in messages:
        problems.append(f"no <failure message={SCRIPT_TITLE!r}>; messages: "
                        f"{messages}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--testcases", type=int)
    ap.add_argument("--failure-elements", type=int)
    ap.add_argument("--error-elements", type=int)
    ap.add_argument("--orphan-cases", type=int)
    ap.add_argument("--script-title", action="store_true")
    args = ap.parse_args()

    with open(args.file, "rb") as f:
        data = f.read()
    problems = []
    bad = [i for i, b in enumerate(data) if b > 0x7e or
           (b < 0x20 and b not in (9, 10, 13))]
    if bad:
        problems.append(f"not ASCII text: {len(bad)} byte(s), first at "
                        f"offset {bad[0]}")
    if not data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'):
        problems.append("no XML declaration with encoding UTF-8")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        print(f"junit_check: {args.file}: not well-formed: {e}")
        return 1
    if root.tag != "testsuites":
        problems.append(f"root element <{root.tag}>, want <testsuites>")
    check_cases(root, problems)
    check_counts(root, args, problems)
    if args.script_title:
        check_title(root, problems)
    for p in problems:
        print(f"junit_check: {args.file}: {p}")
    if not problems:
        print(f"junit_check: {args.file}: ok "
              f"({len(list(root.iter('testcase')))} test cases, "
              f"{len(list(root.iter('failure')))} failures, "
              f"{len(list(root.iter('error')))} errors)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
