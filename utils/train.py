"""Training machinery shared by the notebooks: losses, loops, sampling and checkpoints.

Notebook 02 has students write the GAN losses themselves; the reference versions here
serve the later notebooks. The loops follow the same rules everywhere:

* FAST mode (``COURSE_FAST=1``) caps each epoch at a few batches unless told otherwise;
* with ``seed=...`` a run is repeatable, and so is a run resumed from its checkpoint
  (the checkpoint carries the random-number state);
* checkpoints are written atomically, so an interrupted save never destroys the last
  good one, and a bad checkpoint fails with a message that says what to do.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from utils.runtime import get_device, pick, seed_everything
from utils.profiling import timed, timed_iter

GAN_LOSSES = ("ns", "hinge", "wgan")
FAST_MAX_BATCHES = 4


# ----------------------------------------------------------------------------- history
class History:
    """Numbers logged during training, one list per key, plus image snapshots.

    ``snapshots`` holds CPU tensors of generated samples (one per epoch when the loop
    is given fixed noise) for "samples over time" grids.
    """

    def __init__(self) -> None:
        self._values: dict[str, list[float]] = {}
        self.snapshots: list[torch.Tensor] = []

    def log(self, **values) -> None:
        """Append one value per key; tensors are turned into plain floats."""
        for key, value in values.items():
            number = value.item() if isinstance(value, torch.Tensor) else value
            self._values.setdefault(key, []).append(float(number))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self._values:
            raise KeyError(f"History has no {key!r}; logged keys: {self.keys()}")
        return self._values[key]

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def last(self, key: str) -> float:
        return self[key][-1]

    def keys(self) -> list[str]:
        return list(self._values)

    def as_dict(self) -> dict[str, list[float]]:
        """A JSON-ready copy of the logged numbers (snapshots left out)."""
        return {key: list(values) for key, values in self._values.items()}

    def state_dict(self) -> dict:
        return {"values": self.as_dict(), "snapshots": list(self.snapshots)}

    def load_state_dict(self, state: dict) -> None:
        self._values = {key: list(values) for key, values in state["values"].items()}
        self.snapshots = list(state["snapshots"])

    def __repr__(self) -> str:
        return f"History({', '.join(f'{k}: {len(v)}' for k, v in self._values.items())})"


# ----------------------------------------------------------------------------- losses
def _check_kind(kind: str) -> None:
    if kind not in GAN_LOSSES:
        raise ValueError(f"Unknown GAN loss {kind!r}: use one of {', '.join(GAN_LOSSES)}.")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       kind: str = "ns") -> torch.Tensor:
    """How far D is from telling real (high scores) from fake (low scores).

    ``ns``: binary cross-entropy on logits; ``hinge``: only scores on the wrong side of
    +-1 cost anything; ``wgan``: the critic maximises the score gap real - fake.
    """
    _check_kind(kind)
    if kind == "ns":
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return fake_logits.mean() - real_logits.mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "ns") -> torch.Tensor:
    """How far G is from fooling D.

    ``ns`` (non-saturating) maximises log D(G(z)) rather than minimising
    log(1 - D(G(z))), whose gradient vanishes exactly when G is losing. Hinge and WGAN
    generators simply raise the critic's score of their samples.
    """
    _check_kind(kind)
    if kind == "ns":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    return -fake_logits.mean()


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     labels: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP: mean (||grad_x D(x)|| - 1)^2 at random points between real and fake.

    Pushing the gradient norm towards 1 keeps the critic (softly) 1-Lipschitz, which
    the Wasserstein loss needs. ``create_graph=True`` lets the penalty itself be
    backpropagated into D's weights.
    """
    real, fake = real.detach(), fake.detach()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = D(mixed) if labels is None else D(mixed, labels)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = torch.sqrt(grad.flatten(1).pow(2).sum(dim=1) + 1e-12)  # eps: finite gradient at 0
    return (norms - 1).pow(2).mean()


