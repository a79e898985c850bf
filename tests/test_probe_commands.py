"""`bnlint run` and `bnlint probe` as a user runs them: CI mode, modules, folders, child
processes, notebooks, unrunnable scripts, and probe inputs for every kind of model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from .conftest import ROOT

VISION = "tests/probe_zoo/vision.py"


def bnlint(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )


def concise(result: subprocess.CompletedProcess[str], stream: str = "stderr") -> list[str]:
    """`path:row CODE` of each finding line."""
    text = result.stderr if stream == "stderr" else result.stdout
    found = []
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) > 1 and parts[1].startswith("BN") and parts[0].count(":") == 3:
            found.append(f"{parts[0].rsplit(':', 2)[0]} {parts[1]}")
    return found


def test_ci_mode_fails_a_clean_exit_with_findings_and_keeps_the_scripts_own_status() -> None:
    script = "fixtures/probe/validate_without_eval.py"
    assert bnlint("run", "-q", script).returncode == 0
    failing = bnlint("run", "--exit-nonzero-on-findings", "--format", "concise", script)
    assert failing.returncode == 1
    assert failing.stdout == "accuracy 0.09\n"
    assert concise(failing) == [f"{script}:29 BN101"]
    clean = bnlint("run", "--exit-nonzero-on-findings", "-m", "tests.probe_zoo.evaluate")
    assert clean.returncode == 0, clean.stderr
    # A script that fails keeps its own status; findings do not hide it.
    raising = bnlint("run", "--exit-nonzero-on-findings", "fixtures/probe/echo_args.py", "7")
    assert raising.returncode == 7


def test_module_and_folder_run_like_python() -> None:
    module = bnlint("run", "--format", "concise", "-m", "tests.probe_zoo.evaluate")
    assert module.returncode == 0, module.stderr
    assert module.stdout == "logits (4, 10)\n"
    assert concise(module) == []
    folder = bnlint("run", "--format", "concise", "tests/probe_zoo/evaluate_app")
    assert folder.returncode == 0, folder.stderr
    assert folder.stdout == "scored (8, 64)\n"
    assert concise(folder) == ["tests/probe_zoo/evaluate_app/__main__.py:9 BN101"]


def test_findings_of_spawned_and_child_interpreters_are_merged() -> None:
    spawned = bnlint("run", "--format", "json", "tests/probe_zoo/spawn_workers.py", "2")
    assert spawned.returncode == 0, spawned.stderr
    assert sorted(spawned.stdout.splitlines()) == [
        "all done",
        "worker 0 of 2 done",
        "worker 1 of 2 done",
    ]
    (finding,) = json.loads(spawned.stderr)
    assert (finding["code"], finding["filename"], finding["location"]["row"]) == (
        "BN101",
        "tests/probe_zoo/spawn_workers.py",
        15,
    )
    assert finding["count"] == 4  # two forwards in each of two workers
    child = bnlint("run", "--format", "concise", "tests/probe_zoo/launch_child.py")
    assert child.returncode == 0, child.stderr
    assert concise(child) == ["fixtures/probe/validate_without_eval.py:29 BN101"]
    alone = bnlint("run", "--no-children", "-q", "tests/probe_zoo/launch_child.py")
    assert concise(alone) == []


def test_unrunnable_targets_exit_2_without_a_report(tmp_path: Path) -> None:
    notebook = tmp_path / "train.ipynb"
    notebook.write_text("{}")
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    for args in (
        [str(notebook)],
        [str(broken)],
        [str(tmp_path / "missing.py")],
        [str(tmp_path)],
        ["-m", "no_such_module_anywhere"],
    ):
        result = bnlint("run", *args)
        assert result.returncode == 2, args
        assert "All checks passed" not in result.stderr, args
        assert result.stdout == "", args
    assert "nbconvert" in bnlint("run", str(notebook)).stderr


def test_probe_report_on_stdout_stays_valid_json_when_the_factory_prints() -> None:
    result = bnlint("probe", f"{VISION}:chatty", "--input-shape", "2,3,8,8", "--format", "json")
    assert result.returncode == 1
    assert [f["code"] for f in json.loads(result.stdout)] == ["BN202"]
    assert "built model with" in result.stderr


def test_probe_lazy_modules_are_materialized_or_reported_as_usage_errors() -> None:
    biased = bnlint("probe", f"{VISION}:lazy_biased", "--input-shape", "4,3,8,8", "-q")
    assert biased.returncode == 1, biased.stderr
    assert "BN202" in biased.stdout
    assert "Traceback" not in biased.stderr
    wrong = bnlint("probe", f"{VISION}:LazyNet", "--input-shape", "4,3")
    assert wrong.returncode == 2
    assert "Lazy" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_input_shape_with_a_non_number_is_a_usage_error() -> None:
    for shape in ("4,x", "4,,3", "a,b", "0,3"):
        result = bnlint("probe", f"{VISION}:resnet", "--input-shape", shape)
        assert result.returncode == 2, shape
        assert "--input-shape" in result.stderr, shape
    assert bnlint("probe", f"{VISION}:resnet", "--input-shape", "4x3x16x16").returncode == 0


def test_probe_inputs_for_keyword_models_dtype_and_expect_trained() -> None:
    from_factory = bnlint("probe", f"{VISION}:text_classifier_with_inputs")
    assert from_factory.returncode == 0, from_factory.stderr
    described = bnlint(
        "probe",
        f"{VISION}:TextClassifier",
        "--input-json",
        '{"input_ids": {"shape": [4, 12], "dtype": "int64", "high": 100},'
        ' "attention_mask": {"shape": [4, 12], "dtype": "int64"}}',
    )
    assert described.returncode == 0, described.stderr
    bad = bnlint("probe", f"{VISION}:TextClassifier", "--input-json", '{"input_ids": [4, 0]}')
    assert bad.returncode == 2
    double = bnlint("probe", f"{VISION}:resnet", "--input-shape", "4,3,16,16", "--dtype", "float64")
    assert double.returncode == 0, double.stderr
    trained = bnlint(
        "probe", f"{VISION}:resnet", "--input-shape", "4,3,16,16", "--expect-trained", "-q"
    )
    assert trained.returncode == 1
    # Pinned at the first untrained norm's constructor (nothing was loaded).
    lines = (ROOT / VISION).read_text().splitlines()
    row = lines.index("        self.bn1 = nn.BatchNorm2d(16)") + 1
    assert concise(trained, "stdout") == [f"{VISION}:{row} BN501"]
    assert "`ResNet.bn1`" in trained.stdout


def test_torchrun_workers_are_observed_and_merged(tmp_path: Path) -> None:
    report = tmp_path / "probe.json"
    result = bnlint(
        "run",
        "--format",
        "json",
        "-o",
        str(report),
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "tests/probe_zoo/ddp_workers.py",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("rank")) == [
        "rank 0 done",
        "rank 1 done",
    ]
    found = {(f["code"], f["location"]["row"]): f for f in json.loads(report.read_text())}
    lines = (ROOT / "tests" / "probe_zoo" / "ddp_workers.py").read_text().splitlines()
    evaluation = lines.index("        model(torch.randn(16, 4))") + 1
    training = lines.index("    loss = model(torch.randn(4, 4)).sum()") + 1
    assert sorted(found) == [("BN101", evaluation), ("BN301", training)]
    assert found[("BN101", evaluation)]["count"] == 4  # two forwards on each of two ranks


def test_module_run_passes_argv_output_and_traceback_through_like_python_m(
    tmp_path: Path,
) -> None:
    package = tmp_path / "tools"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "boom.py").write_text(
        "import sys\nprint('argv', sys.argv[0].endswith('boom.py'), sys.argv[1:])\n"
        "raise ValueError('bad')\n"
    )
    plain = subprocess.run(
        [sys.executable, "-m", "tools.boom", "a", "-b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    probed = bnlint("run", "-q", "-m", "tools.boom", "a", "-b", cwd=tmp_path)
    assert probed.returncode == plain.returncode == 1
    assert probed.stdout == plain.stdout == "argv True ['a', '-b']\n"
    assert probed.stderr.startswith(plain.stderr)


def test_a_users_own_sitecustomize_still_runs_in_observed_children(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\nsys.stderr.write('user sitecustomize\\n')\n"
    )
    script = tmp_path / "launch.py"
    script.write_text(
        "import subprocess, sys\n"
        "sys.exit(subprocess.call([sys.executable, '-c', 'print(\"child ran\")']))\n"
    )
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(site)}
    plain = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    probed = subprocess.run(
        [sys.executable, "-m", "bnlint", "run", "-o", str(tmp_path / "r.txt"), str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert plain.stdout == probed.stdout == "child ran\n"
    assert plain.stderr == probed.stderr == "user sitecustomize\nuser sitecustomize\n"


ZOO = "tests/probe_zoo/train_zoo.py"


def _zoo_row(text: str) -> int:
    return (ROOT / ZOO).read_text().splitlines().index(text) + 1


def test_correct_training_scripts_of_every_family_are_silent_and_their_bugs_are_found() -> None:
    clean = bnlint("run", "--format", "concise", "--exit-nonzero-on-findings", ZOO)
    assert clean.returncode == 0, clean.stderr
    assert concise(clean) == []
    assert clean.stdout.count("accuracy") == 3
    buggy = bnlint("run", "--format", "concise", ZOO, "--bug", "no-eval,probe-in-train-mode")
    validation = (
        "            correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in val_loader)"
    )
    features = "            features = encoder(torch.randn(16, 3, 8, 8))"
    assert concise(buggy) == [
        f"{ZOO}:{_zoo_row(validation)} BN101",
        f"{ZOO}:{_zoo_row(features)} BN101",
    ]
