"""Library shortcuts for notebook 07 (image translation): MONAI's and scikit-image's PSNR, MONAI's
U-Net stage and PatchGAN, MONAI's adversarial loss and the course's GAN losses, scikit-learn's accuracy."""

NOTEBOOK = "07-image-translation"

PSNR = '''
from monai.metrics import PSNRMetric


def psnr(restored, clean, data_range=2.0):
    if restored.shape != clean.shape:
        raise ValueError("shapes differ")
    return PSNRMetric(max_val=data_range, reduction="none")(restored, clean).reshape(len(clean))
'''

UPSKIP = '''
from monai.networks.nets.basic_unet import UpCat


class UpSkip(nn.Module):
    def __init__(self, c_in, c_skip, c_out):
        super().__init__()
        self.block = UpCat(2, c_in, c_skip, c_out, act="relu", norm="batch", bias=False, dropout=0.0, halves=False)

    def forward(self, x, skip):
        if skip.shape[-2:] != (2 * x.shape[-2], 2 * x.shape[-1]):
            raise ValueError("the skip must be twice the size of x")
        return self.block(x, skip)
'''

PATCHGAN = '''
from monai.networks.nets import PatchDiscriminator


class PatchGAN(nn.Module):
    def __init__(self, channels, width=32):
        super().__init__()
        self.net = PatchDiscriminator(spatial_dims=2, num_layers_d=1, channels=width, in_channels=2 * channels,
                                      out_channels=1, kernel_size=3, norm="BATCH", last_conv_kernel_size=3)

    def forward(self, degraded, candidate):
        return self.net(torch.cat([degraded, candidate], dim=1))[-1]
'''

LOSSES = '''
from utils.train import discriminator_loss, generator_loss


def pix2pix_d_loss(D, degraded, clean, restored):
    return 0.5 * discriminator_loss(D(degraded, clean), D(degraded, restored.detach()))


def pix2pix_g_loss(D, degraded, clean, restored, l1_weight=L1_WEIGHT):
    return generator_loss(D(degraded, restored)) + l1_weight * (restored - clean).abs().mean()
'''

FLIP_RATE = '''
from sklearn.metrics import accuracy_score


def flip_rate(reference_probs, other_probs):
    reference, other = np.asarray(reference_probs), np.asarray(other_probs)
    if reference.shape != other.shape or len(reference) == 0:
        raise ValueError("need two (N, K) arrays of the same shape")
    return float(1 - accuracy_score(reference.argmax(1), other.argmax(1)))
'''

SHORTCUTS = {
    "psnr": (PSNR, ["test_psnr_value", "test_psnr_contract"]),
    "upskip": (UPSKIP, ["test_upskip_shape", "test_upskip_skip", "test_unet_contract"]),
    "patchgan": (PATCHGAN, ["test_patchgan"]),
    "pix2pix_losses": (LOSSES, ["test_d_loss_value", "test_d_loss_detach", "test_g_loss_value", "test_g_loss_gradient"]),
    "flip_rate": (FLIP_RATE, ["test_flip_rate"]),
}
