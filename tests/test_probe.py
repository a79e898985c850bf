"""The probe's Python API on small real models: check_model, expect_eval, the model left as found."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from bnlint.probe import (  # noqa: E402
    TrainingModeError,
    check_model,
    expect_eval,
    sites,
)
from bnlint.probe.names import layer_label  # noqa: E402


def codes(findings: list) -> list[str]:
    return sorted(f.code for f in findings)


def test_norm_after_final_linear_is_bn201_pinned_to_its_constructor() -> None:
    with sites.recording():
        model = nn.Sequential(
            nn.Linear(8, 16, bias=False), nn.ReLU(), nn.Linear(16, 4), nn.BatchNorm1d(4)
        )
    findings = check_model(model, torch.randn(8, 8))
    assert "BN201" in codes(findings)
    bn201 = next(f for f in findings if f.code == "BN201")
    assert bn201.confirmed
    assert bn201.filename.endswith("test_probe.py")
    assert "Sequential[3]" in bn201.message


def test_projection_head_with_affine_false_norm_is_not_bn201() -> None:
    model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4, bias=False), nn.BatchNorm1d(4, affine=False)
    )
    assert "BN201" not in codes(check_model(model, torch.randn(8, 8)))


class BNNeck(nn.Module):
    """Re-identification head: training returns logits, eval returns the normalized embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 16, bias=False)
        self.neck = nn.BatchNorm1d(16)
        self.classifier = nn.Linear(16, 5)

    def forward(self, x):  # type: ignore[no-untyped-def]
        feature = self.neck(self.embed(x))
        return self.classifier(feature) if self.training else feature


def test_bnneck_that_returns_the_embedding_only_in_eval_is_not_bn201() -> None:
    assert codes(check_model(BNNeck(), torch.randn(8, 8))) == []


def test_biased_conv_feeding_only_a_norm_is_bn202() -> None:
    with sites.recording():
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
    findings = check_model(model, torch.randn(2, 3, 8, 8))
    assert codes(findings) == ["BN202"]


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.conv(x)
        return self.bn(y) + y


def test_conv_whose_output_also_feeds_an_addition_is_not_bn202() -> None:
    assert "BN202" not in codes(check_model(Residual(), torch.randn(2, 8, 6, 6)))


def test_conv_with_nonlinearity_before_norm_is_not_bn202() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))
    assert codes(check_model(model, torch.randn(2, 3, 8, 8))) == []


def test_dropout_feeding_a_norm_is_bn203() -> None:
    model = nn.Sequential(
        nn.Linear(8, 8, bias=False), nn.Dropout(0.3), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)
    )
    assert codes(check_model(model, torch.randn(4, 8))) == ["BN203"]


def test_channel_mismatch_is_bn204_naming_both_layers() -> None:
    with sites.recording():
        model = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(8))
    (finding,) = check_model(model, torch.randn(2, 3, 8, 8))
    assert finding.code == "BN204"
    assert "Sequential[1]" in finding.message
    assert "Sequential[0]" in finding.message
    assert "16 channels" in finding.message


def test_forward_failure_unrelated_to_norms_raises() -> None:
    from bnlint.probe.model import ProbeError

    model = nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4))
    with pytest.raises(ProbeError, match="forward pass"):
        check_model(model, torch.randn(2, 5))


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = nn.BatchNorm1d(8)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y, _ = self.attention(x, x, x)
        return self.norm((x + y).transpose(1, 2)).transpose(1, 2)


def test_batchnorm_inside_attention_block_is_bn205() -> None:
    assert codes(check_model(Encoder(), torch.randn(2, 5, 8))) == ["BN205"]


class StubbornBackbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4)

    def train(self, mode: bool = True):  # type: ignore[no-untyped-def]
        super().train(mode)
        self.bn.train()
        return self

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.bn(self.conv(x))


def test_train_override_that_keeps_bn_training_is_bn503_and_model_left_as_found() -> None:
    model = StubbornBackbone()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    findings = check_model(model, torch.randn(4, 3, 8, 8))
    assert codes(findings) == ["BN503"]
    assert "training mode after `eval()`" in findings[0].message
    # The probe ran forwards in training mode; every buffer and flag is restored.
    assert model.training is False
    assert model.bn.training is True
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert int(model.bn.num_batches_tracked) == 0


def test_norm_without_running_stats_makes_eval_batch_dependent_bn503() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4, track_running_stats=False)
    )
    (finding,) = check_model(model, torch.randn(4, 3, 8, 8))
    assert finding.code == "BN503"
    assert "track_running_stats=False" in finding.message


def test_instance_norm_is_per_sample_and_not_bn503() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.InstanceNorm2d(4))
    assert codes(check_model(model, torch.randn(4, 3, 8, 8))) == []


def test_untrained_stats_are_bn501_only_when_weights_were_loaded() -> None:
    def build():  # type: ignore[no-untyped-def]
        return nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(64, 2)
        )

    fresh = build()
    assert "BN501" not in codes(check_model(fresh, torch.randn(2, 3, 6, 6)))
    with sites.recording():
        donor = build()
        donor(torch.randn(2, 3, 6, 6))
        loaded = build()
        loaded.load_state_dict(
            {
                k: v
                for k, v in donor.state_dict().items()
                if k.startswith("0.") or k.startswith("3.")
            },
            strict=False,
        )
    assert "BN501" in codes(check_model(loaded, torch.randn(2, 3, 6, 6)))
    assert "BN501" in codes(check_model(fresh, torch.randn(2, 3, 6, 6), expect_trained=True))


def test_nonfinite_running_variance_is_bn502() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU())
    model[1].running_var[0] = float("nan")
    assert codes(check_model(model, torch.randn(2, 3, 6, 6))) == ["BN502"]


def test_clean_model_has_no_findings_and_keeps_its_mode() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(8, 3),
    )
    model.train()
    images = torch.randn(4, 3, 8, 8)
    rng = torch.get_rng_state()
    assert check_model(model, images) == []
    assert all(m.training for m in model.modules())
    assert torch.equal(rng, torch.get_rng_state())
    assert not model[1]._forward_hooks
    assert not model[1]._forward_pre_hooks


def test_expect_eval_names_the_layer_that_ran_in_training_mode() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    with (
        pytest.raises(
            TrainingModeError, match=r"`Sequential\[1\]` of `Sequential` ran in training mode"
        ),
        expect_eval(model),
    ):
        model(torch.randn(2, 4))
    model.eval()
    with expect_eval(model):
        model(torch.randn(2, 4))
    assert not model[1]._forward_pre_hooks


def test_layer_label_writes_paths_as_code() -> None:
    assert layer_label("layer1.0.bn1", "ResNet") == "ResNet.layer1[0].bn1"
    assert layer_label("2", "Sequential") == "Sequential[2]"
    assert layer_label("", "Net") == "Net"
