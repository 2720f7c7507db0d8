"""Patient records as GAN inputs: encode a clinical table, train a tabular GAN, sample records.

A record mixes continuous columns (age, creatinine) and categorical ones (sex, a risk
group). A GAN needs one fixed-width vector of floats per record, so ``RecordEncoder``
lays every record out as ``[continuous..., one-hot block per categorical column]``,
the layout ``utils.models.TabularGenerator`` produces:

* continuous columns: missing values get the training median, then a quantile
  transform to a standard normal (skewed lab values become bell-shaped, which an MLP
  with a linear output head can match);
* categorical columns (the target too): one-hot over the levels seen in training;
  a missing value gets the most frequent training level, an unseen level is an error.

``train_tabular_gan`` trains ``TabularGenerator`` / ``TabularDiscriminator`` on the
encoded rows (optionally conditioned on an integer per row, e.g. the outcome) and
``sample_records`` decodes generated rows back into a DataFrame.
"""
from __future__ import annotations

from collections.abc import Callable

import contextlib

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from utils.data import TableSchema
from utils.models import TabularDiscriminator, TabularGenerator
from utils.profiling import timed
from utils.runtime import get_device, pick, seed_everything
from utils.train import History, discriminator_step, generator_loss

FAST_MAX_BATCHES = 4
_MAX_DECIMALS = 6


def _decimals(values: np.ndarray) -> int:
    """Fewest decimals (up to 6) that represent 99% of the values: generated values are rounded to it."""
    for d in range(_MAX_DECIMALS + 1):
        if np.mean(np.isclose(np.round(values, d), values, rtol=0, atol=1e-9)) >= 0.99:
            return d
    return _MAX_DECIMALS


