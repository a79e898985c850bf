"""Real-code sweep: lint a whole corpus with every rule and check bnlint never breaks.

usage: python benchmarks/sweep.py [CORPUS_DIR] [--jobs N]

Runs `bnlint check` once over the tree with every rule enabled (JSON output), then renders
the findings in every other format in-process. Fails (exit 1) on a traceback or an error
message, an exit code other than 0/1, output that is not valid JSON, or a finding whose
position lies outside its file. Prints files, findings per code and the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bnlint.cache import finding_from_json
from bnlint.registry import all_rules
from bnlint.report import FORMATS, RunReport, render
from bnlint.source import decode


def _position_problems(corpus: Path, findings: list[dict[str, object]]) -> list[str]:
    problems = []
    texts: dict[str, list[str]] = {}
    for item in findings:
        name = str(item["filename"])
        if name not in texts:
            try:
                texts[name] = decode((corpus / name).read_bytes()).text.splitlines() or [""]
            except Exception as error:
                problems.append(f"{name}: cannot re-read: {error}")
                texts[name] = []
        lines = texts[name]
        if item.get("cell") is not None:
            continue
        for key in ("location", "end_location"):
            where = item[key]
            assert isinstance(where, dict)
            row, column = int(where["row"]), int(where["column"])
            if not 1 <= row <= max(len(lines), 1) + 1 or column < 1:
                problems.append(f"{name}:{row}:{column}: {item['code']} {key} outside the file")
            elif row <= len(lines) and column > len(lines[row - 1]) + 1:
                problems.append(f"{name}:{row}:{column}: {item['code']} {key} past the end of line")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=os.path.expanduser("~/bnlint-corpus/large"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    every = ",".join(code for code, rule in all_rules().items() if not rule.runtime_only)
    command = [
        sys.executable,
        "-m",
        "bnlint",
        "check",
        "--no-cache",
        "--select",
        every,
        "--format",
        "json",
        "--jobs",
        str(args.jobs),
        ".",
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=corpus, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    failures = []
    if done.returncode not in (0, 1):
        failures.append(f"exit code {done.returncode}")
    if "Traceback" in done.stderr or "internal error" in done.stderr:
        failures.append("traceback or internal error on stderr:\n" + done.stderr[-3000:])
    try:
        findings = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        failures.append(f"invalid JSON output: {error}")
        findings = []
    failures.extend(_position_problems(corpus, findings))
    objects = [finding_from_json(item) for item in findings]
    rules = {code: (rule.name, rule.summary(), rule.severity) for code, rule in all_rules().items()}
    for format_name in FORMATS:
        try:
            render(format_name, RunReport(objects, rules=rules))
        except Exception as error:
            failures.append(f"format {format_name} failed: {error!r}")
    files = sum(1 for _ in corpus.rglob("*.py"))
    print(f"corpus: {corpus} ({files} .py files)")
    print(f"wall: {wall:.1f} s, exit code {done.returncode}, findings: {len(findings)}")
    for code, count in sorted(Counter(f["code"] for f in findings).items()):
        print(f"  {code}: {count}")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning")]
    print(f"warnings on stderr: {len(warnings)}")
    for line in warnings[:20]:
        print(f"  {line}")
    if failures:
        print(f"FAILED: {len(failures)} problem(s)")
        for failure in failures[:50]:
            print(f"  {failure}")
        return 1
    print(
        "sweep clean: no traceback, exit code 0/1, every position inside its file, every format rendered"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
