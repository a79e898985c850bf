"""Overhead of `bnlint run` on a ResNet-50-sized training step, as a ratio measured in one run.

    python benchmarks/probe_overhead.py                      # CPU, batch 32, 224x224
    python benchmarks/probe_overhead.py --device cuda --amp --channels-last
    python benchmarks/probe_overhead.py --micro              # per-step cost, small BN MLP

The same training script runs as `python train.py` and as `bnlint run train.py`, alternating,
in fresh processes. Each process times its own steps after warm-up and reports the median;
the ratio of medians is the probe's overhead per step (start-up is reported apart).
torchvision is not needed: the model is built here, with ResNet-50's layout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN_SCRIPT = """
import json
import sys
import time

import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        blocks, channels = [], 64
        for width, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for index in range(count):
                blocks.append(Bottleneck(channels, width, stride if index == 0 else 1))
                channels = width * Bottleneck.expansion
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


def main(device, batch, size, steps, warmup, amp, channels_last):
    torch.manual_seed(0)
    model = ResNet50().to(device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    images = torch.randn(batch, 3, size, size, device=device).to(memory_format=memory_format)
    labels = torch.randint(0, 1000, (batch,), device=device)
    model.train()
    times, cpu_times = [], []
    for step in range(warmup + steps):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        cpu_start = time.process_time()
        with torch.autocast(device_type=device, dtype=torch.float16 if device == "cuda" else torch.bfloat16, enabled=amp):
            loss = criterion(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if step >= warmup:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    print(json.dumps({"step_times": times, "cpu_times": cpu_times}))


if __name__ == "__main__":
    device, batch, size, steps, warmup, amp, channels_last = sys.argv[1:8]
    main(device, int(batch), int(size), int(steps), int(warmup), amp == "1", channels_last == "1")
"""


def _run(command: list[str]) -> tuple[list[float], list[float], float]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    line = [line for line in result.stdout.splitlines() if line.startswith("{")][-1]
    data = json.loads(line)
    return data["step_times"], data["cpu_times"], wall


def micro(rounds: int = 5, steps: int = 400) -> dict[str, float]:
    """The probe's fixed cost per training step, in process: a small MLP with BatchNorm, one
    thread, batch 32, with and without the monitor installed (alternating rounds).

    The step is well under a millisecond, so what the hooks and the step checks add shows.
    """
    import torch
    from torch import nn

    from bnlint.probe.runtime import Monitor

    torch.set_num_threads(1)

    def median_step() -> float:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(32, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        x, y = torch.randn(32, 32), torch.randint(0, 10, (32,))
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        return statistics.median(times[steps // 8 :])

    plain, probed = [], []
    for _ in range(rounds):
        plain.append(median_step())
        monitor = Monitor()
        monitor.install()
        try:
            probed.append(median_step())
        finally:
            monitor.uninstall()
    p, q = statistics.median(plain), statistics.median(probed)
    return {
        "plain_step_ms": round(p * 1e3, 4),
        "probe_step_ms": round(q * 1e3, 4),
        "added_ms_per_step": round((q - p) * 1e3, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating plain/probe process pairs"
    )
    parser.add_argument(
        "--amp", action="store_true", help="torch.autocast (fp16 on CUDA, bf16 on CPU)"
    )
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument(
        "--micro", action="store_true", help="only the per-step cost on a small BN MLP"
    )
    args = parser.parse_args()
    if args.micro:
        print(json.dumps(micro(), indent=2))
        return

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "train_resnet50.py"
        script.write_text(TRAIN_SCRIPT)
        tail = [
            args.device,
            str(args.batch),
            str(args.image_size),
            str(args.steps),
            str(args.warmup),
            "1" if args.amp else "0",
            "1" if args.channels_last else "0",
        ]
        plain_cmd = [sys.executable, str(script), *tail]
        probe_cmd = [sys.executable, "-m", "bnlint", "run", "--quiet", "--", str(script), *tail]
        runs: dict[str, tuple[list[float], list[float], list[float]]] = {
            "plain": ([], [], []),
            "probe": ([], [], []),
        }
        for _ in range(args.rounds):
            for name, command in (("plain", plain_cmd), ("probe", probe_cmd)):
                steps, cpu, wall = _run(command)
                runs[name][0].extend(steps)
                runs[name][1].extend(cpu)
                runs[name][2].append(wall)
    plain = statistics.median(runs["plain"][0])
    probed = statistics.median(runs["probe"][0])
    plain_cpu = statistics.median(runs["plain"][1])
    probe_cpu = statistics.median(runs["probe"][1])
    result = {
        "device": args.device,
        "batch": args.batch,
        "image_size": args.image_size,
        "amp": args.amp,
        "channels_last": args.channels_last,
        "timed_steps_each": len(runs["plain"][0]),
        "plain_step_median_s": round(plain, 4),
        "probe_step_median_s": round(probed, 4),
        "step_overhead_ratio": round(probed / plain, 4),
        # CPU seconds of all threads: steadier than wall time on a shared machine.
        "plain_step_cpu_median_s": round(plain_cpu, 4),
        "probe_step_cpu_median_s": round(probe_cpu, 4),
        "step_cpu_overhead_ratio": round(probe_cpu / plain_cpu, 4),
        "plain_process_wall_s": round(statistics.median(runs["plain"][2]), 2),
        "probe_process_wall_s": round(statistics.median(runs["probe"][2]), 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
