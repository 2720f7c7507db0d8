"""GANs for Medicine: shared plumbing for the course notebooks."""
