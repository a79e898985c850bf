"""The machinery of large runs: the token pre-filter loses nothing, --jobs keeps output
deterministic, and the cache returns what a fresh run would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bnlint.analysis.project import index_from_json, index_source, index_to_json
from bnlint.cache import CACHE_DIRECTORY, cache_version
from bnlint.cli import main
from bnlint.config import FileSettings
from bnlint.registry import all_rules
from bnlint.runner import LintOptions, lint_bytes

from .conftest import FIXTURES

_EVERY_RULE = frozenset(code for code, rule in all_rules().items() if not rule.runtime_only)


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".ipynb"))


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_prefilter_loses_no_finding(path: Path) -> None:
    data = path.read_bytes()
    settings = FileSettings(enabled=_EVERY_RULE)
    filtered = lint_bytes(data, path.name, settings, LintOptions(prefilter=True)).findings
    unfiltered = lint_bytes(data, path.name, settings, LintOptions(prefilter=False)).findings
    assert filtered == unfiltered


def test_file_without_trigger_tokens_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    import libcst

    calls = []
    original = libcst.parse_module
    monkeypatch.setattr(
        libcst, "parse_module", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    settings = FileSettings(enabled=frozenset({"BN105", "BN401"}))
    lint_bytes(b"def add(a, b):\n    return a + b\n", "plain.py", settings)
    assert calls == []
    lint_bytes(b"model.eval\n", "buggy.py", settings)
    assert calls == [1]


def _write_project(root: Path, files: int) -> None:
    for index in range(files):
        body = "import torch.nn as nn\n" + "\n" * index + "model.eval\n"
        if index % 3 == 0:
            body += "bn = nn.BatchNorm2d(8, momentum=0.9)\n"
        (root / f"module_{index:02d}.py").write_text(body, encoding="utf-8")


def _check(root: Path, *args: str) -> tuple[int, str]:
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = runner.invoke(main, ["check", "--format", "json", *args, "."])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def test_jobs_give_the_same_output_in_the_same_order(tmp_path: Path) -> None:
    _write_project(tmp_path, 12)
    serial = _check(tmp_path, "--no-cache", "--jobs", "1")
    parallel = _check(tmp_path, "--no-cache", "--jobs", "2")
    assert serial == parallel
    assert serial[0] == 1
    assert len(json.loads(serial[1])) == 16


def test_warm_cache_returns_the_cold_findings(tmp_path: Path) -> None:
    _write_project(tmp_path, 5)
    cold = _check(tmp_path)
    cache = tmp_path / CACHE_DIRECTORY
    assert (
        (cache / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert (cache / ".gitignore").read_text() == "*\n"
    summaries = list((cache / cache_version() / "project-index").glob("*.json"))
    entries = [entry for entry in cache.rglob("*.json") if entry not in summaries]
    assert len(entries) == 5
    assert len(summaries) == 5
    assert _check(tmp_path) == cold


def test_corrupt_index_summaries_are_rebuilt(tmp_path: Path) -> None:
    _write_project(tmp_path, 3)
    cold = _check(tmp_path)
    for summary in (tmp_path / CACHE_DIRECTORY / cache_version() / "project-index").glob("*.json"):
        summary.write_text('{"classes": [[1]]}')
    for entry in (tmp_path / CACHE_DIRECTORY).rglob("*.json"):
        if entry.parent.name != "project-index":
            entry.unlink()
    assert _check(tmp_path) == cold


@pytest.mark.parametrize("path", _fixture_files()[::3], ids=lambda p: p.name)
def test_index_summaries_round_trip(path: Path) -> None:
    built = index_source(path.read_bytes(), path.name)
    assert index_from_json(json.loads(json.dumps(index_to_json(built)))) == built


def test_cached_findings_keep_code_frames(tmp_path: Path) -> None:
    _write_project(tmp_path, 1)
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        first = runner.invoke(main, ["check", "."]).output
        second = runner.invoke(main, ["check", "."]).output
    finally:
        os.chdir(cwd)
    assert "^^^^^^^^^^ BN105" in second
    assert first == second


def test_changed_content_misses_the_cache(tmp_path: Path) -> None:
    _write_project(tmp_path, 2)
    _check(tmp_path)
    (tmp_path / "module_00.py").write_text("import torch\n", encoding="utf-8")
    _code, output = _check(tmp_path)
    assert [f["filename"] for f in json.loads(output)] == ["module_01.py"]


def test_corrupt_cache_entry_is_ignored_and_rewritten(tmp_path: Path) -> None:
    _write_project(tmp_path, 3)
    cold = _check(tmp_path)
    for entry in (tmp_path / CACHE_DIRECTORY).rglob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    assert _check(tmp_path) == cold
    for entry in (tmp_path / CACHE_DIRECTORY).rglob("*.json"):
        json.loads(entry.read_text(encoding="utf-8"))


def test_no_cache_writes_no_cache(tmp_path: Path) -> None:
    _write_project(tmp_path, 2)
    _check(tmp_path, "--no-cache")
    assert not (tmp_path / CACHE_DIRECTORY).exists()


def test_an_edited_bnlint_module_changes_the_cache_version() -> None:
    # An edited checkout must not be answered with findings the older rules produced.
    import bnlint.checks.mode as module

    path = Path(module.__file__ or "")
    before = path.stat()
    stamp = cache_version.__wrapped__()
    try:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        assert cache_version.__wrapped__() != stamp
    finally:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cache_version.__wrapped__() == stamp


def test_settings_change_misses_the_cache(tmp_path: Path) -> None:
    _write_project(tmp_path, 3)
    _check(tmp_path)
    _code, output = _check(tmp_path, "--select", "BN401")
    assert {f["code"] for f in json.loads(output)} == {"BN401"}


@pytest.mark.parametrize("cache", [(), ("--no-cache",)], ids=["cache", "no-cache"])
def test_syntax_errors_found_by_the_index_are_still_reported(
    tmp_path: Path, cache: tuple[str, ...]
) -> None:
    # Neither file has a rule's trigger; the project index parses both with `ast`, and the
    # linter relies on it instead of parsing again: the error must still be a finding.
    (tmp_path / "ok.py").write_text("import torch\nx = torch.ones(2)\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n    pass\n", encoding="utf-8")
    for _ in range(2):
        code, output = _check(tmp_path, *cache)
        findings = json.loads(output)
        assert code == 1
        assert [(f["filename"], f["code"]) for f in findings] == [("broken.py", "BN001")]


@pytest.mark.parametrize("workers", [1, 2])
def test_only_results_that_need_their_text_carry_it_back(tmp_path: Path, workers: int) -> None:
    # A code frame needs the text of a file with findings; a clean file's text would only
    # be copied between processes and held until the run ends.
    from bnlint.runner import Job, lint_many

    settings = FileSettings(enabled=frozenset({"BN401"}))
    jobs = []
    for index in range(6):
        path = tmp_path / f"m{index}.py"
        momentum = "0.9" if index % 2 else "0.1"
        path.write_text(
            f"import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum={momentum})\n",
            encoding="utf-8",
        )
        jobs.append(Job(path, path.name, settings, None))
    results = lint_many(jobs, LintOptions(), workers)
    assert [bool(r.findings) for r in results] == [False, True] * 3
    assert [r.source is not None for r in results] == [bool(r.findings) for r in results]
    fixed = lint_many(jobs, LintOptions(fix=True, unsafe_fixes=True), workers)
    assert all(r.source is not None for r in fixed if r.fixed_text is not None)
    assert any(r.fixed_text is not None for r in fixed)
