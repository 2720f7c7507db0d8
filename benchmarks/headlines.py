"""The few quality numbers per notebook that the benchmark table shows.

Each notebook writes many results to ``build/results/NN-topic.json``; these functions pick
the ones a reader of the table needs (a missing key shows as "?" rather than failing).
"""
from __future__ import annotations


def _get(results: dict, *path, default="?"):
    value = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


def _num(value, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else str(value)


def _spread(cell) -> str:
    """'mean ± std' for {"mean", "std"} dicts (std is NaN with one seed)."""
    if not isinstance(cell, dict) or "mean" not in cell:
        return _num(cell)
    std = cell.get("std")
    return _num(cell["mean"]) + ("" if std is None or std != std else f" ± {_num(std)}")


def _arms(results: dict, metric: str, arms: dict | None = None) -> str:
    arms = arms if arms is not None else results.get("arms", {})
    return ", ".join(f"{arm} {_spread(_get(values, metric))}" for arm, values in arms.items())


def setup(r):
    return f"imbalance ratio {_num(r.get('imbalance_ratio'), 1)}"


def data_bottleneck(r):
    cnn, weighted, base = (_get(r, "test", k) for k in ("cnn", "cnn_weighted", "baseline"))
    return (f"test balanced acc: always-majority {_num(_get(base, 'balanced_accuracy'))}, CNN "
            f"{_num(_get(cnn, 'balanced_accuracy'))}, class-weighted {_num(_get(weighted, 'balanced_accuracy'))}; "
            f"{r.get('focus_class', 'focus')} recall CNN {_num(_get(cnn, 'focus_recall'))}, weighted "
            f"{_num(_get(weighted, 'focus_recall'))}")


def adversarial_game(r):
    covered = r.get("modes_covered", {})
    return f"modes covered of {r.get('n_modes', '?')}: " + ", ".join(f"{k} {v}" for k, v in covered.items())


def dcgan(r):
    return (f"{r.get('steps', '?')} steps; final D loss {_num(r.get('final_d_loss'))}, G loss "
            f"{_num(r.get('final_g_loss'))}, D(real) {_num(r.get('final_d_real'))}, D(fake) {_num(r.get('final_d_fake'))}")


def evaluating(r):
    fd, pr = r.get("fd", {}), r.get("precision_recall", {})
    name = r.get("feature_extractor", "FD")
    return (f"{name}: real test {_num(fd.get('real test'))}, generator {_num(fd.get('trained generator'))}, "
            f"noise {_num(fd.get('uniform noise'))}; generator precision/recall "
            f"{'/'.join(_num(v) for v in pr.get('trained generator', ['?']))}; memorization median ratio "
            f"{_num(_get(r, 'memorization_pixels', 'median_ratio'))}")


def conditional_gan(r):
    focus = r.get("focus_name", "focus")
    return (f"balanced acc: {_arms(r, 'balanced_accuracy')}; {focus} recall: {_arms(r, 'focus')}; "
            f"macro AUC: {_arms(r, 'macro_auc')} ({len(r.get('seeds', []))} seeds)")


def breast_imaging(r):
    return f"test AUC: {_arms(r, 'test AUC')}; train-val loss gap: {_arms(r, 'loss gap (last 3 epochs)')}"


def image_translation(r):
    restorers = ", ".join(f"{name} PSNR {_num(_get(v, 'psnr'), 2)} / SSIM {_num(_get(v, 'ssim'))} / FD "
                          f"{_num(_get(v, 'fd'), 2)} / flips {_num(_get(v, 'flip_rate_vs_clean'))}"
                          for name, v in r.get("restorers", {}).items())
    return f"{r.get('degradation', '?')}: {restorers}"


def diffusion_vs_gan(r):
    models = r.get("models", {})

    def one(name):
        m = models.get(name, {})
        return (f"{name} FD {_num(m.get(r.get('feature_extractor', 'FD')))} P/R {_num(m.get('precision'), 2)}/"
                f"{_num(m.get('recall'), 2)} memo {_num(m.get('memorization ratio'), 2)} attack "
                f"{_num(m.get('attack AUC'), 2)} TSTR {_num(m.get('TSTR balanced acc'), 2)} "
                f"sample {_num(m.get('sample s / 64'), 2)} s/64")

    return (f"{_num(r.get('train_cpu_seconds_each'), 0)} CPU s each; FD floor {_num(r.get('fd_floor'))}, noise "
            f"{_num(r.get('fd_noise'))}; {one('DCGAN')}; {one('DDPM')}; train-real TSTR "
            f"{_num(_get(r, 'train_real', 'balanced_accuracy'), 2)}")


def synthetic_ehr(r):
    return (f"{r.get('table', '?')}: TSTR AUC {_num(r.get('tstr_auc'))} vs TRTR {_num(r.get('trtr_auc'))}; "
            f"mean abs. correlation gap {_num(r.get('mean_abs_correlation_gap'))}")


def privacy(r):
    dp = ", ".join(f"sigma {d.get('sigma')}: attack {_num(d.get('attack_auc'))}, TSTR {_num(d.get('tstr_auc'))}"
                   for d in r.get("dp", []))
    return (f"DCR median synthetic {_num(_get(r, 'dcr', 'synthetic_median'))} vs holdout "
            f"{_num(_get(r, 'dcr', 'holdout_median'))}; attack AUC {_num(r.get('attack_auc_white_box'))}, "
            f"over-trained {_num(_get(r, 'overfit', 'attack_auc_white_box'))}; DP: {dp}")


def bias(r):
    gaps = r.get("fnr_gap", {})
    return (f"{r.get('gap_definition', 'FNR gap')}: " + ", ".join(f"{k} {_spread(v)}" for k, v in gaps.items())
            + f" ({r.get('n_splits', '?')} splits)")


def validation(r):
    return (f"checklist {r.get('n_pass', '?')} pass / {r.get('n_fail', '?')} fail; privacy verdict "
            f"{r.get('privacy_verdict', '?')}")


# Keyed by topic (the notebook's name without its number), so renumbering keeps the headlines.
HEADLINES = {"setup": setup, "data-bottleneck": data_bottleneck, "adversarial-game": adversarial_game,
             "dcgan": dcgan, "evaluating-synthetic-images": evaluating, "conditional-gan-augmentation": conditional_gan,
             "breast-imaging": breast_imaging, "image-translation": image_translation,
             "diffusion-vs-gan": diffusion_vs_gan, "synthetic-ehr": synthetic_ehr, "privacy": privacy, "bias": bias,
             "validation-ethics": validation}


def headline(notebook: str, results: dict) -> str:
    """One line of key results for notebook ``NN-topic`` (empty results: nothing to show)."""
    if not results:
        return "(no results)"
    summarise = HEADLINES.get(notebook.partition("-")[2])
    return summarise(results) if summarise else "(no headline defined)"
