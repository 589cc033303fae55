"""Tiles: self-consistent sub-layers cropped from a layer (docs/vector_format.md, "Set names")."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .types import QuantizedLayer


@dataclass(frozen=True)
class Tile:
    """A self-consistent sub-layer: cropped channels/window, zero padding at the crop edges."""

    layer: QuantizedLayer
    act: np.ndarray
    bias_int: np.ndarray | None
    shift: np.ndarray | None
    residual: np.ndarray | None
    info: dict  # TILE_KEYS: offsets into the full layer and the tile's sizes


def make_tile(
    act: np.ndarray,
    layer: QuantizedLayer,
    cin_range: tuple[int, int],
    cout_range: tuple[int, int],
    y_range: tuple[int, int],
    x_range: tuple[int, int],
    bias_int: np.ndarray | None = None,
    shift: np.ndarray | None = None,
    residual: np.ndarray | None = None,
) -> Tile:
    """Crop channels [c0,c1) / window [y0,y1) x [x0,x1) into a standalone smaller layer.

    The tile's expected values are recomputed by the exporter on the cropped input with zero
    padding at the crop edges, so the tile is a complete, self-consistent conv layer of its own.
    Per-output-channel arrays (wscale, bias, bias_int, shift, residual, row_idx, ...) are sliced.
    """
    act = np.asarray(act)
    cout_full, cin_full = layer.codes.shape[:2]
    if act.ndim != 3 or act.shape[0] != cin_full:
        raise ValueError(f"activations must be [{cin_full},H,W] for this layer, got {act.shape}")
    limits = {
        "cin": (cin_range, cin_full),
        "cout": (cout_range, cout_full),
        "y": (y_range, act.shape[1]),
        "x": (x_range, act.shape[2]),
    }
    for what, ((lo, hi), size) in limits.items():
        if not 0 <= lo < hi <= size:
            raise ValueError(f"tile {what} range [{lo}, {hi}) is empty or outside 0..{size}")
    ci, co = slice(*cin_range), slice(*cout_range)

    def opt(a: np.ndarray | None, *idx: slice) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(np.asarray(a)[idx])

    tile_layer = replace(
        layer,
        codes=np.ascontiguousarray(layer.codes[co, ci]),
        wint=np.ascontiguousarray(layer.wint[co, ci]),
        wscale=np.ascontiguousarray(layer.wscale[co]),
        mask=np.ascontiguousarray(layer.mask[co, ci]),
        bias=np.ascontiguousarray(layer.bias[co]),
        row_idx=opt(layer.row_idx, co, ci),
        pattern_id=opt(layer.pattern_id, co, ci),
    )
    info = {
        "cin_offset": cin_range[0],
        "cin": cin_range[1] - cin_range[0],
        "cout_offset": cout_range[0],
        "cout": cout_range[1] - cout_range[0],
        "y0": y_range[0],
        "h": y_range[1] - y_range[0],
        "x0": x_range[0],
        "w": x_range[1] - x_range[0],
    }
    crop = np.ascontiguousarray(act[ci, slice(*y_range), slice(*x_range)])
    return Tile(tile_layer, crop, opt(bias_int, co), opt(shift, co), opt(residual, co), info)
