"""bnlint's speed, side by side with its floors and peers, measured in one run.

usage: python benchmarks/bench.py [--corpus DIR] [--runs N] [--tiers medium,large]
                                  [--scaling] [--torchfix PATH] [--skip-cst] [--compare REV]

The corpus comes from the benchmark corpus script (`make_corpus.sh DIR`). Every figure is a
whole process (start-up, walk, read, parse), the median of --runs runs, page cache warm.
Peak RSS is the largest single process of the command (the max over its children). CPU is
user + system seconds of the command and all its processes: on a machine other work is
also using, wall times swing with the load while CPU seconds stay comparable.
Ratios are to the 1-process `ast.parse` floor measured in the same run.
`--compare REV` also times bnlint as it was at a git revision (its package extracted to a
temporary folder and put first on PYTHONPATH), so a change is judged against its parent in
the same run, on the same machine state: the two builds run in turns, run for run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_maxrss, code, usage.ru_utime + usage.ru_stime)
"""


@dataclass
class Measure:
    label: str
    wall: float
    rss_mib: float
    code: int
    cpu: float = 0.0


def _run_once(command: list[str], cwd: Path | None) -> tuple[float, float, int, float]:
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2]), float(out[3])


def _summary(label: str, samples: list[tuple[float, float, int, float]]) -> Measure:
    return Measure(
        label,
        statistics.median(s[0] for s in samples),
        max(s[1] for s in samples),
        samples[-1][2],
        statistics.median(s[3] for s in samples),
    )


def measure(label: str, command: list[str], runs: int, cwd: Path | None = None) -> Measure:
    return _summary(label, [_run_once(command, cwd) for _ in range(runs)])


def measure_side_by_side(
    first: tuple[str, list[str]], second: tuple[str, list[str]], runs: int, cwd: Path | None
) -> tuple[Measure, Measure]:
    """Two commands run in turns (A B, B A, A B, ...), so that a machine whose speed drifts
    during the benchmark (other work, thermal limits) weighs on both alike."""
    samples: dict[int, list[tuple[float, float, int, float]]] = {0: [], 1: []}
    commands = (first[1], second[1])
    for round_ in range(runs):
        for which in (0, 1) if round_ % 2 == 0 else (1, 0):
            samples[which].append(_run_once(commands[which], cwd))
    return _summary(first[0], samples[0]), _summary(second[0], samples[1])