class RecordEncoder:
    """Encode records as ``[continuous..., one-hot per categorical]`` float32 rows, and back.

    ``columns`` defaults to ``schema.features + [schema.target]``. Columns the schema lists
    as continuous are quantile-transformed; categorical columns and the target are one-hot.
    Continuous columns come first (in ``columns`` order), then the categorical blocks (in
    ``columns`` order): see ``blocks``. After ``fit`` the pieces are public so a notebook can
    rebuild the encoding by hand: ``medians_`` (Series), ``quantile_`` (a fitted
    ``sklearn.preprocessing.QuantileTransformer`` over ``continuous``, or None), ``levels_``
    (column -> list of levels) and ``dtypes_`` (column -> original dtype).
    """

    def __init__(self, schema: TableSchema, columns: list[str] | None = None):
        self.schema = schema
        columns = list(columns) if columns is not None else schema.features + [schema.target]
        if not columns:
            raise ValueError("RecordEncoder needs at least one column.")
        if len(set(columns)) != len(columns):
            raise ValueError(f"columns contains duplicates: {columns}")
        continuous, categorical = [], []
        for column in columns:
            if column in schema.continuous:
                continuous.append(column)
            elif column in schema.categorical or column == schema.target or column == schema.sensitive:
                categorical.append(column)
            else:
                raise ValueError(
                    f"column {column!r} is neither continuous nor categorical in the schema "
                    f"(continuous: {list(schema.continuous)}, categorical: {list(schema.categorical)}).")
        self.columns = columns
        self.continuous, self.categorical = continuous, categorical
        self.quantile_ = None
        self.medians_: pd.Series | None = None
        self.levels_: dict[str, list] = {}
        self.modes_: dict[str, object] = {}
        self.dtypes_: dict[str, object] = {}
        self.decimals_: dict[str, int] = {}
        self._fitted = False

    # ------------------------------------------------------------------ layout
    @property
    def n_continuous(self) -> int:
        return len(self.continuous)

    @property
    def categorical_sizes(self) -> list[int]:
        self._check_fitted()
        return [len(self.levels_[c]) for c in self.categorical]

    @property
    def width(self) -> int:
        return self.n_continuous + sum(self.categorical_sizes)

    @property
    def blocks(self) -> list[tuple[str, str, int, int]]:
        """``(column, kind, start, stop)`` for every column: its slice of an encoded row."""
        self._check_fitted()
        out = [(c, "continuous", i, i + 1) for i, c in enumerate(self.continuous)]
        start = self.n_continuous
        for column, size in zip(self.categorical, self.categorical_sizes):
            out.append((column, "categorical", start, start + size))
            start += size
        return out

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError("RecordEncoder is not fitted yet: call encoder.fit(train_frame) first.")

    def _check_frame(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"frame lacks columns {missing}; it has {list(frame.columns)}")

    # ------------------------------------------------------------------ fit / transform
    def fit(self, frame: pd.DataFrame) -> "RecordEncoder":
        """Learn medians, quantiles, levels and dtypes from the (training) frame."""
        from sklearn.preprocessing import QuantileTransformer

        self._check_frame(frame)
        if len(frame) < 2:
            raise ValueError(f"fit needs at least 2 rows, got {len(frame)}.")
        self.dtypes_ = {c: frame[c].dtype for c in self.columns}
        if self.continuous:
            values = frame[self.continuous].astype(float)
            self.medians_ = values.median()
            empty = [c for c in self.continuous if np.isnan(self.medians_[c])]
            if empty:
                raise ValueError(f"continuous columns {empty} have no values in the training frame.")
            filled = values.fillna(self.medians_).to_numpy()
            self.quantile_ = QuantileTransformer(output_distribution="normal",
                                                 n_quantiles=min(1000, len(frame)), random_state=0)
            self.quantile_.fit(filled)
            self.decimals_ = {c: _decimals(filled[:, i]) for i, c in enumerate(self.continuous)}
        for column in self.categorical:
            present = frame[column].dropna()
            levels = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(present)]
            try:
                levels = sorted(levels)
            except TypeError:
                levels = sorted(levels, key=str)
            if len(levels) < 2:
                raise ValueError(f"categorical column {column!r} has {len(levels)} level(s) in training; "
                                 "a one-hot block needs at least 2 (drop the column).")
            self.levels_[column] = levels
            self.modes_[column] = present.mode().iloc[0]
        self._fitted = True
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """(N rows) -> (N, width) float32 array in the layout of ``blocks``."""
        self._check_fitted()
        self._check_frame(frame)
        parts = []
        if self.continuous:
            values = frame[self.continuous].astype(float).fillna(self.medians_).to_numpy()
            parts.append(self.quantile_.transform(values))
        for column in self.categorical:
            levels = self.levels_[column]
            values = frame[column]
            codes = pd.Index(levels, dtype=object).get_indexer(values.astype(object))
            unknown = (codes < 0) & values.notna().to_numpy()
            if unknown.any():
                level = values[unknown].iloc[0]
                raise ValueError(f"column {column!r} has level {level!r}, unseen in training "
                                 f"(known levels: {levels}).")
            if (codes < 0).any():  # missing values: the most frequent training level
                codes = np.where(codes < 0, levels.index(self.modes_[column]), codes)
            parts.append(np.eye(len(levels), dtype=np.float32)[codes])
        return np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((len(frame), 0), np.float32)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).transform(frame)

    def inverse_transform(self, array) -> pd.DataFrame:
        """(N, width) rows (soft one-hots allowed: argmax) -> DataFrame with the original columns and dtypes.

        Continuous values are rounded to the precision of 99% of the training values (ages stay
        whole years).
        """
        self._check_fitted()
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self.width:
            raise ValueError(f"expected an array of shape (N, {self.width}), got {array.shape}")
        out = {}
        if self.continuous:
            values = self.quantile_.inverse_transform(array[:, : self.n_continuous])
            for i, column in enumerate(self.continuous):
                out[column] = self._restore(column, np.round(values[:, i], self.decimals_[column]))
        for column, _, start, stop in self.blocks[self.n_continuous:]:
            levels = np.empty(len(self.levels_[column]), dtype=object)
            levels[:] = self.levels_[column]
            out[column] = self._restore(column, levels[np.argmax(array[:, start:stop], axis=1)])
        return pd.DataFrame({c: out[c] for c in self.columns})

    def _restore(self, column: str, values: np.ndarray) -> pd.Series:
        dtype = self.dtypes_[column]
        try:
            return pd.Series(values).astype(dtype)
        except (TypeError, ValueError):
            return pd.Series(values)

    def __repr__(self) -> str:
        state = f"width={self.width}" if self._fitted else "not fitted"
        return (f"RecordEncoder({len(self.continuous)} continuous, {len(self.categorical)} categorical, "
                f"{state})")


