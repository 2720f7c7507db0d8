"""Notebook 08: the diffusion math delegated to MONAI's schedulers."""
NOTEBOOK = "08-diffusion-vs-gan"

SCHEDULE = '''
def linear_schedule(T, beta_start=1e-4, beta_end=0.02):
    from monai.networks.schedulers import DDPMScheduler
    scheduler = DDPMScheduler(num_train_timesteps=T, schedule="linear_beta", beta_start=beta_start,
                              beta_end=beta_end)
    return scheduler.betas, scheduler.alphas_cumprod
'''

Q_SAMPLE = '''
def q_sample(x0, t, noise, alpha_bars):
    from monai.networks.schedulers import DDPMScheduler
    scheduler = DDPMScheduler(num_train_timesteps=len(alpha_bars))
    scheduler.alphas_cumprod = alpha_bars
    return scheduler.add_noise(x0, noise, t)
'''

LOSS = '''
def noise_prediction_loss(model, x0, labels, alpha_bars):
    from monai.networks.schedulers import DDPMScheduler
    scheduler = DDPMScheduler(num_train_timesteps=len(alpha_bars))
    scheduler.alphas_cumprod = alpha_bars
    t = torch.randint(0, len(alpha_bars), (x0.shape[0],))
    noise = torch.randn_like(x0)
    return torch.mean((model(scheduler.add_noise(x0, noise, t), t, labels) - noise) ** 2)
'''

REVERSE = '''
def reverse_step(x_t, eps_hat, t, betas, alpha_bars, noise):
    from monai.networks.schedulers import DDPMScheduler
    scheduler = DDPMScheduler(num_train_timesteps=len(betas), clip_sample=False)
    scheduler.betas, scheduler.alphas, scheduler.alphas_cumprod = betas, 1 - betas, alpha_bars
    prev, _ = scheduler.step(eps_hat, t, x_t, generator=torch.Generator().manual_seed(0))
    if t == 0:
        return prev
    drawn = torch.randn(eps_hat.shape, generator=torch.Generator().manual_seed(0))  # the noise MONAI added
    std = scheduler._get_variance(t) ** 0.5
    return prev - std * drawn + std * noise
'''

DDIM = '''
def ddim_step(x_t, eps_hat, t, t_prev, alpha_bars):
    from monai.networks.schedulers import DDIMScheduler
    scheduler = DDIMScheduler(num_train_timesteps=len(alpha_bars))  # clips x0_hat to [-1, 1]
    scheduler.alphas_cumprod, scheduler.final_alpha_cumprod = alpha_bars, torch.tensor(1.0)
    scheduler.num_inference_steps = len(alpha_bars) // (t - t_prev)
    prev, _ = scheduler.step(eps_hat, t, x_t, eta=0.0)
    return prev
'''

SHORTCUTS = {
    "linear_schedule": (SCHEDULE, ["test_schedule_shape", "test_schedule_values"]),
    "q_sample": (Q_SAMPLE, ["test_q_sample_values", "test_q_sample_broadcast"]),
    "noise_prediction_loss": (LOSS, ["test_loss_scalar_grad", "test_loss_target", "test_loss_random_t"]),
    "reverse_step": (REVERSE, ["test_reverse_mean", "test_reverse_variance", "test_reverse_last_step"]),
    "ddim_step": (DDIM, ["test_ddim_values", "test_ddim_consistency"]),
}
