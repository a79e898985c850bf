"""JUnit XML: a test suite per file, a failing test case per finding."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from itertools import groupby

from bnlint.report import RunReport, location_label


def render(report: RunReport) -> str:
    root = ElementTree.Element(
        "testsuites",
        name="bnlint",
        tests=str(max(len(report.findings), 1)),
        failures=str(len(report.findings)),
    )
    if not report.findings:
        suite = ElementTree.SubElement(root, "testsuite", name="bnlint", tests="1", failures="0")
        ElementTree.SubElement(suite, "testcase", name="bnlint", classname="bnlint")
    for filename, group in groupby(report.findings, key=lambda f: f.filename):
        findings = list(group)
        suite = ElementTree.SubElement(
            root, "testsuite", name=filename, tests=str(len(findings)), failures=str(len(findings))
        )
        for f in findings:
            label = location_label(f)
            start = f.span.start
            # Built from the numbers, never by splitting the label: paths hold `:` too
            # (`C:\src`, `data:v2/x.py`).
            where = f"line {start.row}, column {start.column}"
            if f.cell is not None:
                where = f"cell {f.cell}, {where}"
            case = ElementTree.SubElement(
                suite,
                "testcase",
                name=f"{f.code} at {where}",
                classname=filename,
                file=filename,
                line=str(start.row),
            )
            failure = ElementTree.SubElement(case, "failure", message=f.full_message, type=f.code)
            failure.text = f"{label}: {f.code} {f.full_message}"
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
