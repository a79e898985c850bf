"""`bnlint run` and `bnlint probe` end to end, in subprocesses, on the scripts in fixtures/probe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

import bnlint as bnlint_package

from .conftest import FIXTURES, ROOT

PROBE = FIXTURES / "probe"


def bnlint(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def report(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    out = tmp_path / "report.json"
    result = bnlint("run", "--format", "json", "--output", str(out), *args)
    return result, json.loads(out.read_text())


def test_script_output_exit_status_argv_and_main_pass_through() -> None:
    result = bnlint("run", "--", "fixtures/probe/echo_args.py", "3", "--flag")
    assert result.returncode == 3
    assert result.stdout.splitlines() == [
        "name __main__",
        "argv ['3', '--flag']",
        "path0 probe",
        "file echo_args.py",
    ]
    assert result.stderr.startswith("to stderr\n")
    assert "All checks passed!" in result.stderr


def test_uncaught_exception_prints_the_scripts_traceback_and_exits_1() -> None:
    result = bnlint("run", "fixtures/probe/echo_args.py", "raise")
    assert result.returncode == 1
    traceback = result.stderr.split("Traceback (most recent call last):\n", 1)[1]
    assert traceback.startswith(f'  File "{PROBE / "echo_args.py"}", line 12, in <module>')
    assert "ValueError: bad input" in traceback
    # No frame of bnlint's own code: every file the traceback names lies outside the
    # installed package (wherever the checkout is and whatever its folder is called).
    package = Path(bnlint_package.__file__).resolve().parent
    files = [
        Path(line.split('"')[1]).resolve()
        for line in traceback.splitlines()
        if line.startswith('  File "')
    ]
    assert files
    assert not [f for f in files if f.is_relative_to(package)]


@pytest.mark.skipif(os.name != "posix", reason="exit by signal is POSIX")
def test_keyboard_interrupt_still_stops_the_script_like_python() -> None:
    result = bnlint("run", "fixtures/probe/echo_args.py", "interrupt")
    assert result.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in result.stderr


def test_missing_script_fails_like_python() -> None:
    result = bnlint("run", "fixtures/probe/no_such_script.py")
    assert result.returncode == 2
    assert "can't open file" in result.stderr


def test_validation_without_eval_is_bn101_at_the_model_call(tmp_path: Path) -> None:
    result, findings = report(tmp_path, "fixtures/probe/validate_without_eval.py")
    assert result.returncode == 0
    assert result.stdout == "accuracy 0.09\n"
    assert [(f["code"], f["location"]["row"], f["confirmed"]) for f in findings] == [
        ("BN101", 29, True)
    ]
    assert findings[0]["filename"] == os.path.join("fixtures", "probe", "validate_without_eval.py")
    assert findings[0]["count"] == 2


def test_epoch_loop_with_workers_and_thread_reports_bn102_and_bn301(tmp_path: Path) -> None:
    result, findings = report(tmp_path, "fixtures/probe/train_epochs.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("accuracy") == 2
    # BN301 is pinned at the loader's batch_size, as `bnlint check` pins it; the forward that
    # trained on those batches is its related location.
    assert {(f["code"], f["location"]["row"]) for f in findings} == {("BN301", 37), ("BN102", 48)}
    bn301 = next(f for f in findings if f["code"] == "BN301")
    assert [step["location"]["row"] for step in bn301["related"]] == [45]


DDP_SCRIPT = """
import os
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import sys
dist.init_process_group("gloo", init_method="file://" + sys.argv[1], rank=0, world_size=1)
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(2):
    loss = model(torch.randn(16, 4)).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    model(torch.randn(16, 4))
dist.destroy_process_group()
print("done")
"""


def test_single_process_ddp_runs_and_is_observed_through_the_wrapper(tmp_path: Path) -> None:
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    result, findings = report(tmp_path, str(script), str(tmp_path / "rendezvous"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("BN101", 18)]


def test_text_report_on_stderr_with_code_frame_and_noqa_respected(tmp_path: Path) -> None:
    script = tmp_path / "suppressed.py"
    script.write_text(
        "import torch\nfrom torch import nn\nnet = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\n"
        "with torch.no_grad():\n    net(torch.randn(4, 4))  # noqa: BN101\n    net(torch.randn(4, 4))\n"
        "print('ok')\n"
    )
    result = bnlint("run", str(script))
    assert result.returncode == 0
    assert result.stdout == "ok\n"
    assert "suppressed.py:5:" not in result.stderr
    assert "suppressed.py:6:5: BN101 `net` ran forward in training mode" in result.stderr
    assert "6 |     net(torch.randn(4, 4))" in result.stderr
    assert "Found 1 finding." in result.stderr


def test_probe_command_reports_layers_built_in_loops_at_their_lines(tmp_path: Path) -> None:
    result = bnlint(
        "probe",
        "fixtures/probe/models.py:ConfigNet",
        "--input-shape",
        "4,3,16,16",
        "--format",
        "concise",
        "--quiet",
    )
    assert result.returncode == 1
    lines = [line.split(" ", 2)[:2] for line in result.stdout.splitlines()]
    assert lines == [
        ["fixtures/probe/models.py:11:9:", "BN202"],
        ["fixtures/probe/models.py:28:9:", "BN201"],
        ["fixtures/probe/models.py:28:9:", "BN202"],
    ]


def test_probe_command_clean_model_from_a_module_target(tmp_path: Path) -> None:
    result = bnlint(
        "probe",
        "fixtures.probe.models:CleanNet",
        "--input-shape",
        "2,3,8,8",
        "--kwargs",
        '{"classes": 3}',
    )
    assert result.returncode == 0, result.stderr
    assert "All checks passed!" in result.stdout


def test_probe_command_usage_errors_exit_2() -> None:
    result = bnlint("probe", "fixtures/probe/models.py:CleanNet", "--input-shape", "a,b")
    assert result.returncode == 2
    assert "--input-shape" in result.stderr
    assert bnlint("probe", "no_colon_here").returncode == 2
