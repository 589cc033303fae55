"""Pruning masks on float OIHW 3x3 weights (numpy), in the style of torch.nn.utils.prune.

* unstructured: global L1 magnitude over the layer (torch's l1_unstructured);
* KRP (kernel-row pruning): each 3x3 kernel keeps exactly k_rows of its 3 rows, those of
  largest L1 norm, so the hardware stores 3*k_rows codes + a row index per kernel;
* IKR (in-kernel pattern pruning): each kernel keeps exactly k of its 9 taps, following one
  of a small library of P patterns learned from the layer.
"""

from __future__ import annotations

import itertools

import numpy as np

DEFAULT_UNSTRUCTURED_AMOUNT = 2.0 / 3.0  # same density (1/3) as KRP with one row


def _check_int(what: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _check_weight(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[2:] != (3, 3):
        raise ValueError(f"expected OIHW 3x3 weights [Cout, Cin, 3, 3], got shape {w.shape}")
    if not np.issubdtype(w.dtype, np.floating) or not np.isfinite(w).all():
        raise ValueError("weights must be finite floats")
    return w


def unstructured_mask(w: np.ndarray, amount: float = DEFAULT_UNSTRUCTURED_AMOUNT) -> np.ndarray:
    """Keep the largest-|w| weights of the layer; prune round(amount * size) of them."""
    w = _check_weight(w)
    if not isinstance(amount, (int, float, np.floating)) or not 0.0 <= amount < 1.0:
        raise ValueError(f"amount (fraction pruned) must be in [0, 1), got {amount}")
    n_prune = int(round(amount * w.size))
    order = np.argsort(np.abs(w).ravel(), kind="stable")
    mask = np.ones(w.size, bool)
    mask[order[:n_prune]] = False
    return mask.reshape(w.shape)


def krp_mask(w: np.ndarray, k_rows: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Keep exactly k_rows rows of each 3x3 kernel, those with the largest L1 norm.

    Returns (mask bool [Cout,Cin,3,3], row_idx uint8 [Cout,Cin] for k_rows=1, else
    [Cout,Cin,k_rows] ascending). Ties keep the lower row."""
    w = _check_weight(w)
    k_rows = _check_int("k_rows", k_rows)
    if k_rows not in (1, 2, 3):
        raise ValueError(f"k_rows must be 1, 2 or 3, got {k_rows}")
    row_l1 = np.abs(w).sum(axis=3)  # [Cout, Cin, 3]
    rows = np.sort(np.argsort(-row_l1, axis=2, kind="stable")[..., :k_rows], axis=2)
    keep_row = np.zeros(row_l1.shape, bool)
    np.put_along_axis(keep_row, rows, True, axis=2)
    mask = np.broadcast_to(keep_row[..., None], w.shape).copy()
    row_idx = rows[..., 0] if k_rows == 1 else rows
    return mask, row_idx.astype(np.uint8)


def _pattern_bits(patterns: np.ndarray) -> np.ndarray:
    return (patterns.reshape(len(patterns), 9).astype(np.int64) << np.arange(9)).sum(axis=1)


def ikr_mask(w: np.ndarray, k: int = 4, n_patterns: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep exactly k taps per kernel, following one of n_patterns library patterns.

    The library is the n_patterns most frequent top-k magnitude shapes of the layer (ties:
    more L1 captured first); if the layer shows fewer distinct shapes it is completed with the
    k-subsets capturing most L1 over the layer. Each kernel then takes the library pattern that
    keeps the most L1 magnitude. Returns (mask, pattern_id uint8 [Cout,Cin], patterns bool [P,3,3])."""
    w = _check_weight(w)
    k, n_patterns = _check_int("ikr k", k), _check_int("n_patterns", n_patterns)
    n_subsets = len(list(itertools.combinations(range(9), k))) if 1 <= k <= 8 else 0
    if not 1 <= k <= 8:
        raise ValueError(f"ikr k (taps kept per kernel) must be in 1..8, got {k}")
    if not 1 <= n_patterns <= min(256, n_subsets):
        raise ValueError(f"n_patterns must be in 1..{min(256, n_subsets)} for k={k}, got {n_patterns}")
    mag = np.abs(w).reshape(-1, 9).astype(np.float64)
    top = np.argsort(-mag, axis=1, kind="stable")[:, :k]
    shape_bits = (np.left_shift(1, top)).sum(axis=1)
    uniq, inverse, counts = np.unique(shape_bits, return_inverse=True, return_counts=True)
    captured = np.bincount(inverse, weights=np.take_along_axis(mag, top, 1).sum(1), minlength=len(uniq))
    order = np.lexsort((-captured, -counts))  # most frequent first, then most L1 captured
    chosen = [int(b) for b in uniq[order[:n_patterns]]]
    if len(chosen) < n_patterns:  # complete with the k-subsets capturing most L1 over the layer
        total = mag.sum(axis=0)
        subsets = sorted(itertools.combinations(range(9), k), key=lambda s: -total[list(s)].sum())
        for s in subsets:
            bits = sum(1 << i for i in s)
            if bits not in chosen:
                chosen.append(bits)
            if len(chosen) == n_patterns:
                break
    patterns = ((np.array(chosen)[:, None] >> np.arange(9)) & 1).astype(bool)  # [P, 9]
    score = mag @ patterns.T.astype(np.float64)  # L1 kept by each library pattern
    pattern_id = np.argmax(score, axis=1)
    mask = patterns[pattern_id].reshape(w.shape)
    return mask, pattern_id.reshape(w.shape[:2]).astype(np.uint8), patterns.reshape(-1, 3, 3)


class _MaskMethod:
    """compute_mask(w) on numpy/torch weights; apply(module) installs it with torch's pruning
    machinery (torch.nn.utils.prune.custom_from_mask: weight_orig + weight_mask + hook)."""

    def compute_mask(self, w) -> np.ndarray:
        raise NotImplementedError

    def apply(self, module, name: str = "weight"):
        import torch
        from torch.nn.utils import prune as torch_prune

        w = getattr(module, name).detach().cpu().numpy()
        mask = torch.from_numpy(self.compute_mask(w))
        return torch_prune.custom_from_mask(module, name, mask.to(getattr(module, name).dtype).bool())


def _as_numpy(w) -> np.ndarray:
    return w.detach().cpu().numpy() if hasattr(w, "detach") else np.asarray(w)


class L1Unstructured(_MaskMethod):
    def __init__(self, amount: float = DEFAULT_UNSTRUCTURED_AMOUNT):
        self.amount = amount

    def compute_mask(self, w) -> np.ndarray:
        return unstructured_mask(_as_numpy(w), self.amount)


class KernelRowPruning(_MaskMethod):
    def __init__(self, k_rows: int = 1):
        self.k_rows = k_rows
        self.row_idx: np.ndarray | None = None

    def compute_mask(self, w) -> np.ndarray:
        mask, self.row_idx = krp_mask(_as_numpy(w), self.k_rows)
        return mask


class InKernelPatternPruning(_MaskMethod):
    def __init__(self, k: int = 4, n_patterns: int = 8):
        self.k, self.n_patterns = k, n_patterns
        self.pattern_id: np.ndarray | None = None
        self.patterns: np.ndarray | None = None

    def compute_mask(self, w) -> np.ndarray:
        mask, self.pattern_id, self.patterns = ikr_mask(_as_numpy(w), self.k, self.n_patterns)
        return mask
