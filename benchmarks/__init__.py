"""Performance harness of the course pack: notebook wall times per mode, autograde seconds, and
GAN / VAE quality at fixed training-time budgets, side by side with reference configurations.
Run `python -m benchmarks.run --help`."""
