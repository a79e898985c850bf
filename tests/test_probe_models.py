"""check_model on small copies of real architectures: silent where they are right, precise
where they are wrong, and the same through DataParallel, DDP-style and compiled wrappers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from bnlint.probe import check_model, sites  # noqa: E402

from .conftest import ROOT  # noqa: E402

with sites.recording():
    from tests.probe_zoo import vision


LINES = (ROOT / "tests" / "probe_zoo" / "vision.py").read_text().splitlines()


def row_of(code: str) -> int:
    return LINES.index(code) + 1


def codes(findings: list) -> list[str]:
    return sorted(f.code for f in findings)


CLEAN = {
    "ResNet": (vision.resnet, (4, 3, 16, 16)),
    "MobileNetV2": (vision.mobilenet, (4, 3, 32, 32)),
    "DCGAN generator": (vision.Generator, (4, 16, 1, 1)),
    "DCGAN discriminator": (vision.Discriminator, (4, 3, 16, 16)),
    "SimSiam projector (affine=False)": (vision.SimSiamProjector, (4, 3, 8, 8)),
    "BNNeck re-ID": (vision.BNNeckReID, (4, 3, 16, 16)),
    "VAE sampling in eval": (vision.VAE, (4, 3, 8, 8)),
    "pre-norm transformer": (vision.PreNormTransformer, (4, 6, 12)),
}


@pytest.mark.parametrize("name", list(CLEAN))
def test_correct_architectures_have_no_findings(name: str) -> None:
    build, shape = CLEAN[name]
    with sites.recording():
        model = build()
    assert check_model(model, torch.randn(shape)) == []


def test_arcface_embedding_with_frozen_scale_is_not_bn201() -> None:
    with sites.recording():
        model = vision.ArcFaceEmbedding()
    # The biased fc before the norm is a real (harmless) BN202; the embedding norm is no BN201.
    assert codes(check_model(model, torch.randn(4, 3, 8, 8))) == ["BN202"]


def test_static_bn201_agrees_on_the_frozen_scale_arcface_head() -> None:
    from bnlint.api import check_source

    findings = check_source("\n".join(LINES) + "\n", "vision.py", select=["BN201"])
    assert row_of("        x = self.features(x)") not in [f.span.start.row for f in findings]


def test_the_same_head_with_a_trainable_scale_is_bn201_anchored_at_constructor_and_call() -> None:
    with sites.recording():
        model = vision.ArcFaceEmbedding()
    model.features.weight.requires_grad_(True)
    (bn201,) = [f for f in check_model(model, torch.randn(4, 3, 8, 8)) if f.code == "BN201"]
    assert bn201.span.start.row == row_of(
        "        self.features = nn.BatchNorm1d(embedding, eps=1e-05)"
    )
    # The static rule anchors a norm applied in `forward` at that call: a related location.
    assert [step.span.start.row for step in bn201.related] == [
        row_of("        x = self.features(x)")
    ]
    assert "`ArcFaceEmbedding.features`" in bn201.message


def test_vae_would_differ_alone_and_batched_but_is_random_so_not_bn503() -> None:
    model = vision.VAE()
    torch.manual_seed(0)
    model.eval()
    with torch.no_grad():
        first, second = model(torch.ones(2, 3, 8, 8))[0], model(torch.ones(2, 3, 8, 8))[0]
    assert not torch.equal(first, second)  # the premise: eval output is random
    assert "BN503" not in codes(check_model(model, torch.randn(4, 3, 8, 8)))


def test_deterministic_batch_mixing_is_still_bn503() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4, track_running_stats=False)
    )
    (finding,) = check_model(model, torch.randn(4, 3, 8, 8))
    assert finding.code == "BN503"
    assert "`Sequential[1]` has `track_running_stats=False`" in finding.message


def test_batchnorm_in_attention_block_is_bn205_named_by_class() -> None:
    (finding,) = check_model(vision.BatchNormTransformer(), torch.randn(4, 6, 16))
    assert finding.code == "BN205"
    assert "`BatchNormTransformer.norm`" in finding.message
    assert "sequence model `BatchNormTransformer`" in finding.message


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda m: m, id="bare"),
        pytest.param(nn.DataParallel, id="DataParallel"),
        pytest.param(lambda m: torch.compile(m, backend="eager"), id="torch.compile"),
        pytest.param(
            lambda m: __import__(
                "torch.distributed.algorithms._checkpoint.checkpoint_wrapper",
                fromlist=["checkpoint_wrapper"],
            ).checkpoint_wrapper(m),
            id="checkpoint_wrapper",
        ),
    ],
)
def test_wrappers_keep_the_findings_of_the_bare_model(wrap) -> None:  # type: ignore[no-untyped-def]
    with sites.recording():
        model = vision.ResNetBiasedStem()
    findings = check_model(wrap(model), torch.randn(4, 3, 16, 16))
    assert [(f.code, f.span.start.row) for f in findings] == [
        (
            "BN202",
            row_of("        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)"),
        )
    ]
    assert "`ResNetBiasedStem.conv1`" in findings[0].message
    assert model.training


def test_lazy_modules_are_materialized_then_probed_and_left_initialized() -> None:
    with sites.recording():
        model = vision.lazy_biased()
    batch = torch.randn(4, 3, 8, 8)
    rng = torch.get_rng_state()
    assert codes(check_model(model, batch)) == ["BN202"]
    assert torch.equal(rng, torch.get_rng_state())
    assert int(model[1].num_batches_tracked) == 0
    assert model.training


def test_keyword_inputs() -> None:
    model, inputs = vision.text_classifier_with_inputs()
    assert check_model(model, example_kwargs=inputs) == []


def test_unwrap_sees_through_fsdp_style_wrappers_but_not_a_users_module_attribute() -> None:
    from bnlint.probe.names import unwrap

    inner = nn.Sequential(nn.Linear(2, 2))

    class FullyShardedDataParallel(nn.Module):  # FSDP (1) keeps the model here, with siblings
        def __init__(self) -> None:
            super().__init__()
            self._fsdp_wrapped_module = inner
            self.extra = nn.Identity()

    class Holder(nn.Module):  # a user's model with a child called `module` is no wrapper
        def __init__(self) -> None:
            super().__init__()
            self.module = inner
            self.head = nn.Linear(2, 2)

    assert unwrap(FullyShardedDataParallel()) is inner
    holder = Holder()
    assert unwrap(holder) is holder
