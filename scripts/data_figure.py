"""Draw DermaMNIST and BreastMNIST side by side, each labelled with its source (real or stand-in).

    python -m scripts.data_figure        # writes build/figures/data-sources.png

A quick look at what the data layer gives on this machine: real files where they were
found, procedural stand-ins (marked in red) where they were not.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils import plots  # noqa: E402
from utils.data import balanced_subset, load_medmnist  # noqa: E402


def montage(ax, flag: str, per_class: int = 8) -> None:
    data = balanced_subset(load_medmnist(flag, "train"), per_class=per_class, seed=0)
    data = data.take(data.y.argsort(stable=True))  # one row per class
    grid = plots.image_grid(data.x, nrow=per_class)
    ax.imshow(grid.axes[0].images[0].get_array(), cmap="gray" if data.n_channels == 1 else None)
    plt.close(grid)
    ax.set_title(f"{flag} ({data.source}): {per_class} per class, one row per class\n"
                 + "; ".join(data.class_names), fontsize=8, color="red" if data.source == "stand-in" else "black")
    ax.axis("off")


def main() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 7), layout="constrained")
    montage(axes[0], "dermamnist")
    montage(axes[1], "breastmnist")
    print(plots.save_figure(fig, "data-sources"))


if __name__ == "__main__":
    main()
