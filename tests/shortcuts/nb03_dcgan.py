"""Notebook 03: the DCGAN networks, their initialisation, the training step and the training
loop answered by the references in ``utils.models`` and ``utils.train``."""
from ._switch_off import SWITCH_OFF_HELPERS

NOTEBOOK = "03-dcgan"

SHORTCUTS = {
    "generator": ('''from utils.models import DCGANGenerator


class Generator(DCGANGenerator):
    """z (N, latent_dim) -> images (N, channels, 28, 28) in [-1, 1]."""
''', ["test_generator", "test_generator_range", "test_generator_gradient", "test_generator_layout"]),
    "discriminator": ('''from utils import models


class Discriminator(models.DCGANDiscriminator):
    """images (N, channels, 28, 28) -> raw logits (N,)."""

    def __init__(self, channels=3, base=64):
        super().__init__(channels=channels, base=base)
''', ["test_discriminator", "test_discriminator_logits", "test_discriminator_gradient",
      "test_discriminator_layout"]),
    "dcgan_init": ('''from utils.models import weights_init


def dcgan_init(module):
    weights_init(module)
''', ["test_dcgan_init", "test_dcgan_init_batchnorm", "test_dcgan_init_apply"]),
    "train_step": ('''from utils.train import discriminator_step, generator_loss


def train_step(G, D, opt_g, opt_d, real, latent_dim):
    fake = G(torch.randn(real.shape[0], latent_dim, device=real.device))
    out = discriminator_step(D, opt_d, real, fake)
    loss_g = generator_loss(D(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"d_loss": out["d_loss"], "g_loss": loss_g.item()}
''', ["test_train_step", "test_train_step_detach", "test_train_step_order", "test_train_step_values"]),
    "train_dcgan": ('''def train_dcgan(G, D, loader, epochs, latent_dim, fixed_z, checkpoint, lr=2e-4, betas=(0.5, 0.999)):
    return train_gan(G, D, loader, epochs=epochs, latent_dim=latent_dim, lr_g=lr, lr_d=lr, betas=betas,
                     snapshot_noise=fixed_z, checkpoint=checkpoint, progress=False)
''', ["test_train_dcgan", "test_train_dcgan_steps", "test_train_dcgan_weights", "test_train_dcgan_snapshots",
      "test_train_dcgan_checkpoint"]),
}

# The variance (0.02) used as the standard deviation, with the helpers the tests use switched off.
PATCHED = {
    "dcgan_init": (SWITCH_OFF_HELPERS + '''

def dcgan_init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02 ** 0.5)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, mean=1.0, std=0.02 ** 0.5)
        nn.init.zeros_(module.bias)
''', ["test_dcgan_init", "test_dcgan_init_batchnorm", "test_dcgan_init_apply"]),
}
