"""Training speed: this project's NumPy trainer against PyTorch on the CPU, in the same run.

Both train 784-256-128-10 (ReLU, softmax cross-entropy, SGD with momentum 0.9, batch 128) on the
60,000 MNIST training images for the same number of epochs. Rounds alternate the order of the
contenders, so that drift in the load of a shared machine hits each of them alike; figures are
medians over all timed epochs. PyTorch runs with 1 and with 2 intra-op threads and is compared at
its faster setting.

    .venv/bin/pip install -e '.[bench]'          # torch==2.13.0, CPU build
    .venv/bin/python -m benchmarks.train_speed   # ≈ 1-2 minutes
    .venv/bin/python -m benchmarks.train_speed --rounds 4 --epochs 3 --default-model

FLOP arithmetic (multiply-add = 2 FLOP), per sample:
    forward      2·(784·256 + 256·128 + 128·10)         = 469,504
    grad W       the same three products again             469,504
    grad input   2·(256·128 + 128·10), none for layer 1 =  68,096
    total                                                ≈ 1.007 MFLOP
so an epoch of 60,000 samples is ≈ 60.4 GFLOP; effective GFLOP/s = that ÷ seconds per epoch.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from app.config import get_settings

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.05
MOMENTUM = 0.9


def flop_per_sample(sizes=SIZES) -> int:
    """Forward + backward FLOP for one sample (no input gradient for the first layer)."""
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * sum(macs) * 2 + 2 * sum(macs[1:])


def load_train(home: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    from model.data import load_mnist

    mnist = load_mnist(home)
    x, y = mnist.train_x, mnist.train_y
    if limit:
        x, y = x[:limit], y[:limit]
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


# --- ours -------------------------------------------------------------------------------------


def ours(images: np.ndarray, labels: np.ndarray, epochs: int, augment: bool) -> list[float]:
    """Seconds per epoch of model.train.train on the benchmark network (one image is held out:
    train() always keeps a validation split).

    The first epoch's time counts from the call, so it carries the setup (and, with
    augmentation, the wait for the first distorted epoch); the median shrugs that off.
    """
    from model.train import TrainConfig, train

    config = TrainConfig(
        hidden=SIZES[1:-1],
        epochs=epochs,
        batch_size=BATCH,
        learning_rate=LR,
        schedule="constant",
        warmup_share=0.0,
        momentum=MOMENTUM,
        weight_decay=0.0,
        augment=augment,
        synthetic_share=0.0,
        validation_size=1,
        seed=0,
        progress_every=10**9,
    )
    marks = [time.perf_counter()]

    def on_event(event):
        if event["kind"] == "epoch":
            marks.append(time.perf_counter())

    train(config, images, labels, callback=on_event)
    return list(np.diff(marks))


# --- PyTorch ----------------------------------------------------------------------------------


def torch_run(images: np.ndarray, labels: np.ndarray, epochs: int, threads: int) -> list[float]:
    """Seconds per epoch of an idiomatic PyTorch loop on the same data, float32, in memory."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all = torch.from_numpy(images.reshape(len(images), -1))
    y_all = torch.from_numpy(labels.astype(np.int64))
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x_all), generator=gen)
        x = x_all[order].float().mul_(1 / 255)  # once per epoch, as ours does
        y = y_all[order]
        total = torch.zeros(())
        for lo in range(0, len(x), BATCH):
            xb, yb = x[lo : lo + BATCH], y[lo : lo + BATCH]
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach()
        float(total)
        times.append(time.perf_counter() - start)
    return times


# --- the shipped default model ----------------------------------------------------------------


def default_model(home: Path) -> str:
    """Train the shipped model's recipe (TrainConfig defaults: what `digits train` and the
    admin page's default retrain run) in this process, and say where the time went: wall time,
    the data set's assembly, seconds per epoch with augmentation and without (two plain epochs
    of the same network on the same images), the share of the wall time spent waiting for the
    augmentation worker, and the effective GFLOP/s of the augmented epochs."""
    from model.data import load_mnist
    from model.pipeline import train_and_evaluate
    from model.train import TrainConfig, train, training_set_size

    config = TrainConfig()
    mnist = load_mnist(home)
    started = time.perf_counter()
    trained = train_and_evaluate(config, mnist)
    wall = time.perf_counter() - started
    result = trained.result
    ends = [event["elapsed"] for event in result.history]
    epochs = np.diff(ends)  # the first epoch carries the wait for the first distorted one
    plain_marks: list[float] = []
    plain = TrainConfig(epochs=2, augment=False, progress_every=10**9)
    plain_start = time.perf_counter()
    train(
        plain,
        mnist.train_x,
        mnist.train_y,
        callback=lambda e: plain_marks.append(time.perf_counter()),
    )
    plain_epoch = plain_marks[1] - plain_marks[0]
    n = training_set_size(config, len(mnist.train_y))
    sizes = (784, *config.hidden, config.classes)
    gflops = flop_per_sample(sizes) * n / float(np.median(epochs)) / 1e9
    return (
        f"default model ({'-'.join(map(str, sizes))}, {config.epochs} epochs of {n:,} images, "
        f"augmented): {wall:.0f} s wall (target ≤ 150) = data set "
        f"{result.prepare_seconds:.0f} s + epochs {ends[-1] - result.prepare_seconds:.0f} s + "
        f"evaluation {wall - result.seconds:.0f} s; median epoch {np.median(epochs):.2f} s "
        f"augmented, {plain_epoch:.2f} s plain (second of two, setup "
        f"{plain_marks[0] - plain_start - plain_epoch:.0f} s); waiting for augmented epochs "
        f"{result.waited_seconds:.1f} s = {result.waited_seconds / wall:.1%} of the wall time; "
        f"{gflops:.1f} GFLOP/s; MNIST test {trained.test['accuracy']:.2%}"
    )


