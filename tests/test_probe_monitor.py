"""The runtime monitor behind `bnlint run`, in process: each check on a real script or model."""

from __future__ import annotations

import contextlib
import runpy
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


from .conftest import FIXTURES  # noqa: E402
from .probe_helpers import watching  # noqa: E402


def run_fixture(name: str, **options: int) -> list[tuple[str, str, int]]:
    with watching(**options) as found, contextlib.suppress(SystemExit):
        runpy.run_path(str(FIXTURES / "probe" / name), run_name="__main__")
    return [(f.code, Path(f.filename).name, f.span.start.row) for f in found]


def rows(found: list) -> list[tuple[str, int]]:
    return [(f.code, f.span.start.row) for f in found]


def test_validation_loop_without_eval_is_bn101(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_fixture("validate_without_eval.py") == [("BN101", "validate_without_eval.py", 29)]
    assert capsys.readouterr().out == "accuracy 0.09\n"


def test_export_in_training_mode_is_bn103_and_parameters_only_checkpoint_is_bn501() -> None:
    # BN501 is pinned at the load that brought weights without the BatchNorm buffers.
    assert run_fixture("export_in_train_mode.py") == [
        ("BN501", "export_in_train_mode.py", 24),
        ("BN103", "export_in_train_mode.py", 29),
    ]


def test_gan_generator_sampled_without_gradients_during_a_step_is_not_bn101() -> None:
    assert run_fixture("clean_gan.py") == []


def test_hooks_are_removed_and_exports_restored_after_uninstall() -> None:
    from torch.nn.modules import module as module_impl

    trace, load = torch.jit.trace, nn.Module.load_state_dict
    before = (len(module_impl._global_forward_hooks), len(module_impl._global_forward_pre_hooks))
    with watching():
        assert torch.jit.trace is not trace
    assert torch.jit.trace is trace
    assert nn.Module.load_state_dict is load
    assert (
        len(module_impl._global_forward_hooks),
        len(module_impl._global_forward_pre_hooks),
    ) == before


def test_eval_mode_model_run_without_gradients_is_clean() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))
    net.eval()
    with watching() as found, torch.no_grad():
        net(torch.randn(2, 4))
    assert found == []


def test_model_without_norm_or_dropout_is_never_reported() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    with watching() as found, torch.inference_mode():
        net(torch.randn(2, 4))
    assert found == []


def test_monte_carlo_dropout_after_eval_is_not_bn101() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))
    net.eval()
    net[2].train()  # deliberate: dropout on at inference
    with watching() as found, torch.no_grad():
        net(torch.randn(2, 4))
    assert found == []


def test_inference_mode_forward_in_training_mode_is_bn101_naming_the_variable() -> None:
    classifier = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5))
    with watching() as found, torch.inference_mode():
        classifier(torch.randn(2, 4))
    (finding,) = found
    assert finding.code == "BN101"
    assert "`classifier`" in finding.message
    assert "inference_mode" in finding.message


def test_bn_recalibration_by_torch_update_bn_is_not_bn101() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    loader = [torch.randn(8, 4) for _ in range(2)]
    with watching() as found:
        torch.optim.swa_utils.update_bn(loader, net)
    assert found == []


def test_small_training_batches_are_bn301_with_the_configured_minimum() -> None:
    net = nn.Sequential(nn.Conv1d(4, 8, 3), nn.BatchNorm1d(8))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

    def train(batch: int) -> None:
        # A sequence axis, so a batch of one runs (and silently normalizes by itself).
        loss = net(torch.randn(batch, 4, 6)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with watching(min_batch_size=16) as found:
        for _ in range(3):
            train(4)
    assert [(f.code, f.severity.value, f.count) for f in found] == [("BN301", "warning", 1)]
    with watching(min_batch_size=4) as found:
        train(4)
    assert found == []
    with watching() as found:
        for batch in (32, 32, 1):
            train(batch)
    assert [(f.code, f.severity.value) for f in found] == [("BN301", "error")]


def test_half_precision_training_is_bn402() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)).to(torch.bfloat16)
    with watching() as found:
        net(torch.randn(8, 4, dtype=torch.bfloat16)).sum().backward()
    assert [(f.code, "bfloat16" in f.message) for f in found] == [("BN402", True)]


def test_autocast_training_keeps_bn_in_float32_and_is_clean() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    with watching() as found, torch.autocast("cpu", dtype=torch.bfloat16):
        net(torch.randn(8, 4)).float().sum().backward()
    assert found == []


def test_optimizer_step_after_eval_forward_is_bn102() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.eval()
    with watching() as found:
        loss = net(torch.randn(8, 4)).sum()
        loss.backward()
        optimizer.step()
    assert rows(found) == [("BN102", optimizer_step_line(found))]
    net.train()
    with watching() as found:
        net(torch.randn(8, 4)).sum().backward()
        optimizer.step()
    assert found == []


def optimizer_step_line(found: list) -> int:
    source = Path(__file__).read_text().splitlines()
    row = found[0].span.start.row
    assert source[row - 1].strip() == "optimizer.step()"
    return row


def test_nonfinite_running_stats_at_eval_are_bn502() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    net[1].running_mean[3] = float("inf")
    net.eval()
    with watching() as found, torch.no_grad():
        net(torch.randn(2, 4))
        net(torch.randn(2, 4))
    assert [(f.code, f.count) for f in found] == [("BN502", 1)]


def test_compiled_model_is_observed_through_the_wrapper() -> None:
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    fast = torch.compile(net, backend="eager")
    with watching() as found, torch.no_grad():
        out = fast(torch.randn(4, 4))
    assert tuple(out.shape) == (4, 8)
    assert [f.code for f in found] == ["BN101"]
    assert "`fast`" in found[0].message
