"""Runnable examples: `python -m mlx_compat.examples.fashion_mnist` trains a CNN on Fashion-MNIST."""
