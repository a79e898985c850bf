"""The real-code benchmark's manifest loads, and its scorer counts the way its README says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REALCODE = Path(__file__).resolve().parent.parent / "benchmarks" / "realcode"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REALCODE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


materialize = _load("materialize")
score = _load("score")


def _case(tmp_path: Path, body: str) -> list[object]:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(body, encoding="utf-8")
    return list(materialize.load_manifest(manifest))


HEADER = 'repo = "o/r"\ncommit = "' + "a" * 40 + '"\n'


def test_the_committed_manifest_loads_with_labels_and_negatives() -> None:
    cases = materialize.load_manifest()
    assert sum(len(c.expect) for c in cases) >= 60
    assert sum(1 for c in cases if c.must_not) >= 60
    for case in cases:
        for label in case.expect:
            assert label.code.startswith("BN")
            assert label.line > 0
            assert label.why


def test_a_commit_that_is_not_40_hex_digits_is_refused(tmp_path: Path) -> None:
    body = '[[case]]\nrepo = "o/r"\ncommit = "abc"\npath = "m.py"\nmust_not = ["BN2"]\nwhy = "x"\n'
    with pytest.raises(ValueError, match="40 hex"):
        _case(tmp_path, body)


def test_counts_hits_misses_false_and_unlabelled_findings(tmp_path: Path) -> None:
    cases = _case(
        tmp_path,
        "[[case]]\n" + HEADER + 'path = "a.py"\n'
        'expect = [{ code = "BN202", line = 3, why = "w" }, { code = "BN301", line = 9, also = [4], why = "w" },'
        ' { code = "BN401", line = 7, why = "w" }]\n'
        "[[case]]\n" + HEADER + 'path = "b.py"\nmust_not = ["BN2"]\nwhy = "right"\n'
        "[[case]]\n" + HEADER + 'path = "c.py"\nmust_not = ["BN4"]\nwhy = "right"\n',
    )
    snapshot = "o/r/" + "a" * 12
    found = [
        score.Finding("BN202", "a.py", 3, "m"),  # hit
        score.Finding("BN301", "a.py", 4, "m"),  # hit through `also`
        score.Finding("BN202", "a.py", 5, "m"),  # an unlabelled line of an expect file
        score.Finding("BN203", "b.py", 2, "m"),  # a must-not prefix: false
        score.Finding("BN301", "b.py", 2, "m"),  # not named by must_not: unlabelled
        score.Finding("BN202", "context.py", 1, "m"),  # not a case: not scored
    ]
    result = score.score(cases, {snapshot: found}, score.codes_of(score.DEFAULT_SELECT))
    assert (result.scores["BN202"].tp, result.scores["BN202"].unlabelled) == (1, 1)
    assert result.scores["BN301"].tp == 1
    assert result.scores["BN301"].unlabelled == 1
    assert result.scores["BN401"].fn == 1
    assert result.scores["BN401"].recall == 0.0
    assert result.scores["BN203"].fp == 1
    assert result.scores["BN203"].precision == 0.0
    assert (result.must_not_files, result.clean_must_not) == (2, 1)
    assert [code for _, code, _, _ in result.misses] == ["BN401"]


def test_one_finding_matches_one_label_only(tmp_path: Path) -> None:
    cases = _case(
        tmp_path,
        "[[case]]\n" + HEADER + 'path = "a.py"\n'
        'expect = [{ code = "BN404", line = 3, why = "w" }, { code = "BN404", line = 3, why = "w" }]\n',
    )
    found = [score.Finding("BN404", "a.py", 3, "m")]
    result = score.score(cases, {"o/r/" + "a" * 12: found}, ["BN4"])
    assert (result.scores["BN404"].tp, result.scores["BN404"].fn) == (1, 1)


def test_materialize_writes_each_snapshot_from_a_files_root(tmp_path: Path) -> None:
    cases = _case(
        tmp_path,
        "[[case]]\n"
        + HEADER
        + 'path = "pkg/m.py"\ncontext = ["pkg/n.py"]\nmust_not = ["BN2"]\nwhy = "x"\n',
    )
    source = tmp_path / "files" / "o" / "r" / ("a" * 40) / "pkg"
    source.mkdir(parents=True)
    (source / "m.py").write_text("x = 1\n", encoding="utf-8")
    missing = materialize.materialize(cases, tmp_path / "cache", None, tmp_path / "files")
    assert missing == ["o/r@" + "a" * 12 + ":pkg/n.py"]
    assert (tmp_path / "cache" / "o" / "r" / ("a" * 12) / "pkg" / "m.py").read_text(
        encoding="utf-8"
    ) == "x = 1\n"


def test_a_selection_counts_only_its_own_labels_and_must_not_files(tmp_path: Path) -> None:
    cases = _case(
        tmp_path,
        "[[case]]\n" + HEADER + 'path = "a.py"\n'
        'expect = [{ code = "BN101", line = 3, why = "w" }, { code = "BN202", line = 5, why = "w" }]\n'
        "[[case]]\n" + HEADER + 'path = "b.py"\nmust_not = ["BN3"]\nwhy = "other family"\n'
        "[[case]]\n" + HEADER + 'path = "c.py"\nmust_not = ["BN1"]\nwhy = "mode right"\n'
        "[[case]]\n" + HEADER + 'path = "d.py"\nmust_not = ["BN102"]\nwhy = "restored"\n',
    )
    snapshot = "o/r/" + "a" * 12
    found = [
        score.Finding("BN101", "a.py", 3, "m"),  # hit
        score.Finding("BN102", "d.py", 8, "m"),  # named by d.py's must_not: false
    ]
    select = score.codes_of("BN1")
    result = score.score(cases, {snapshot: found}, select)
    # b.py's must_not names only BN3: it says nothing about the mode rules.
    assert (result.must_not_files, result.clean_must_not) == (2, 1)
    assert result.scores["BN101"].tp == 1
    assert "BN202" not in result.scores
    assert result.scores["BN102"].fp == 1
    text = score.report(result, cases, select)
    assert "1 expected findings" in text
    assert "1 of 2 must-not files silent" in text


def test_a_must_not_prefix_overlaps_a_selected_code_either_way() -> None:
    assert score.overlaps("BN1", ["BN101"])
    assert score.overlaps("BN104", ["BN1"])
    assert not score.overlaps("BN3", ["BN101", "BN102"])
