"""Notebook 02: the GAN losses, the training step, the gradient penalty and the critic loop
answered by the references in ``utils.train``."""
from ._switch_off import SWITCH_OFF_HELPERS

NOTEBOOK = "02-adversarial-game"

_STEP_TESTS = ["test_train_step", "test_train_step_detach", "test_train_step_order", "test_train_step_values"]
_CRITIC_TESTS = ["test_wgan_gp_step", "test_wgan_gp_step_counts", "test_wgan_gp_step_batches",
                 "test_wgan_gp_step_values"]

SHORTCUTS = {
    "d_loss": ('''from utils.train import discriminator_loss


def d_loss(real_logits, fake_logits):
    return discriminator_loss(real_logits, fake_logits)
''', ["test_d_loss", "test_d_loss_stable", "test_d_loss_gradient"]),
    "g_loss": ('''from utils import train


def g_loss(fake_logits):
    return train.generator_loss(fake_logits, kind="ns")
''', ["test_g_loss", "test_g_loss_stable", "test_g_loss_gradient"]),
    "train_step": ('''from utils.train import discriminator_step, generator_loss


def train_step(G, D, opt_g, opt_d, real, latent_dim):
    fake = G(torch.randn(real.shape[0], latent_dim, device=real.device))
    out = discriminator_step(D, opt_d, real, fake)
    loss_g = generator_loss(D(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"d_loss": out["d_loss"], "g_loss": loss_g.item()}
''', _STEP_TESTS),
    "gradient_penalty": ("from utils.train import gradient_penalty\n",
                         ["test_gradient_penalty", "test_gradient_penalty_alpha", "test_gradient_penalty_images",
                          "test_gradient_penalty_backprop"]),
    "wgan_gp_step": ('''from utils.train import discriminator_step, generator_loss


def wgan_gp_step(G, D, opt_g, opt_d, real, latent_dim, n_critic=5, gp_weight=0.1):
    for real_k in real.chunk(n_critic):
        fake = G(torch.randn(real_k.shape[0], latent_dim, device=real.device))
        out = discriminator_step(D, opt_d, real_k, fake, loss="wgan", gp_weight=gp_weight)
    loss_g = generator_loss(D(G(torch.randn(real_k.shape[0], latent_dim, device=real.device))), kind="wgan")
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"d_loss": out["d_loss"], "g_loss": loss_g.item(), "distance": out["d_real"] - out["d_fake"]}
''', _CRITIC_TESTS),
}

# Swapped labels in the discriminator loss, with every helper the tests use switched off.
PATCHED = {
    "d_loss": (SWITCH_OFF_HELPERS + '''

def d_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)))
''', ["test_d_loss", "test_d_loss_gradient"]),
}
