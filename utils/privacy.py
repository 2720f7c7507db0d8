"""Privacy tools for synthetic records: DP-SGD in plain PyTorch and membership-inference attacks.

DP-SGD (Abadi et al., 2016) makes each training step insensitive to any single patient:

1. compute every sample's own gradient (``per_sample_gradients``: ``torch.func`` vmap+grad);
2. clip each sample's gradient to L2 norm ``max_norm`` C (over all parameters together);
3. sum, add Gaussian noise with standard deviation ``noise_multiplier * C``, divide by the batch.

``clip_and_noise`` does steps 2-3; ``dp_discriminator_step`` puts the three into a
discriminator update for ``utils.tabular.train_tabular_gan``. Only the discriminator reads
real records, so a generator trained against a DP discriminator is DP too (post-processing).
``epsilon`` accounts the privacy spent (Renyi DP of the subsampled Gaussian).

Attacks: a membership-inference attack guesses whether a record was in the training set.
``discriminator_scores`` (white-box: the attacker holds D) and ``distance_scores``
(black-box: the attacker holds only synthetic records) both return scores that are
higher for suspected members; ``utils.metrics.membership_inference_auc`` turns them into an AUC.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from utils.profiling import timed


# ----------------------------------------------------------------------------- DP-SGD
def per_sample_gradients(model: nn.Module, sample_loss, *batch: torch.Tensor, call=None) -> dict[str, torch.Tensor]:
    """Gradient of ``sample_loss`` for every sample separately: ``{name: (B, *param.shape)}``.

    ``sample_loss(forward, *rows)`` gets a function that runs ``model`` with the current
    parameters and the tensors of ONE sample (each with a leading batch dimension of 1)
    and returns a scalar. Implemented with ``torch.func.vmap(grad(...))``: one vectorized
    pass instead of a Python loop over samples. The model must not use BatchNorm (its
    statistics mix the samples of a batch, so "one sample's gradient" would not exist).
    ``call(params, *inputs)`` replaces ``functional_call(model, params, inputs)`` for models
    whose forward has data-dependent checks that vmap cannot trace.
    """
    from torch.func import functional_call, grad, vmap

    if not batch:
        raise ValueError("per_sample_gradients needs at least one batch tensor.")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        raise ValueError("per-sample gradients are undefined with BatchNorm; use a model without it.")
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def one(params, *rows):
        rows = tuple(r.unsqueeze(0) for r in rows)

        def forward(*inputs):
            if call is not None:
                return call({**params, **buffers}, *inputs)
            return functional_call(model, (params, buffers), inputs)

        return sample_loss(forward, *rows)

    return vmap(grad(one), in_dims=(None,) + (0,) * len(batch), randomness="different")(params, *batch)


def clip_and_noise(per_sample_grads, max_norm: float, noise_multiplier: float, generator=None):
    """Privatize a batch of per-sample gradients; returns one averaged gradient per parameter.

    ``per_sample_grads`` is a list (or dict) of tensors of shape ``(B, *param.shape)``. Each
    sample's gradient is scaled by ``min(1, C / ||g_i||)`` (its norm over all parameters
    together), the clipped gradients are summed, Gaussian noise of std ``noise_multiplier * C``
    is added to the sum, and the result is divided by ``B``.
    """
    names = list(per_sample_grads) if isinstance(per_sample_grads, dict) else None
    grads = [per_sample_grads[n] for n in names] if names else list(per_sample_grads)
    if max_norm <= 0 or noise_multiplier < 0:
        raise ValueError(f"need max_norm > 0 and noise_multiplier >= 0, got {max_norm}, {noise_multiplier}.")
    batch = grads[0].shape[0]
    norms = torch.sqrt(sum(g.reshape(batch, -1).pow(2).sum(dim=1) for g in grads))
    factor = torch.clamp(max_norm / (norms + 1e-12), max=1.0)
    out = []
    for g in grads:
        summed = (g * factor.view(-1, *([1] * (g.dim() - 1)))).sum(dim=0)
        noise = torch.randn(summed.shape, generator=generator, device=summed.device, dtype=summed.dtype)
        out.append((summed + noise_multiplier * max_norm * noise) / batch)
    return dict(zip(names, out)) if names else out


def _ns_pair_loss(forward, real, fake, *labels):
    """Per-sample non-saturating discriminator loss on one (real, fake) pair."""
    real_logit = forward(real, *labels)
    fake_logit = forward(fake, *labels)
    return (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
            + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))).sum()


def _tabular_d_call(D):
    """TabularDiscriminator's forward without its label checks (vmap cannot trace them)."""
    from torch.func import functional_call

    def call(params, x, labels=None):
        if labels is not None:
            x = torch.cat([x, F.embedding(labels, params["embed.weight"])], dim=1)
        net = {k[len("net."):]: v for k, v in params.items() if k.startswith("net.")}
        return functional_call(D.net, net, (x,)).squeeze(1)

    return call