# ----------------------------------------------------------------------------- training
DStep = Callable[..., dict]


def _conditions(condition, n_rows: int, n_conditions: int) -> tuple[torch.Tensor | None, int]:
    if condition is None:
        if n_conditions:
            raise ValueError(f"n_conditions={n_conditions} but no condition array was given.")
        return None, 0
    cond = np.asarray(condition)
    if cond.shape != (n_rows,):
        raise ValueError(f"condition must hold one integer per row, shape ({n_rows},); got {cond.shape}.")
    if not np.issubdtype(cond.dtype, np.integer) or (cond < 0).any():
        raise ValueError("condition must hold non-negative integers (e.g. the 0/1 outcome, or group*2+label).")
    n_conditions = n_conditions or int(cond.max()) + 1
    if cond.max() >= n_conditions:
        raise ValueError(f"condition holds {int(cond.max())} but n_conditions={n_conditions}.")
    return torch.as_tensor(cond, dtype=torch.long), n_conditions


@contextlib.contextmanager
def cpu_threads(n: int | None):
    """Run a block with ``n`` torch CPU threads (None: leave as is), then restore the setting.

    The tabular networks are tiny: one thread is as fast as several, and on a busy
    2-core machine more threads can make every step many times slower.
    """
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@timed("training")
def train_tabular_gan(encoder: RecordEncoder, frame: pd.DataFrame, *, epochs: int, condition=None,
                      n_conditions: int = 0, latent_dim: int = 32, hidden: int = 128,
                      batch_size: int = 256, lr: float = 2e-4, seed: int = 0, device=None,
                      progress: bool = True, max_batches: int | None = None, loss: str = "ns",
                      tau: float = 0.5, d_step: DStep | None = None,
                      return_discriminator: bool = False, threads: int | None = 1, on_epoch=None):
    """Train a tabular GAN on ``frame`` (encoded with the fitted ``encoder``); return ``(G, History)``.

    Loss: non-saturating by default (``loss="ns"``; ``"hinge"`` and ``"wgan"`` with gradient
    penalty also work), Adam(lr, betas=(0.5, 0.999)), one D and one G update per batch.
    During training the generator's categorical heads are straight-through Gumbel-softmax
    samples (``hard=True``): exact one-hots forward, soft gradients backward, so D cannot
    spot fakes by their non-binary entries. ``condition`` (one int per row) makes both
    networks conditional; the generator remembers the training frequency of each
    condition (``G.condition_counts``) for ``sample_records``. FAST mode caps every epoch
    at a few batches unless ``max_batches`` says otherwise. ``d_step(D, opt_d, real, fake,
    labels) -> dict`` replaces the discriminator update (``utils.privacy`` passes a DP-SGD
    step); with ``return_discriminator=True`` the result is ``(G, D, History)``. ``threads``
    torch CPU threads are used while training (see ``cpu_threads``). ``on_epoch(epoch, G, D)``
    is called after every epoch (1-based), e.g. to measure leakage as training goes on.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}.")
    device = torch.device(device) if device is not None else get_device()
    X = torch.as_tensor(encoder.transform(frame))
    labels, n_conditions = _conditions(condition, len(frame), n_conditions)
    seed_everything(seed)
    G = TabularGenerator(latent_dim, encoder.n_continuous, encoder.categorical_sizes, hidden=hidden,
                         n_classes=n_conditions).to(device)
    D = TabularDiscriminator(encoder.width, hidden=hidden, n_classes=n_conditions).to(device)
    G.condition_counts = None if labels is None else np.bincount(labels.numpy(), minlength=n_conditions)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    d_step = d_step or (lambda D_, opt, real, fake, lab: discriminator_step(D_, opt, real, fake, lab, loss=loss))
    cap = max_batches if max_batches is not None else pick(FAST_MAX_BATCHES, None)
    X = X.to(device)
    labels = labels.to(device) if labels is not None else None
    shuffler = torch.Generator().manual_seed(seed)
    history = History()
    with cpu_threads(threads if device.type == "cpu" else None):
        _loop(G, D, opt_g, opt_d, X, labels, d_step, history, epochs=epochs, batch_size=batch_size,
              latent_dim=latent_dim, tau=tau, loss=loss, cap=cap, shuffler=shuffler, progress=progress,
              on_epoch=on_epoch)
    G.eval()
    D.eval()
    return (G, D, history) if return_discriminator else (G, history)


def _loop(G, D, opt_g, opt_d, X, labels, d_step, history, *, epochs, batch_size, latent_dim, tau, loss,
          cap, shuffler, progress, on_epoch) -> None:
    device = X.device
    for epoch in tqdm(range(epochs), desc="tabular GAN", disable=not progress):
        order = torch.randperm(len(X), generator=shuffler)
        for b, start in enumerate(range(0, len(X), batch_size)):
            if cap is not None and b >= cap:
                break
            idx = order[start:start + batch_size].to(device)
            real, lab = X[idx], (labels[idx] if labels is not None else None)
            z = torch.randn(len(idx), latent_dim, device=device)
            fake = G(z, lab, tau=tau, hard=True) if lab is not None else G(z, tau=tau, hard=True)
            values = d_step(D, opt_d, real, fake.detach(), lab)
            z = torch.randn(len(idx), latent_dim, device=device)
            fake = G(z, lab, tau=tau, hard=True) if lab is not None else G(z, tau=tau, hard=True)
            g_loss = generator_loss(D(fake) if lab is None else D(fake, lab), loss)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            history.log(**values, g_loss=g_loss.item())
        if on_epoch is not None:
            G.eval()
            D.eval()
            on_epoch(epoch + 1, G, D)
            G.train()
            D.train()


@timed("evaluation")
def sample_records(G: TabularGenerator, encoder: RecordEncoder, n: int, condition=None, seed: int = 0,
                   device=None) -> pd.DataFrame:
    """Draw ``n`` synthetic records (hard one-hot categoricals) and decode them into a DataFrame.

    For a conditional G, ``condition`` is one int for all rows or an array of ``n`` ints;
    left out, conditions are drawn with their training frequencies. The same ``seed``
    gives the same records; the caller's random state is left alone.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    device = torch.device(device) if device is not None else next(G.parameters()).device
    labels = None
    if G.n_classes:
        if condition is None:
            counts = getattr(G, "condition_counts", None)
            p = None if counts is None else counts / counts.sum()
            condition = np.random.default_rng(seed).choice(G.n_classes, size=n, p=p)
        cond = np.full(n, condition) if np.ndim(condition) == 0 else np.asarray(condition)
        if cond.shape != (n,):
            raise ValueError(f"condition must be one int or {n} ints, got shape {cond.shape}.")
        labels = torch.as_tensor(cond, dtype=torch.long)
    elif condition is not None:
        raise ValueError("this generator is unconditional: leave condition=None.")
    was_training = G.training
    G.eval()
    rows = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), torch.no_grad():
        torch.manual_seed(seed)
        z = torch.randn(n, G.latent_dim)
        for start in range(0, n, 1024):
            lab = None if labels is None else labels[start:start + 1024].to(device)
            zz = z[start:start + 1024].to(device)
            rows.append((G(zz, hard=True) if lab is None else G(zz, lab, hard=True)).cpu())
    G.train(was_training)
    return encoder.inverse_transform(torch.cat(rows).numpy())


