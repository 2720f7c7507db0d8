"""Which CPU/GPU settings make the course's training steps faster? Measured, not guessed.

    python -m benchmarks.speedups [--seconds S] [--repeats R] [--busy N]

Times one training step (milliseconds, median of R timed runs after a warm-up) of
the three workloads behind the slowest notebooks, each under the settings a reviewer would
try: torch CPU threads (1 vs all cores), channels-last memory layout, fused Adam, and how a
batch is fetched (a DataLoader indexing one image at a time vs one tensor index per batch).
On CUDA it also tries bf16 autocast. ``--busy N`` keeps N other processes spinning on the
CPU meanwhile, as on a shared machine, a parallel grading run or a Binder neighbour.
Prints a Markdown table; the winners are the library's defaults.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import multiprocessing
import statistics
import time

import torch
from torch.utils.data import DataLoader

from utils.data import ImageData
from utils.models import DCGANDiscriminator, DCGANGenerator, SmallCNN, TabularDiscriminator, TabularGenerator
from utils.runtime import usable_cpus
from utils.train import _gan_step, discriminator_step, generator_loss


def _images(n: int, channels: int = 3, n_classes: int = 7) -> ImageData:
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (n, 28, 28, channels), dtype=torch.uint8, generator=generator).numpy()
    labels = torch.randint(0, n_classes, (n,), generator=generator).numpy()
    return ImageData(pixels, labels, flag="bench", split="train", class_names=[str(c) for c in range(n_classes)],
                     task="multi-class", source="stand-in")


def _batches(data: ImageData, batch: int, per_item: bool):
    """Endless batches: a DataLoader over the dataset (per-item indexing + collate) or direct slicing."""
    if per_item:
        loader = DataLoader(data, batch_size=batch, shuffle=True, drop_last=True,
                            generator=torch.Generator().manual_seed(0))
        return itertools.chain.from_iterable(itertools.repeat(loader))
    def sliced():
        g = torch.Generator().manual_seed(0)
        while True:
            order = torch.randperm(len(data), generator=g)
            for start in range(0, len(data) - batch + 1, batch):
                idx = order[start:start + batch]
                yield data.x[idx].contiguous(), data.y[idx]  # the same NCHW layout as the DataLoader's
    return sliced()


def _adam(params, fused: bool, lr=2e-4):
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=fused or None)


def dcgan_step(device, *, base=64, batch=128, channels_last=False, fused=False, per_item=True, conditional=False,
               autocast=False):
    """03's DCGAN (base 64, batch 128) or 05's conditional one (base 32, batch 64)."""
    n_classes = 7 if conditional else 0
    G = DCGANGenerator(64, 3, base, n_classes=n_classes).to(device)
    D = DCGANDiscriminator(3, base, n_classes=n_classes).to(device)
    if channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    opt_g, opt_d = _adam(G.parameters(), fused), _adam(D.parameters(), fused)
    batches = _batches(_images(4096), batch, per_item)

    def step():
        real, labels = next(batches)
        real = real.to(device, non_blocking=True)
        if channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        labels = labels.to(device) if conditional else None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            _gan_step(G, D, opt_g, opt_d, real, labels, latent_dim=64, loss="ns", gp_weight=10.0, update_g=True)
    return step


def classifier_step(device, *, batch=64, channels_last=False, fused=False, per_item=True, autocast=False):
    """05's SmallCNN arms (width 16, batch 64)."""
    model = SmallCNN(3, 7, width=16).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=fused or None)
    criterion = torch.nn.CrossEntropyLoss()
    batches = _batches(_images(4096), batch, per_item)

    def step():
        x, y = next(batches)
        x, y = x.to(device), y.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    return step


def tabular_step(device, *, batch=128, fused=False, **_):
    """09's conditional tabular GAN (hidden 128, batch 128, ILPD-like width)."""
    G = TabularGenerator(32, 8, [2, 2], hidden=128, n_classes=4).to(device)
    D = TabularDiscriminator(12, hidden=128, n_classes=4).to(device)
    opt_g, opt_d = _adam(G.parameters(), fused), _adam(D.parameters(), fused)
    X = torch.randn(400, 12, device=device)
    labels = torch.randint(0, 4, (400,), device=device)

    def step():
        idx = torch.randint(0, 400, (batch,), device=device)
        real, lab = X[idx], labels[idx]
        fake = G(torch.randn(batch, 32, device=device), lab, tau=0.5, hard=True)
        discriminator_step(D, opt_d, real, fake, lab)
        fake = G(torch.randn(batch, 32, device=device), lab, tau=0.5, hard=True)
        g_loss = generator_loss(D(fake, lab))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        g_loss.item()
    return step


WORKLOADS = {
    "03 DCGAN step (base 64, batch 128)": (dcgan_step, {}),
    "05 conditional GAN step (base 32, batch 64)": (dcgan_step, {"base": 32, "batch": 64, "conditional": True}),
    "05 SmallCNN classifier step (batch 64)": (classifier_step, {}),
    "09 tabular cGAN step (batch 128)": (tabular_step, {}),
}


def variants(device: torch.device, cores: int) -> dict[str, dict]:
    """Setting name -> (threads, keyword arguments). The first is the baseline."""
    found = {"baseline (DataLoader per item, all usable CPUs)": dict(threads=cores)}
    if device.type == "cpu" and cores > 1:
        found["1 thread"] = dict(threads=1)
    found["batch slicing instead of per-item DataLoader"] = dict(threads=cores, per_item=False)
    found["channels-last"] = dict(threads=cores, channels_last=True)
    found["fused Adam"] = dict(threads=cores, fused=True)
    if device.type == "cuda":
        found["bf16 autocast"] = dict(threads=cores, autocast=True)
    return found


def time_step(step, device, seconds: float, repeats: int) -> float:
    """Median milliseconds per step over ``repeats`` runs of at least ``seconds`` each (after a warm-up)."""
    def timed_run(min_seconds):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start, steps = time.perf_counter(), 0
        while time.perf_counter() - start < min_seconds:
            step()
            steps += 1
            if device.type == "cuda" and steps % 10 == 0:
                torch.cuda.synchronize()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps * 1000

    timed_run(seconds / 3)
    return statistics.median(timed_run(seconds) for _ in range(repeats))


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy_cpus(n: int):
    """``n`` processes that keep one CPU each busy (another program competing for the cores)."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.5, help="minimum length of one timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0, help="CPUs kept busy by other processes meanwhile")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    cores = usable_cpus()
    settings = variants(device, cores)
    print(f"device {device}, {cores} usable CPUs, torch {torch.__version__}; ms per step, median of {args.repeats}"
          f" runs of >= {args.seconds} s; the baseline is timed first and last, its faster time is used"
          f" (speed-up vs baseline in brackets); {args.busy} CPU(s) kept busy by other processes\n")
    print("| workload | " + " | ".join(settings) + " |")
    print("|---|" + "---|" * len(settings))
    with busy_cpus(args.busy):
        for name, (build, fixed) in WORKLOADS.items():
            def measure(setting):
                options = dict(setting)
                torch.set_num_threads(options.pop("threads"))
                torch.manual_seed(0)
                return time_step(build(device, **fixed, **options), device, args.seconds, args.repeats)

            timings = {label: measure(setting) for label, setting in settings.items()}
            baseline_label = next(iter(settings))
            baseline = timings[baseline_label] = min(timings[baseline_label], measure(settings[baseline_label]))
            cells = [f"{ms:.1f} ({baseline / ms:.2f}x)" for ms in timings.values()]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    torch.set_num_threads(cores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
