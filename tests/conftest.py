"""Shared, expensive objects: the real torchvision googlenet and its counts, made once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def torchvision_model():
    from inception_calc.counters import torchvision_googlenet

    return torchvision_googlenet()


@pytest.fixture(scope="session")
def torchvision_counts(torchvision_model):
    """Counts of torchvision's googlenet at 3x224x224 (fvcore, FlopCounterMode, numel, hooks)."""
    from inception_calc.counters import count_module

    return count_module(torchvision_model, (3, 224, 224), "torchvision googlenet")