# ----------------------------------------------------------------------------- checkpoints
class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the model it is loaded into."""


def save_checkpoint(path, **state) -> Path:
    """Save ``state`` to ``path`` atomically; objects with ``state_dict()`` are saved as such.

    The file is written next to its destination and moved into place with
    ``os.replace``, so a save interrupted half-way leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {k: v.state_dict() if hasattr(v, "state_dict") else v for k, v in state.items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}: train first, or check the path.")
    try:
        # weights_only=False can run arbitrary pickled code: use it only on checkpoints
        # this course wrote (save_checkpoint), never on a file downloaded from elsewhere.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (corrupt or truncated, perhaps an "
            f"interrupted save from an older version): {type(err).__name__}: {err}. "
            "Delete it or pass a new path to retrain."
        ) from err
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path} holds a {type(state).__name__}, not a course checkpoint. "
            "Delete it or pass a new path to retrain."
        )
    return state


def _check_module_fits(path: Path, name: str, module: nn.Module, saved: dict) -> None:
    """Name the first key that differs, so a changed architecture is easy to spot."""
    current = module.state_dict()
    for key, tensor in current.items():
        if key not in saved:
            raise CheckpointError(
                f"Checkpoint {path} does not match {name} ({type(module).__name__}): the model has "
                f"{key!r} {tuple(tensor.shape)} but the checkpoint lacks it. Was it saved from a "
                "different architecture? Delete it or pass a new path to retrain."
            )
        if tuple(saved[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"Checkpoint {path} does not match {name} ({type(module).__name__}): {key!r} has "
                f"shape {tuple(saved[key].shape)} in the checkpoint but {tuple(tensor.shape)} in "
                "the model. Build the model with the settings used for training, or delete the "
                "checkpoint / pass a new path to retrain."
            )
    unexpected = [key for key in saved if key not in current]
    if unexpected:
        raise CheckpointError(
            f"Checkpoint {path} does not match {name} ({type(module).__name__}): the checkpoint "
            f"has {unexpected[0]!r} {tuple(saved[unexpected[0]].shape)} which the model lacks. "
            "Delete it or pass a new path to retrain."
        )


def load_checkpoint(path, **objects) -> dict:
    """Load ``path`` into the given modules / optimizers / History; return the whole state.

    Example: ``state = load_checkpoint(p, G=G, D=D)`` then ``state["epoch"]``.
    """
    path = Path(path)
    state = _read_checkpoint(path)
    for name, obj in objects.items():
        if name not in state:
            raise CheckpointError(
                f"Checkpoint {path} has no {name!r} (it holds: {', '.join(state)}). "
                "Delete it or pass a new path to retrain."
            )
        if isinstance(obj, nn.Module):
            _check_module_fits(path, name, obj, state[name])
        try:
            obj.load_state_dict(state[name])
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(
                f"Checkpoint {path}: could not load {name!r}: {err}. "
                "Delete it or pass a new path to retrain."
            ) from err
    return state


def _rng_state() -> dict:
    """Torch's random state, so a resumed run draws the same noise and shuffles."""
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ----------------------------------------------------------------------------- helpers
def _resolve_device(device) -> torch.device:
    return torch.device(device) if device is not None else get_device()


def _batch_cap(max_batches: int | None) -> int | None:
    """``None`` means "every batch", except in FAST mode where epochs are a few batches."""
    return max_batches if max_batches is not None else pick(FAST_MAX_BATCHES, None)


def _batches(loader, cap: int | None):
    """The loader's batches (at most ``cap``); time spent fetching them counts as data loading."""
    for i, batch in enumerate(timed_iter("data loading", loader)):
        if cap is not None and i >= cap:
            return
        yield batch


def _cpu_layout(x: torch.Tensor) -> torch.Tensor:
    """Image batches in channels-last memory order on the CPU, where the classifiers'
    convolutions train about 1.4x faster that way (``python -m benchmarks.speedups``)."""
    if x.device.type == "cpu" and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def _split_batch(batch) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Loaders yield ``(inputs, labels)``; a bare tensor means unlabelled data."""
    if isinstance(batch, (list, tuple)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _call(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None, **kwargs) -> torch.Tensor:
    return model(x, **kwargs) if labels is None else model(x, labels, **kwargs)


def _resume(checkpoint, **objects) -> dict:
    """Load ``checkpoint`` into ``objects`` if it exists; return its state (``{}`` if none)."""
    if checkpoint is None or not Path(checkpoint).exists():
        return {}
    state = load_checkpoint(checkpoint, **objects)
    _set_rng_state(state["rng"])
    print(f"Resumed from {checkpoint} at epoch {state['epoch']}.")
    return state


# ----------------------------------------------------------------------------- GAN loop
def discriminator_step(D, opt_d, real, fake, labels=None, *, loss: str = "ns", gp_weight: float = 10.0) -> dict:
    """One discriminator update on real and generated inputs (``fake`` is detached here).

    Returns the loss and D's mean score on real and fake: probabilities for ``"ns"``,
    raw critic scores otherwise. ``"wgan"`` adds the gradient penalty.
    """
    fake = fake.detach()
    real_logits = _call(D, real, labels)
    fake_logits = _call(D, fake, labels)
    d_loss = discriminator_loss(real_logits, fake_logits, loss)
    if loss == "wgan":
        d_loss = d_loss + gp_weight * gradient_penalty(D, real, fake, labels)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    score = torch.sigmoid if loss == "ns" else (lambda t: t)
    return {"d_loss": d_loss.item(), "d_real": score(real_logits.detach()).mean().item(),
            "d_fake": score(fake_logits.detach()).mean().item()}


def _gan_step(G, D, opt_g, opt_d, real, labels, *, latent_dim, loss, gp_weight, update_g):
    """One discriminator update, then (if ``update_g``) one generator update."""
    z = torch.randn(real.shape[0], latent_dim, device=real.device)
    values = discriminator_step(D, opt_d, real, _call(G, z, labels), labels, loss=loss, gp_weight=gp_weight)
    if update_g:
        z = torch.randn(real.shape[0], latent_dim, device=real.device)
        g_loss = generator_loss(_call(D, _call(G, z, labels), labels), loss)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        values["g_loss"] = g_loss.item()
    return values


def _snapshot(G: nn.Module, snapshot_noise, device: torch.device) -> torch.Tensor:
    z, labels = snapshot_noise if isinstance(snapshot_noise, (list, tuple)) else (snapshot_noise, None)
    G.eval()
    with torch.no_grad():
        out = _call(G, z.to(device), None if labels is None else labels.to(device))
    G.train()
    return out.cpu()


@timed("training")
def train_gan(G: nn.Module, D: nn.Module, loader, *, epochs: int, latent_dim: int, loss: str = "ns",
              lr_g: float = 2e-4, lr_d: float = 2e-4, betas=(0.5, 0.999), n_critic: int = 1,
              gp_weight: float = 10.0, conditional: bool = False, device=None,
              max_batches: int | None = None, snapshot_noise=None, checkpoint=None,
              progress: bool = True, seed: int | None = None, opt_g=None, opt_d=None,
              cpu_seconds: float | None = None) -> History:
    """Train a GAN and return its History.

    Every batch updates D once; G is updated every ``n_critic``-th D step, so with
    ``n_critic > 1`` the ``g_loss`` list is shorter than ``d_loss`` / ``d_real`` /
    ``d_fake``. ``d_real`` / ``d_fake`` are D's mean probability on real / fake for
    ``loss="ns"`` and the mean raw critic score otherwise. ``loss="wgan"`` adds the
    gradient penalty (weight ``gp_weight``); pair it with a discriminator without
    BatchNorm. ``conditional=True`` passes each batch's labels to G and D, and
    ``snapshot_noise`` is then a ``(z, labels)`` tuple. With ``checkpoint`` set, the
    run saves after every epoch and resumes from that file when it exists. ``cpu_seconds``
    stops training, mid-epoch if need be, once this process has used that much CPU time
    (``time.process_time``), so models given the same budget are compared at equal cost;
    ``epochs`` is then an upper bound.
    """
    _check_kind(loss)
    if cpu_seconds is not None and cpu_seconds <= 0:
        raise ValueError(f"cpu_seconds must be > 0, got {cpu_seconds}.")
    deadline = None if cpu_seconds is None else time.process_time() + cpu_seconds
    if n_critic < 1:
        raise ValueError(f"n_critic must be >= 1, got {n_critic}.")
    if seed is not None:
        seed_everything(seed)
    device = _resolve_device(device)
    G.to(device).train()
    D.to(device).train()
    if opt_g is None:
        opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    if opt_d is None:
        opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    history = History()
    start = _resume(checkpoint, G=G, D=D, opt_g=opt_g, opt_d=opt_d, history=history).get("epoch", 0)
    cap = _batch_cap(max_batches)
    d_steps = len(history["d_loss"]) if "d_loss" in history else 0

    bar = tqdm(range(start, epochs), desc="GAN", initial=start, total=epochs, disable=not progress)
    for epoch in bar:
        for batch in _batches(loader, cap):
            if deadline is not None and time.process_time() >= deadline:
                break
            real, labels = _split_batch(batch)
            if conditional and labels is None:
                raise ValueError("conditional=True needs a loader that yields (inputs, labels).")
            real = real.to(device)
            labels = labels.to(device) if conditional else None
            d_steps += 1
            history.log(**_gan_step(G, D, opt_g, opt_d, real, labels, latent_dim=latent_dim,
                                    loss=loss, gp_weight=gp_weight, update_g=d_steps % n_critic == 0))
        if snapshot_noise is not None:
            history.snapshots.append(_snapshot(G, snapshot_noise, device))
        if checkpoint is not None:
            save_checkpoint(checkpoint, G=G, D=D, opt_g=opt_g, opt_d=opt_d, history=history,
                            epoch=epoch + 1, rng=_rng_state())
        bar.set_postfix({k: f"{history.last(k):.3f}" for k in ("d_loss", "g_loss") if k in history})
        if deadline is not None and time.process_time() >= deadline:
            break
    return history


# ----------------------------------------------------------------------------- classifier
def _balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present: a rare disease counts as much as a common one."""
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    return float(np.mean(recalls)) if recalls else float("nan")


def _run_epoch(model, loader, criterion, device, cap, optimizer=None) -> dict:
    """One pass over ``loader``: trains when given an optimizer, else evaluates without grad."""
    training = optimizer is not None
    model.train(training)
    total_loss, targets, preds = 0.0, [], []
    with torch.set_grad_enabled(training):
        for batch in _batches(loader, cap):
            x, y = (t.to(device) for t in _split_batch(batch))
            logits = model(_cpu_layout(x))
            loss = criterion(logits, y)
            if training:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * y.shape[0]
            targets.append(y.cpu())
            preds.append(logits.argmax(dim=1).cpu())
    if not targets:
        raise ValueError("The loader yielded no batches.")
    y_true, y_pred = torch.cat(targets).numpy(), torch.cat(preds).numpy()
    return {
        "loss": total_loss / len(y_true),
        "acc": float(np.mean(y_true == y_pred)),
        "balanced_acc": _balanced_accuracy(y_true, y_pred),
    }


@timed("training")
def train_classifier(model: nn.Module, train_loader, val_loader=None, *, epochs: int, lr: float = 1e-3,
                     weight_decay: float = 0.0, class_weights=None, device=None,
                     max_batches: int | None = None, checkpoint=None, progress: bool = True,
                     patience: int | None = None) -> History:
    """Train a classifier with AdamW + cross-entropy; log per-epoch metrics.

    Logs ``train_loss``, ``train_acc`` and, with ``val_loader``, ``val_loss``,
    ``val_acc``, ``val_balanced_acc``. ``class_weights`` reweights the loss for
    imbalanced data. With ``patience``, training stops after that many epochs without
    a lower ``val_loss`` and the best epoch's weights are put back into ``model``.
    On the CPU the model trains channels-last (faster convolutions, the same results up to
    rounding) and is handed back in the ordinary layout.
    """
    if patience is not None and val_loader is None:
        raise ValueError("patience needs a val_loader to decide which epoch is best.")
    device = _resolve_device(device)
    model.to(device, memory_format=torch.channels_last if device.type == "cpu" else torch.preserve_format)
    if class_weights is not None:
        class_weights = torch.as_tensor(class_weights, dtype=torch.float32, device=device)
    criterion = nn.CrossEntropyLoss(weight=class_weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    resumed = _resume(checkpoint, model=model, optimizer=optimizer, history=history)
    start, best_state = resumed.get("epoch", 0), resumed.get("best_state")
    cap = _batch_cap(max_batches)
    best_loss = min(history["val_loss"]) if "val_loss" in history else float("inf")

    bar = tqdm(range(start, epochs), desc="classifier", initial=start, total=epochs, disable=not progress)
    for epoch in bar:
        if patience is not None and "val_loss" in history and _epochs_since_best(history) >= patience:
            break  # checked first so a resumed run that had already stopped stays stopped
        train = _run_epoch(model, train_loader, criterion, device, cap, optimizer)
        history.log(train_loss=train["loss"], train_acc=train["acc"])
        if val_loader is not None:
            val = _run_epoch(model, val_loader, criterion, device, cap)
            history.log(val_loss=val["loss"], val_acc=val["acc"], val_balanced_acc=val["balanced_acc"])
            if patience is not None and val["loss"] < best_loss:
                best_loss = val["loss"]
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        if checkpoint is not None:
            save_checkpoint(checkpoint, model=model, optimizer=optimizer, history=history,
                            epoch=epoch + 1, rng=_rng_state(), best_state=best_state)
        bar.set_postfix({k: f"{history.last(k):.3f}" for k in ("train_loss", "val_acc") if k in history})
    bar.close()
    if patience is not None and best_state is not None:
        model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format)
    return history


def _epochs_since_best(history: History) -> int:
    losses = history["val_loss"]
    return len(losses) - 1 - int(np.argmin(losses))


# ----------------------------------------------------------------------------- inference
def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@timed("evaluation")
def predict(model: nn.Module, loader, device=None,
            max_batches: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y_true, probs)``: labels and softmax class probabilities as NumPy arrays.

    Runs in eval mode (dropout off, BatchNorm running statistics) without gradients,
    on the model's own device unless ``device`` is given; the model's mode is restored.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.to(device).eval()
    targets, probs = [], []
    with torch.no_grad():
        for batch in _batches(loader, max_batches):
            x, y = _split_batch(batch)
            probs.append(torch.softmax(model(x.to(device)), dim=1).cpu())
            targets.append(y.cpu())
    model.train(was_training)
    return torch.cat(targets).numpy(), torch.cat(probs).numpy()


@timed("evaluation")
def sample(G: nn.Module, n: int, latent_dim: int, labels=None, device=None, batch: int = 512,
           seed: int | None = None, **kwargs) -> torch.Tensor:
    """Draw ``n`` samples from ``G`` in eval mode; returns a CPU tensor.

    ``labels`` is one class for all samples (int) or a tensor of ``n`` labels. With
    ``seed``, all randomness (z, and noise inside G such as Gumbel draws) comes from a
    forked random state: the same seed gives the same samples and the caller's random
    state is left alone. Extra keyword arguments go to ``G`` (e.g. ``hard=True`` for
    ``TabularGenerator``).
    """
    device = torch.device(device) if device is not None else _model_device(G)
    if isinstance(labels, int):
        labels = torch.full((n,), labels, dtype=torch.long)
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but n={n} samples were asked for.")
    was_training = G.training
    G.to(device).eval()
    chunks = []
    forked = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked, enabled=seed is not None), torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        z = torch.randn(n, latent_dim)  # drawn on the CPU: the same seed gives the same z on any device
        for start in range(0, n, batch):
            chunk_labels = None if labels is None else labels[start:start + batch].to(device)
            chunks.append(_call(G, z[start:start + batch].to(device), chunk_labels, **kwargs).cpu())
    G.train(was_training)
    return torch.cat(chunks)