def corpus_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*.py") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def extract_revision(revision: str) -> Path:
    """The `bnlint` package as it was at `revision`, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bnlint-rev-"))
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", revision, "bnlint", "rules"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def compile_package(folder: Path) -> None:
    """Byte-compile the `bnlint` package under `folder`, as `pip install` does.

    Without it, a machine with PYTHONDONTWRITEBYTECODE set (as containers often have)
    compiles every module anew in each process of each run, and a build is charged for the
    size of its source rather than for its work.
    """
    # Not checked: in a read-only checkout the modules stay uncompiled, and the figures say
    # what they cost then.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(folder / "bnlint")],
        check=False,
        capture_output=True,
    )


def with_pythonpath(command: list[str], folder: Path) -> list[str]:
    return ["env", f"PYTHONPATH={folder}", *command]


def bnlint_command(target: Path, cache: bool, jobs: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "bnlint",
        "check",
        "--exit-zero",
        "--statistics",
        "-j",
        str(jobs),
    ]
    if not cache:
        command.append("--no-cache")
    return [*command, str(target)]


def run_tier(name: str, target: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    files, size = corpus_size(target)
    jobs = os.cpu_count() or 1
    floor = HERE / "parse_floor.py"
    work = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
    rows: list[Measure] = []
    rows.append(
        measure(
            "ast.parse, 1 process (floor)",
            [sys.executable, str(floor), "ast", str(target)],
            args.runs,
        )
    )
    rows.append(
        measure(
            f"ast.parse, {jobs} processes",
            [sys.executable, str(floor), "ast", "-j", str(jobs), str(target)],
            args.runs,
        )
    )
    if not args.skip_cst:
        rows.append(
            measure(
                f"libcst.parse_module, {jobs} processes",
                [sys.executable, str(floor), "cst", "-j", str(jobs), str(target)],
                1,
            )
        )
    cold = (f"bnlint cold (--no-cache, -j {jobs})", bnlint_command(target, False, jobs))
    if args.compare:
        old = extract_revision(args.compare)
        compile_package(old)
        then = (
            f"bnlint at {args.compare} cold (--no-cache, -j {jobs})",
            with_pythonpath(bnlint_command(target, False, jobs), old),
        )
        rows.extend(measure_side_by_side(cold, then, args.runs, cwd=work))
        shutil.rmtree(old, ignore_errors=True)
    else:
        rows.append(measure(*cold, args.runs, cwd=work))
    subprocess.run(bnlint_command(target, True, jobs), cwd=work, capture_output=True, check=False)
    rows.append(
        measure(
            f"bnlint warm (cache, -j {jobs})",
            bnlint_command(target, True, jobs),
            args.runs,
            cwd=work,
        )
    )
    ruff = shutil.which("ruff")
    if ruff:
        rows.append(
            measure(
                "ruff, one rule (E9), no cache",
                [ruff, "check", "--select", "E9", "--no-cache", "--exit-zero", "-q", str(target)],
                args.runs,
            )
        )
    if args.torchfix and name == "medium":
        rows.append(measure("TorchFix, 1 process", [args.torchfix, "--jobs", "1", str(target)], 1))
    shutil.rmtree(work, ignore_errors=True)
    base = rows[0].wall
    print(f"\n## {name}: {files} files, {size / 1e6:.2f} MB ({target})\n")
    print("| command | wall s | CPU s | files/s | MB/s | peak RSS MiB | x floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    out = []
    for row in rows:
        print(
            f"| {row.label} | {row.wall:.2f} | {row.cpu:.2f} | {files / row.wall:.0f} | {size / 1e6 / row.wall:.2f} | {row.rss_mib:.0f} | {row.wall / base:.2f} |"
        )
        out.append(
            {
                "tier": name,
                "command": row.label,
                "wall": row.wall,
                "cpu": row.cpu,
                "rss_mib": row.rss_mib,
                "ratio": row.wall / base,
            }
        )
    return out


def one_file(args: argparse.Namespace) -> None:
    target = HERE.parent / "fixtures" / "train_resnet.py"
    if not target.exists():
        return
    command = [sys.executable, "-m", "bnlint", "check", "--no-cache", "--exit-zero", "-q"]
    work = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
    builds: list[tuple[str, list[str]]] = [("", [*command, str(target)])]
    old = extract_revision(args.compare) if args.compare else None
    if old is not None:
        compile_package(old)
        builds.append((f" at {args.compare}", with_pythonpath([*command, str(target)], old)))
    print()
    for label, line in builds:
        # From a folder of its own: the checkout's package must not shadow the revision's.
        row = measure("one file", line, max(args.runs, 5), cwd=work)
        print(
            f"one file{label} ({target.name}): {row.wall:.3f} s wall, {row.cpu:.3f} s CPU, "
            f"{row.rss_mib:.0f} MiB"
        )
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


def scaling(corpus: Path, args: argparse.Namespace) -> None:
    jobs = os.cpu_count() or 1
    print("\n## scaling on the large tier (bnlint cold)\n")
    print("| subset | MB | wall s | s/MB |")
    print("|---|---:|---:|---:|")
    for subset in ("large_1of8", "large_1of4", "large_1of2", "large"):
        target = corpus / subset
        if not target.exists():
            continue
        _, size = corpus_size(target)
        work = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
        row = measure(subset, bnlint_command(target, False, jobs), 1, cwd=work)
        shutil.rmtree(work, ignore_errors=True)
        print(f"| {subset} | {size / 1e6:.1f} | {row.wall:.1f} | {row.wall / (size / 1e6):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("BNLINT_CORPUS", "~/bnlint-corpus")).expanduser(),
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiers", default="medium")
    parser.add_argument(
        "--scaling", action="store_true", help="also time 1/8, 1/4, 1/2 and all of large"
    )
    parser.add_argument(
        "--torchfix", help="path of a torchfix executable (its own venv: it pins libcst)"
    )
    parser.add_argument("--skip-cst", action="store_true", help="skip the libcst parse floor")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument(
        "--compare", metavar="REV", help="also time bnlint cold as it was at this git revision"
    )
    args = parser.parse_args()
    compile_package(HERE.parent)
    print(
        f"# bnlint benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {sys.version.split()[0]})"
    )
    rows = []
    for tier in args.tiers.split(","):
        target = args.corpus / tier
        if not target.exists():
            sys.exit(f"no corpus tier {target}: run make_corpus.sh first")
        rows.extend(run_tier(tier, target, args))
    one_file(args)
    if args.scaling:
        scaling(args.corpus, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
