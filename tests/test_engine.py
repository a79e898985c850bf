"""The engine under every front end: the CLI, the API and the editor see the same findings,
and a cached result is only reused while everything its analyses read is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bnlint
from bnlint.config import CliOverrides, ConfigResolver
from bnlint.engine import PROJECT_RULES, LintSession
from bnlint.registry import all_rules

from .cli_helpers import run_bnlint, working_directory

EVALUATE = """\
import torch


def evaluate(model, loader):
    with torch.no_grad():
        for x, y in loader:
            model(x)
"""

TRAIN = """\
import torch
from torch import nn

from evaluate import evaluate


def main(loader):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
    evaluate(model, loader)
"""


@pytest.fixture
def two_files(tmp_path: Path) -> Path:
    """A BN101 that only the other file explains: `train.py` passes a training model."""
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "evaluate.py").write_text(EVALUATE, encoding="utf-8")
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    return tmp_path


def _cli_findings(project: Path, *args: str) -> list[tuple[str, str, int]]:
    result = run_bnlint(["check", "--format", "json", "--no-cache", *args, "."], project)
    assert result.exit_code in (0, 1), result.stderr
    return sorted(
        (item["filename"], item["code"], item["location"]["row"])
        for item in json.loads(result.stdout)
    )


def test_the_cross_file_finding_is_reported_by_the_cli(two_files: Path) -> None:
    assert ("evaluate.py", "BN101", 7) in _cli_findings(two_files)
    # Alone, `evaluate.py` says nothing about the mode its caller leaves the model in.
    alone = run_bnlint(["check", "--format", "json", "--no-cache", "evaluate.py"], two_files)
    assert json.loads(alone.stdout) == []


def test_the_api_reports_what_the_cli_reports(two_files: Path) -> None:
    with working_directory(two_files):
        found = bnlint.check_paths(["."])
    assert sorted((f.filename, f.code, f.span.start.row) for f in found) == _cli_findings(two_files)


def test_an_editor_buffer_is_linted_against_the_rest_of_its_project(two_files: Path) -> None:
    # What `bnlint server` calls for an open document: its unsaved text, the rest on disk.
    session = LintSession(ConfigResolver(CliOverrides()), use_cache=False, workers=1)
    result = session.lint_buffer(EVALUATE, two_files / "evaluate.py")
    assert [(f.code, f.span.start.row) for f in result.findings] == [("BN101", 7)]
    # The buffer's own text counts, not the saved file's: an `eval()` typed in the editor
    # silences the finding before the file is saved.
    edited = EVALUATE.replace(
        "    with torch.no_grad():", "    model.eval()\n    with torch.no_grad():"
    )
    assert session.lint_buffer(edited, two_files / "evaluate.py").findings == []


def test_the_language_server_reports_the_cross_file_finding(two_files: Path) -> None:
    documents = pytest.importorskip("bnlint.lsp.documents")
    linted = documents.LintState().lint_document(EVALUATE, two_files / "evaluate.py")
    assert [(f.code, f.span.start.row) for f in linted.findings] == [("BN101", 7)]


def test_rules_that_read_the_project_index_say_so_themselves() -> None:
    declared = {code for code, rule in all_rules().items() if rule.needs_project}
    assert declared == PROJECT_RULES
    assert {"BN101", "BN102", "BN103", "BN104"} <= PROJECT_RULES


CONFIGURED = """\
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader

cfg = yaml.safe_load(open("config.yaml"))
model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())
loader = DataLoader(dataset, batch_size=cfg["train"]["batch_size"], shuffle=True)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for x, y in loader:
    optimizer.zero_grad()
    model(x).mean().backward()
    optimizer.step()
"""


def test_editing_a_yaml_batch_size_relints_the_script(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(CONFIGURED, encoding="utf-8")
    config = tmp_path / "config.yaml"

    def codes_with_batch(size: int) -> list[str]:
        config.write_text(f"train:\n  batch_size: {size}\n", encoding="utf-8")
        result = run_bnlint(["check", "--format", "json", "train.py"], tmp_path)
        assert result.exit_code in (0, 1), result.stderr
        return [item["code"] for item in json.loads(result.stdout)]

    assert codes_with_batch(4) == ["BN301"]
    # The cache answered nothing stale: the script's bytes did not change, the config did.
    assert codes_with_batch(64) == []
    assert codes_with_batch(4) == ["BN301"]
    config.unlink()
    result = run_bnlint(["check", "--format", "json", "train.py"], tmp_path)
    assert json.loads(result.stdout) == []


def test_an_unchanged_config_still_answers_from_the_cache(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "train.py").write_text(CONFIGURED, encoding="utf-8")
    (tmp_path / "config.yaml").write_text("train:\n  batch_size: 4\n", encoding="utf-8")
    run_bnlint(["check", "--format", "json", "train.py"], tmp_path)
    (entry,) = [
        entry
        for entry in (tmp_path / ".bnlint_cache").rglob("*.json")
        if "project-index" not in entry.parts
        and json.loads(entry.read_text(encoding="utf-8"))["findings"]
    ]
    recorded = json.loads(entry.read_text(encoding="utf-8"))
    assert [Path(path).name for path in recorded["dependencies"]] == ["config.yaml"]
    # Mark the cached finding: a second run that prints the mark was answered by the cache.
    recorded["findings"][0]["message"] = "answered by the cache"
    entry.write_text(json.dumps(recorded), encoding="utf-8")
    again = run_bnlint(["check", "--format", "json", "train.py"], tmp_path)
    (finding,) = json.loads(again.stdout)
    assert finding["message"].startswith("answered by the cache; ")
