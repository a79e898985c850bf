"""Score bnlint against the hand-labelled real-code manifest.

usage:
    python benchmarks/realcode/score.py CACHE [--select CODES] [--bnlint CMD] [--json OUT]

CACHE is the folder `materialize.py` wrote. bnlint runs once per repository snapshot folder
(`bnlint check --format json --select CODES --exit-zero --no-cache .` inside it), so analyses
that read sibling modules see the files the manifest keeps together.

Counting, per rule:
  TP   an `expect` label with a finding of the same code on the same line of that file.
  FN   an `expect` label with no such finding (a miss).
  FP   a finding, on a file with `must_not`, whose code one of the file's `must_not` entries
       names (exact code or prefix such as "BN2").
  unlabelled  any other finding in a labelled file (an `expect` file's other lines, or a code
       the file has no label for). Not counted: a human reads each one and either labels the
       code (a new `expect` or `must_not`) or leaves it listed.
Findings in `context` files are not scored.

Recall = TP / (TP + FN); precision = TP / (TP + FP). Exit status 0 unless bnlint itself fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from materialize import MANIFEST, Case, load_manifest

# BN302 is off by default and has no labels here; ask for it explicitly with --select.
DEFAULT_SELECT = "BN201,BN202,BN203,BN204,BN205,BN301,BN303,BN401,BN402,BN403,BN404"


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    message: str


@dataclass
class RuleScore:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    unlabelled: int = 0

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None


@dataclass
class Result:
    scores: dict[str, RuleScore] = field(default_factory=lambda: defaultdict(RuleScore))
    misses: list[tuple[Case, str, int, str]] = field(default_factory=list)
    false: list[tuple[Case, Finding]] = field(default_factory=list)
    unlabelled: list[tuple[Case, Finding]] = field(default_factory=list)
    clean_must_not: int = 0
    must_not_files: int = 0


def codes_of(select: str) -> list[str]:
    return [c.strip() for c in select.split(",") if c.strip()]


def selected(code: str, select: list[str]) -> bool:
    return any(code.startswith(prefix) for prefix in select)


def overlaps(entry: str, select: list[str]) -> bool:
    """Whether a `must_not` entry (a code or a prefix) names a rule the run selects: "BN1"
    against "BN101", or "BN101" against the prefix "BN1"."""
    return any(entry.startswith(prefix) or prefix.startswith(entry) for prefix in select)


UNKNOWN = re.compile(r"unknown rule code or prefix `([A-Z0-9]+)`")


def run_bnlint(
    bnlint: list[str], folder: Path, select: list[str], unknown: set[str]
) -> list[Finding]:
    """Findings of one snapshot folder. Codes this bnlint does not know are dropped from the
    selection and added to `unknown` (their labels then count as misses)."""
    while True:
        codes = ",".join(c for c in select if c not in unknown)
        command = [
            *bnlint,
            "check",
            "--format",
            "json",
            "--select",
            codes,
            "--exit-zero",
            "--no-cache",
            ".",
        ]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        missing = UNKNOWN.search(done.stderr)
        if done.returncode == 2 and missing and missing.group(1) not in unknown:
            unknown.add(missing.group(1))
            continue
        break
    if done.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} in {folder} exited {done.returncode}:\n{done.stderr}"
        )
    findings = []
    for item in json.loads(done.stdout or "[]"):
        path = os.path.relpath(os.path.join(folder, item["filename"]), folder)
        findings.append(
            Finding(
                item["code"], Path(path).as_posix(), int(item["location"]["row"]), item["message"]
            )
        )
    return findings


def score(
    cases: list[Case], findings_by_snapshot: dict[str, list[Finding]], select: list[str]
) -> Result:
    result = Result()
    for case in cases:
        found = [f for f in findings_by_snapshot.get(case.snapshot, []) if f.path == case.path]
        matched: set[Finding] = set()
        for label in case.expect:
            if not selected(label.code, select):
                continue
            hit = next(
                (
                    f
                    for f in found
                    if f.code == label.code and f.line in label.lines and f not in matched
                ),
                None,
            )
            if hit is None:
                result.scores[label.code].fn += 1
                result.misses.append((case, label.code, label.line, label.why))
            else:
                result.scores[label.code].tp += 1
                matched.add(hit)
        concerned = any(overlaps(entry, select) for entry in case.must_not)
        if concerned:
            result.must_not_files += 1
        dirty = False
        for finding in found:
            if finding in matched:
                continue
            if any(finding.code.startswith(prefix) for prefix in case.must_not):
                result.scores[finding.code].fp += 1
                result.false.append((case, finding))
                dirty = True
            else:
                result.scores[finding.code].unlabelled += 1
                result.unlabelled.append((case, finding))
        if concerned and not dirty:
            result.clean_must_not += 1
    return result


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(result: Result, cases: list[Case], select: list[str]) -> str:
    lines = [
        "| rule | TP | FN | FP | unlabelled | recall | precision |",
        "|---|---|---|---|---|---|---|",
    ]
    total = RuleScore()
    for code in sorted(result.scores):
        s = result.scores[code]
        lines.append(
            f"| {code} | {s.tp} | {s.fn} | {s.fp} | {s.unlabelled} | {_ratio(s.recall)} | {_ratio(s.precision)} |"
        )
        total.tp += s.tp
        total.fn += s.fn
        total.fp += s.fp
        total.unlabelled += s.unlabelled
    lines.append(
        f"| all | {total.tp} | {total.fn} | {total.fp} | {total.unlabelled} "
        f"| {_ratio(total.recall)} | {_ratio(total.precision)} |"
    )
    labels = sum(1 for c in cases for label in c.expect if selected(label.code, select))
    lines.append("")
    lines.append(
        f"{len(cases)} files; for the selected rules {labels} expected findings, "
        f"{result.clean_must_not} of {result.must_not_files} must-not files silent."
    )
    lines.append("")
    lines.append(f"## Misses ({len(result.misses)})")
    for case, code, line, why in result.misses:
        lines.append(f"- {code} {case.repo}@{case.commit[:12]}:{case.path}:{line}: {why}")
    lines.append("")
    lines.append(f"## False findings ({len(result.false)})")
    for case, finding in result.false:
        lines.append(
            f"- {finding.code} {case.repo}@{case.commit[:12]}:{case.path}:{finding.line}: {finding.message}"
            f"\n  must not: {', '.join(case.must_not)} - {case.why}"
        )
    lines.append("")
    lines.append(f"## Unlabelled findings, to read ({len(result.unlabelled)})")
    for case, finding in result.unlabelled:
        lines.append(
            f"- {finding.code} {case.repo}@{case.commit[:12]}:{case.path}:{finding.line}: {finding.message}"
        )
    return "\n".join(lines)


def as_json(result: Result) -> dict[str, object]:
    return {
        "rules": {
            code: {
                "tp": s.tp,
                "fn": s.fn,
                "fp": s.fp,
                "unlabelled": s.unlabelled,
                "recall": s.recall,
                "precision": s.precision,
            }
            for code, s in sorted(result.scores.items())
        },
        "misses": [
            {
                "code": code,
                "repo": c.repo,
                "commit": c.commit,
                "path": c.path,
                "line": line,
                "why": why,
            }
            for c, code, line, why in result.misses
        ],
        "false": [
            {
                "code": f.code,
                "repo": c.repo,
                "commit": c.commit,
                "path": c.path,
                "line": f.line,
                "message": f.message,
            }
            for c, f in result.false
        ],
        "unlabelled": [
            {
                "code": f.code,
                "repo": c.repo,
                "commit": c.commit,
                "path": c.path,
                "line": f.line,
                "message": f.message,
            }
            for c, f in result.unlabelled
        ],
        "must_not_files": result.must_not_files,
        "must_not_files_silent": result.clean_must_not,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cache", type=Path, help="the folder materialize.py wrote")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument(
        "--select",
        default=DEFAULT_SELECT,
        help=f"rules to run and score (default {DEFAULT_SELECT})",
    )
    parser.add_argument(
        "--bnlint", default="bnlint", help="the command that runs bnlint (default: bnlint)"
    )
    parser.add_argument("--json", type=Path, help="also write the scores and lists as JSON here")
    args = parser.parse_args(argv)

    cases = load_manifest(args.manifest)
    select = codes_of(args.select)
    bnlint = shlex.split(args.bnlint)
    findings: dict[str, list[Finding]] = {}
    unknown: set[str] = set()
    for snapshot in dict.fromkeys(case.snapshot for case in cases):
        folder = args.cache / snapshot
        if not folder.is_dir():
            print(f"missing snapshot folder {folder}: run materialize.py first", file=sys.stderr)
            return 2
        findings[snapshot] = run_bnlint(bnlint, folder.resolve(), select, unknown)
    result = score(cases, findings, select)
    if unknown:
        print(
            f"not known to this bnlint (their labels count as misses): {', '.join(sorted(unknown))}\n"
        )
    print(report(result, cases, select))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(result), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
