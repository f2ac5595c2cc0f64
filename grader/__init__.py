"""cnn-grade: teach and grade convolutional-network exercises against PyTorch references."""

__version__ = "0.1.0"

# Kept free of heavy imports: the sandbox child imports this package before any student code,
# and `cnn-grade --help` must not pay for torch.
