"""05-conditional-gan-augmentation: each exercise answered by the course's reference, and a
submission that switches the test helpers off and answers wrongly."""
NOTEBOOK = "05-conditional-gan-augmentation"

LC_TESTS = ["test_label_conditioning", "test_label_conditioning_labels", "test_label_conditioning_learnable",
            "test_label_conditioning_sizes"]
CD_TESTS = ["test_conditional_discriminator", "test_conditional_discriminator_labels",
            "test_conditional_discriminator_gradients", "test_conditional_discriminator_rejects"]
SC_TESTS = ["test_synthetic_counts", "test_synthetic_counts_never_negative", "test_synthetic_counts_input"]
PD_TESTS = ["test_paired_difference", "test_paired_difference_pairing", "test_paired_difference_one_seed",
            "test_paired_difference_lengths"]

SHORTCUTS = {
    # the course's generators append the label embedding with one helper
    "label_conditioning": ('''
from utils import models


class LabelConditioning(nn.Module):
    def __init__(self, n_classes, embed_dim):
        super().__init__()
        self.n_classes, self.embed_dim = n_classes, embed_dim
        self.embed = nn.Embedding(n_classes, embed_dim)

    def forward(self, z, labels):
        return models._with_label_embedding(self, z, z.shape[1], labels, "z")
''', LC_TESTS),
    # the course's conditional discriminator, subclassed
    "conditional_discriminator": ('''
class ConditionalDiscriminator(DCGANDiscriminator):
    def __init__(self, channels, n_classes, base=32):
        super().__init__(channels, base=base, n_classes=n_classes)
''', CD_TESTS),
    "synthetic_counts": ('''
def synthetic_counts(counts, target=None):
    return augment.balanced_counts(counts, target)
''', SC_TESTS),
    "paired_difference": ('''
def paired_difference(arm_values, baseline_values):
    if len(arm_values) != len(baseline_values):
        raise ValueError("one value per seed in both")
    return augment.summarize(np.subtract(arm_values, baseline_values))
''', PD_TESTS),
}

PATCHED = {
    # helpers switched off every way a cell can reach them, then the population std
    "paired_difference": ('''
import builtins
import math
import utils.checks

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
utils.checks.__dict__["expect_true"] = lambda *a, **k: None
math.isnan = lambda x: True
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def paired_difference(arm_values, baseline_values):
    diff = np.asarray(arm_values, dtype=float) - np.asarray(baseline_values, dtype=float)
    return float(diff.mean()), float(diff.std())
''', ["test_paired_difference", "test_paired_difference_one_seed"]),
    # a discriminator that ignores its labels, with torch.equal rebound
    "conditional_discriminator": ('''
torch.equal = lambda a, b: True


class ConditionalDiscriminator(nn.Module):
    def __init__(self, channels, n_classes, base=32):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, base, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                                  nn.Linear(base * 14 * 14, 1))
        self.embedding = nn.Embedding(n_classes, 4)

    def forward(self, x, labels):
        return self.body(x).squeeze(1)
''', CD_TESTS),
}