def describe_machine() -> list[str]:
    from threadpoolctl import threadpool_info

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    blas = [
        f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    lines = [
        f"machine: nproc={os.cpu_count()} cpu={cpu!r} "
        f"load={' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"numpy {np.__version__}, BLAS {', '.join(blas)}, python {platform.python_version()}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]
    try:
        import torch

        lines.append(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})")
    except ImportError:
        pass
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--home",
        type=Path,
        default=get_settings().home,
        help="data home with mnist.npz (default: DIGITS_HOME, as the CLI)",
    )
    p.add_argument("--rounds", type=int, default=2, help="rounds, each contender once per round")
    p.add_argument("--epochs", type=int, default=2, help="epochs per contender per round")
    p.add_argument("--samples", type=int, default=None, help="train on the first N images only")
    p.add_argument("--no-torch", action="store_true", help="time this project's trainer only")
    p.add_argument("--no-augment", action="store_true", help="skip the augmentation-on runs")
    p.add_argument(
        "--default-model",
        action="store_true",
        help="also time the full default `digits train` (several minutes)",
    )
    args = p.parse_args(argv)

    images, labels = load_train(args.home, args.samples)
    n = len(labels)
    flop = flop_per_sample()
    for line in describe_machine():
        print(line)
    print(
        f"network {'-'.join(map(str, SIZES))} relu, batch {BATCH}, SGD momentum {MOMENTUM}, "
        f"{n} samples, {args.epochs} epochs × {args.rounds} rounds per contender"
    )
    print(
        f"FLOP/sample = 2·{sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))} (fwd) "
        f"+ same (grad W) + 2·{sum(a * b for a, b in zip(SIZES[1:-1], SIZES[2:]))} "
        f"(grad input) = {flop:,} ≈ {flop / 1e6:.3f} MFLOP; "
        f"per epoch {flop * n / 1e9:.1f} GFLOP"
    )

    contenders = {"ours": lambda: ours(images, labels, args.epochs, augment=False)}
    if not args.no_torch:
        contenders["torch-1t"] = lambda: torch_run(images, labels, args.epochs, 1)
        contenders["torch-2t"] = lambda: torch_run(images, labels, args.epochs, 2)
    if not args.no_augment:
        contenders["ours+augment"] = lambda: ours(images, labels, args.epochs + 1, augment=True)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            epoch_times = contenders[name]()
            times[name] += epoch_times
            print(f"  round {r + 1} {name:13s} " + " ".join(f"{t:.3f}" for t in epoch_times))

    med = {name: statistics.median(t) for name, t in times.items()}
    print("\nmedian seconds per epoch (GFLOP/s effective):")
    for name, m in med.items():
        print(f"  {name:13s} {m:7.3f} s  ({flop * n / m / 1e9:5.1f} GFLOP/s)")
    gflops = flop * n / med["ours"] / 1e9
    if args.no_torch:
        summary = (
            f"train-speed: ours={med['ours']:.3f} s/epoch torch=n/a ratio=n/a gflops={gflops:.1f}"
        )
    else:
        best = min(("torch-1t", "torch-2t"), key=med.get)
        ratio = med["ours"] / med[best]
        print(
            f"torch faster setting: {best}; ratio ours/torch = {ratio:.2f} (target ≤ 0.8); "
            f"ours {gflops:.1f} GFLOP/s (target ≥ 45)"
        )
        if "ours+augment" in med:
            print(
                f"augmentation on: {med['ours+augment']:.3f} s/epoch, "
                f"{med['ours+augment'] / med['ours']:.2f}× the plain epoch"
            )
        summary = (
            f"train-speed: ours={med['ours']:.3f} s/epoch torch={med[best]:.3f} s/epoch "
            f"ratio={ratio:.2f} gflops={gflops:.1f}"
        )
    if args.default_model:
        print(default_model(args.home))
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
