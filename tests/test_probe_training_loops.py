"""The runtime monitor on training loops as real projects write them: what is a bug (BN101,
BN102, BN104, BN301, BN402, BN501) and what is deliberate (linear probes, GAN steps, EMA
teachers, BatchNorm re-calibration, gradient accumulation)."""

from __future__ import annotations

import io
import linecache
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


from .probe_helpers import watching  # noqa: E402

HERE = Path(__file__).resolve()


def line_of(marker: str) -> int:
    """The line of this file that ends with `# <marker>`."""
    for number, text in enumerate(HERE.read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(marker)


def rows(found: list) -> list[tuple[str, int]]:
    return [(f.code, f.span.start.row) for f in found]


def backbone() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def images(batch: int = 8) -> torch.Tensor:
    return torch.randn(batch, 3, 8, 8)


def test_linear_probe_with_frozen_backbone_left_in_train_mode_is_bn101() -> None:
    features, head = backbone(), nn.Linear(8, 3)
    for p in features.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(3):
            with torch.no_grad():
                x = features(images())  # frozen-train
            loss = head(x).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert rows(found) == [("BN101", line_of("frozen-train"))]
    assert "`features`" in found[0].message


class LinearProtocol(nn.Module):
    """MoCo's lincls: one model, the backbone in eval on purpose, only `fc` optimized."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = backbone()
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.encoder(x))


def test_linear_classification_protocol_is_not_bn102() -> None:
    model = LinearProtocol()
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1)
    model.eval()
    with watching() as found:
        for _ in range(2):
            loss = model(images()).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert found == []


def test_training_the_whole_model_in_eval_mode_is_still_bn102() -> None:
    model = LinearProtocol()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()
    with watching() as found:
        model(images()).sum().backward()
        optimizer.step()  # whole-model-step
    assert rows(found) == [("BN102", line_of("whole-model-step"))]


def test_validation_between_backward_and_step_is_bn101() -> None:
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(2):
            loss = model(images()).sum()
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():
                model(images())  # between-backward-and-step
            optimizer.step()
    assert rows(found) == [("BN101", line_of("between-backward-and-step"))]
    assert found[0].count == 2


def test_a_step_of_one_model_does_not_erase_another_models_finding() -> None:
    student, teacher = nn.Sequential(backbone(), nn.Linear(8, 3)), backbone()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    with watching() as found:
        with torch.no_grad():
            teacher(images())  # teacher-in-train-mode
        loss = student(images()).sum()
        loss.backward()
        optimizer.step()
    assert rows(found) == [("BN101", line_of("teacher-in-train-mode"))]


def test_gan_generator_sampled_in_training_mode_for_the_discriminator_step_is_clean() -> None:
    from tests.probe_zoo.vision import Discriminator, Generator

    gen, disc = Generator(), Discriminator()
    opt_g = torch.optim.Adam(gen.parameters())
    opt_d = torch.optim.Adam(disc.parameters())
    with watching() as found:
        for _ in range(2):
            with torch.no_grad():
                fake = gen(torch.randn(8, 16, 1, 1))
            d_loss = disc(images(8).repeat(1, 1, 2, 2)).mean() - disc(fake).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = -disc(gen(torch.randn(8, 16, 1, 1))).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
    assert found == []


def test_momentum_encoder_updated_by_ema_in_training_mode_is_clean() -> None:
    query, key = (
        nn.Sequential(backbone(), nn.Linear(8, 4)),
        nn.Sequential(backbone(), nn.Linear(8, 4)),
    )
    key.load_state_dict(query.state_dict())
    for p in key.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.SGD(query.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(3):
            q = query(images())
            with torch.no_grad():
                for pk, pq in zip(key.parameters(), query.parameters(), strict=True):
                    pk.data = pk.data * 0.99 + pq.data * 0.01
                k = key(images())
            loss = (q * k).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert found == []


def test_batchnorm_recalibration_is_not_bn101() -> None:
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    calibration = [images() for _ in range(3)]
    with watching() as found:
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
        with torch.no_grad():
            for batch in calibration:
                model(batch)
        model.eval()
    assert found == []
    cumulative = nn.Sequential(backbone(), nn.Linear(8, 3))
    cumulative[0][1].momentum = None
    with watching() as found, torch.no_grad():
        for batch in calibration:
            cumulative(batch)
    assert found == []


def test_a_cumulative_average_norm_is_still_checked_when_it_trains() -> None:
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    model[0][1].momentum = None
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(2):
            model(images(2)).sum().backward()  # cumulative-small-batch
            optimizer.step()
        with torch.no_grad():
            for _ in range(2):
                model(images())  # after-training
    assert rows(found) == [
        ("BN301", line_of("cumulative-small-batch")),
        ("BN101", line_of("after-training")),
    ]


def test_validation_with_gradients_on_and_no_backward_is_bn101() -> None:
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(2):
            model(images()).sum().backward()
            optimizer.step()
        correct = 0
        for _ in range(3):
            correct += int(model(images()).argmax(1).eq(0).sum())  # grad-on-validation
    assert rows(found) == [("BN101", line_of("grad-on-validation"))]
    assert "no backward pass" in found[0].message


def test_gradient_accumulation_over_several_forwards_is_not_bn101() -> None:
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with watching() as found:
        for _ in range(2):
            outputs = [model(images()) for _ in range(3)]
            torch.stack(outputs).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
    assert found == []


class FrozenBackbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = backbone()
        self.head = nn.Linear(8, 3)
        for p in self.backbone.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def test_frozen_batchnorm_whose_statistics_still_change_is_bn104_at_train() -> None:
    model = FrozenBackbone()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)
    with watching() as found:
        model.train()  # train-call
        for _ in range(3):
            model(images()).sum().backward()
            optimizer.step()
    assert rows(found) == [("BN104", line_of("train-call"))]
    assert "FrozenBackbone.backbone[1]" in found[0].message
    # The fix: the frozen part in eval mode after train().
    model = FrozenBackbone()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)
    with watching() as found:
        model.train()
        model.backbone.eval()
        for _ in range(3):
            model(images()).sum().backward()
            optimizer.step()
    assert found == []


def test_pickled_untrained_model_from_torch_load_is_bn501_at_the_load() -> None:
    buffer = io.BytesIO()
    torch.save(nn.Sequential(backbone(), nn.Linear(8, 3)), buffer)
    buffer.seek(0)
    with watching() as found:
        model = torch.load(buffer, weights_only=False)  # load-untrained
        model.eval()
        with torch.no_grad():
            model(images())
    assert rows(found) == [("BN501", line_of("load-untrained"))]
    assert "`Sequential[0][1]`" in found[0].message


def test_half_precision_is_bn402_at_the_cast() -> None:
    with watching() as found:
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)).half()  # half-cast
        model(torch.randn(8, 4, dtype=torch.float16)).float().sum().backward()
    assert rows(found) == [("BN402", line_of("half-cast"))]
    assert [step.span.start.row for step in found[0].related] == [line_of("half-cast") + 1]


def test_small_batches_are_bn301_at_the_loaders_batch_size() -> None:
    from torch.utils.data import DataLoader, TensorDataset

    data = TensorDataset(torch.randn(16, 3, 8, 8))
    model = nn.Sequential(backbone(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with watching() as found:
        loader = DataLoader(
            data,
            batch_size=4,  # batch-size
            shuffle=True,
        )
        for (batch,) in loader:
            model(batch).sum().backward()  # small-forward
            optimizer.step()
    assert rows(found) == [("BN301", line_of("batch-size"))]
    assert [step.span.start.row for step in found[0].related] == [
        line_of("batch-size") - 2,
        line_of("small-forward"),
    ]


def test_wrapped_models_are_observed_and_named() -> None:
    model = nn.DataParallel(nn.Sequential(backbone(), nn.Linear(8, 3)))
    with watching() as found, torch.no_grad():
        for _ in range(2):
            model(images())
    assert [f.code for f in found] == ["BN101"]
    assert "`model`" in found[0].message


def test_every_marker_of_this_file_is_unique() -> None:
    markers = [
        line.rsplit("# ", 1)[1]
        for line in linecache.getlines(str(HERE))
        if "  # " in line and line.rstrip().endswith(tuple("abcdefghijklmnopqrstuvwxyz"))
    ]
    assert len(markers) == len(set(markers))