def dp_discriminator_step(max_norm: float, noise_multiplier: float, privatize=clip_and_noise):
    """A DP-SGD discriminator update to pass as ``train_tabular_gan(..., d_step=...)``.

    Each (real_i, fake_i) pair's non-saturating loss gets its own gradient, which
    ``privatize(grads, max_norm, noise_multiplier)`` clips, noises and averages (pass your
    own function to use it in training). Logs ``d_loss``, ``d_real``, ``d_fake`` and
    ``clipped`` (the share of samples whose gradient was scaled down).
    """
    def step(D, opt_d, real, fake, labels):
        extra = () if labels is None else (labels,)
        call = _tabular_d_call(D) if hasattr(D, "net") and hasattr(D, "embed") else None
        grads = per_sample_gradients(D, _ns_pair_loss, real, fake.detach(), *extra, call=call)
        names = list(grads)
        batch = real.shape[0]
        norms = torch.sqrt(sum(g.reshape(batch, -1).pow(2).sum(dim=1) for g in grads.values()))
        private = privatize([grads[n] for n in names], max_norm, noise_multiplier)
        params = dict(D.named_parameters())
        for name, g in zip(names, private):
            params[name].grad = g.detach().to(params[name].dtype)
        opt_d.step()
        with torch.no_grad():
            real_logits = D(real, *extra)
            fake_logits = D(fake, *extra)
            d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                      + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        return {"d_loss": d_loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
                "d_fake": torch.sigmoid(fake_logits).mean().item(),
                "clipped": (norms > max_norm).float().mean().item()}

    return step


# ----------------------------------------------------------------------------- accounting
def _log_a(q: float, sigma: float, alpha: int) -> float:
    """log A_alpha for the sampled Gaussian mechanism, integer alpha (Mironov et al., 2019)."""
    if q == 1:  # no subsampling: the plain Gaussian mechanism
        return (alpha * alpha - alpha) / (2 * sigma**2)
    terms = [math.lgamma(alpha + 1) - math.lgamma(k + 1) - math.lgamma(alpha - k + 1)
             + k * math.log(q) + (alpha - k) * math.log1p(-q) + (k * k - k) / (2 * sigma**2)
             for k in range(alpha + 1)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def rdp(noise_multiplier: float, sample_rate: float, steps: int, orders=range(2, 257)) -> np.ndarray:
    """Renyi-DP of ``steps`` DP-SGD steps at each integer order (Poisson-sampled Gaussian)."""
    if not 0 < sample_rate <= 1:
        raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate}.")
    if noise_multiplier <= 0:
        return np.full(len(list(orders)), np.inf)
    return np.array([steps * _log_a(sample_rate, noise_multiplier, a) / (a - 1) for a in orders])


def epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float = 1e-5,
            orders=range(2, 257)) -> float:
    """The epsilon of (epsilon, delta)-DP after ``steps`` steps: min over orders of rdp + log(1/delta)/(a-1).

    ``sample_rate`` = batch size / training rows. An upper bound (the classic RDP
    conversion); it assumes Poisson sampling of batches, which shuffled batches approximate.
    ``inf`` without noise.
    """
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}.")
    if steps <= 0:
        return 0.0
    orders = list(orders)
    values = rdp(noise_multiplier, sample_rate, steps, orders)
    return float(np.min(values + math.log(1 / delta) / (np.array(orders) - 1)))


# ----------------------------------------------------------------------------- attacks
@timed("evaluation")
def discriminator_scores(D: nn.Module, records, labels=None, batch: int = 4096) -> np.ndarray:
    """White-box attack score: D's raw logit for each encoded record (higher = looks like training data)."""
    device = next(D.parameters()).device
    x = torch.as_tensor(np.asarray(records, dtype=np.float32))
    lab = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
    was_training = D.training
    D.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            xb = x[start:start + batch].to(device)
            out.append((D(xb) if lab is None else D(xb, lab[start:start + batch].to(device))).cpu())
    D.train(was_training)
    return torch.cat(out).numpy().astype(np.float64)


@timed("evaluation")
def distance_scores(candidates, synthetic, chunk: int = 1024) -> np.ndarray:
    """Black-box attack score: minus the distance from each candidate to its nearest synthetic record.

    A generator that memorised a patient emits records close to them, so members tend to
    sit closer to the synthetic set than non-members: higher score = suspected member.
    Use an encoded space (``RecordEncoder.transform``) so that every column counts.
    """
    from utils.metrics import nearest_neighbour_distances

    distances, _ = nearest_neighbour_distances(candidates, synthetic, chunk=chunk)
    return -distances