def split_frame(frame: pd.DataFrame, test_size: float = 0.3, seed: int = 0,
                stratify: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reproducible train/test split (stratified on ``stratify`` if given), indexes reset."""
    from sklearn.model_selection import train_test_split

    strata = frame[stratify] if stratify is not None else None
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=strata)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def features_and_labels(encoder: RecordEncoder, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Encoded features (every column but the target) and the 0/1 outcome, for a downstream classifier.

    The target's one-hot block is dropped from the encoded row; labels are
    ``frame[target] == schema.positive``.
    """
    target = encoder.schema.target
    X = encoder.transform(frame)
    keep = np.ones(X.shape[1], dtype=bool)
    for column, _, start, stop in encoder.blocks:
        if column == target:
            keep[start:stop] = False
    y = (frame[target] == encoder.schema.positive).to_numpy().astype(np.int64)
    return X[:, keep], y


# ----------------------------------------------------------------------------- fidelity
def ks_statistic(a, b) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between two empirical CDFs (0 = same, 1 = disjoint)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    if a.size == 0 or b.size == 0:
        raise ValueError("ks_statistic needs two non-empty samples")
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def total_variation(a, b) -> float:
    """Total variation distance of two categorical samples: half the summed |difference in level shares|."""
    share_a = pd.Series(a).astype(str).value_counts(normalize=True)
    share_b = pd.Series(b).astype(str).value_counts(normalize=True)
    if share_a.empty or share_b.empty:
        raise ValueError("total_variation needs two non-empty samples")
    both = pd.concat([share_a, share_b], axis=1).fillna(0.0)
    return float(0.5 * np.abs(both.iloc[:, 0] - both.iloc[:, 1]).sum())


def fidelity_table(real: pd.DataFrame, synthetic: pd.DataFrame, encoder: RecordEncoder) -> pd.DataFrame:
    """Per column: KS statistic (continuous) or total variation (categorical), real (observed values) vs synthetic.

    Also reports the share of missing real values: those were imputed with the median
    before training, so the generator learned a spike the observed values do not have.
    """
    rows = []
    for column in encoder.columns:
        observed = real[column].dropna()
        if column in encoder.continuous:
            rows.append((column, "KS", ks_statistic(observed, synthetic[column].dropna())))
        else:
            rows.append((column, "TV", total_variation(observed, synthetic[column].dropna())))
    table = pd.DataFrame(rows, columns=["column", "metric", "value"]).set_index("column")
    table["missing_in_real"] = [float(real[c].isna().mean()) for c in table.index]
    return table


def correlation_gap(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Mean |difference| between the correlation matrices of the numeric columns both frames share."""
    numeric = [c for c in real.columns if c in synthetic.columns and pd.api.types.is_numeric_dtype(real[c])
               and pd.api.types.is_numeric_dtype(synthetic[c]) and not pd.api.types.is_bool_dtype(real[c])]
    if len(numeric) < 2:
        raise ValueError(f"need at least 2 shared numeric columns, got {numeric}")
    diff = np.abs(real[numeric].corr().to_numpy() - synthetic[numeric].corr().to_numpy())
    return float(np.nanmean(diff))


# ----------------------------------------------------------------------------- figures
def quantile_figure(raw, codes, column: str, source=None):
    """Histograms of one continuous column before and after the quantile transform."""
    import matplotlib.pyplot as plt

    from utils.plots import mark_source

    raw = pd.Series(raw).dropna().to_numpy(float)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    axes[0].hist(raw, bins=50, color="0.5")
    axes[0].set_title(f"{column}: raw values (skew {pd.Series(raw).skew():.1f})")
    axes[1].hist(np.asarray(codes, float), bins=50, color="tab:blue")
    axes[1].set_title(f"{column}: after the quantile transform")
    for ax in axes:
        ax.set_ylabel("patients")
    return mark_source(fig, source)


def auc_bars(values: dict, title: str = "", ylabel: str = "AUC on the real test set", source=None):
    """One bar per named AUC (grey for names containing 'TRTR', orange otherwise) and the chance line."""
    import matplotlib.pyplot as plt

    from utils.plots import mark_source

    if not values:
        raise ValueError("values must name at least one AUC")
    names, numbers = list(values), [float(v) for v in values.values()]
    fig, ax = plt.subplots(figsize=(1.5 * len(names) + 1, 3.2), layout="constrained")
    ax.bar(names, numbers, color=["0.5" if "TRTR" in n else "tab:orange" for n in names])
    ax.axhline(0.5, color="k", linestyle=":", label="chance")
    for i, v in enumerate(numbers):
        ax.text(i, v + 0.01, f"{v:.3f}", ha="center")
    ax.set_ylim(0.4, 1.0)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right")
    return mark_source(fig, source)