def chance_band(n_members: int, n_nonmembers: int) -> float:
    """Half-width of the range (about 95%) in which an attack AUC falls by luck alone.

    Two standard errors of the AUC when scores carry no information (Mann-Whitney):
    2 * sqrt((n1 + n2 + 1) / (12 n1 n2)). An AUC within 0.5 +- this is no evidence of leakage.
    """
    if n_members < 1 or n_nonmembers < 1:
        raise ValueError("chance_band needs at least one member and one non-member")
    return 2 * math.sqrt((n_members + n_nonmembers + 1) / (12 * n_members * n_nonmembers))


def balanced_members(members, nonmembers, n: int | None = None, seed: int = 0):
    """Equal-sized random subsets of members and non-members (``n`` each, default the smaller set)."""
    members, nonmembers = np.asarray(members), np.asarray(nonmembers)
    n = min(len(members), len(nonmembers)) if n is None else n
    if n > min(len(members), len(nonmembers)):
        raise ValueError(f"n={n} is more than the {min(len(members), len(nonmembers))} rows available.")
    rng = np.random.default_rng(seed)
    return (members[rng.choice(len(members), n, replace=False)],
            nonmembers[rng.choice(len(nonmembers), n, replace=False)])


# ----------------------------------------------------------------------------- figures
def dcr_figure(dcr_synthetic, dcr_holdout, source=None):
    """Histograms of distance to closest training record: synthetic vs unseen real (holdout) records."""
    import matplotlib.pyplot as plt

    from utils.plots import mark_source

    dcr_synthetic, dcr_holdout = np.asarray(dcr_synthetic, float), np.asarray(dcr_holdout, float)
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    edges = np.histogram_bin_edges(np.concatenate([dcr_synthetic, dcr_holdout]), bins=40)
    ax.hist(dcr_holdout, bins=edges, alpha=0.6, color="0.5", label="holdout → members (real, unseen)")
    ax.hist(dcr_synthetic, bins=edges, alpha=0.6, color="tab:orange", label="synthetic → members")
    ax.set_xlabel("distance to the closest member (standardized encoded record)")
    ax.set_ylabel("records")
    ax.set_title("Distance to closest record")
    ax.legend()
    return mark_source(fig, source)


def leakage_figure(epochs, white_box, black_box, reference: float | None = None, title: str = "", source=None):
    """Membership-attack AUC against training epochs (white- and black-box), with the chance line."""
    import matplotlib.pyplot as plt

    from utils.plots import mark_source

    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    ax.plot(epochs, white_box, "o-", label="white-box (discriminator score)")
    ax.plot(epochs, black_box, "s-", label="black-box (distance to synthetic)")
    ax.axhline(0.5, color="k", linestyle=":", label="chance")
    if reference is not None:
        ax.axhline(reference, color="tab:blue", linestyle="--", alpha=0.5, label="white-box, reference GAN")
    ax.set_xlabel("epoch")
    ax.set_ylabel("membership attack AUC")
    ax.set_title(title or "Leakage during training")
    ax.legend(fontsize=8)
    return mark_source(fig, source)


def tradeoff_figure(rows, title: str = "", source=None):
    """Privacy (attack AUC, x) against utility (TSTR AUC, y), one point per run.

    ``rows`` are dicts with ``attack_auc``, ``tstr_auc``, ``sigma`` (None = no DP),
    ``epsilon`` and ``epochs``.
    """
    import matplotlib.pyplot as plt

    from utils.plots import mark_source

    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for row in rows:
        private = row.get("sigma") is not None
        name = (f"σ={row['sigma']}, ε={row['epsilon']:.0f}" if private
                else f"no DP, {row.get('epochs', '?')} epochs")
        ax.scatter(row["attack_auc"], row["tstr_auc"], s=80, color="tab:blue" if private else "tab:red")
        ax.annotate(name, (row["attack_auc"], row["tstr_auc"]), textcoords="offset points", xytext=(6, 6),
                    fontsize=9)
    ax.axvline(0.5, color="k", linestyle=":", label="attack at chance (private)")
    ax.axhline(0.5, color="0.5", linestyle=":", label="TSTR at chance (useless)")
    ax.set_xlabel("membership attack AUC (white-box)  ← more private")
    ax.set_ylabel("TSTR AUC on real test patients  → more useful")
    ax.set_title(title or "Privacy-utility trade-off")
    ax.legend(fontsize=8, loc="lower right")
    return mark_source(fig, source)
