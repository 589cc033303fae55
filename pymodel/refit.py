"""Layer-wise reconstruction of a pruned conv8 on calibration activations, then quantization
with error feedback.

1. Least-squares refit: for each output channel, the kept weights and the bias minimise
   || Xq [w_S; b] - Xf [w; b0] ||^2 + ridge, where Xf / Xq are the im2col matrices of the float
   / quantized calibration inputs (so the refit also absorbs the activation quantization) and
   [w; b0] is the float layer. Normal equations over the Gram matrices A = Xq^T Xq and
   C = Xq^T Xf, one masked Cholesky solve per channel, batched in torch (float64).
2. GPTQ/SparseGPT-style quantization: the per-channel grid is fixed first (from the refit
   weights, error weighted by diag(A)), then the columns are quantized in act order (by
   decreasing diag(A)); each column's error is pushed onto the not-yet-quantized columns
   through the Cholesky factor of A^-1. Pruned positions are forced to zero the same way (so
   error flowing into them is passed on, never kept) and the bias, the last column, absorbs
   what is left; finally the bias is set to its exact least-squares value given the quantized
   weights. On the 4-bit grids each channel's scale may move to a neighbour whose GPTQ result
   has the smaller calibration loss (gptq_scale_search).
3. Optionally (schemes with a storage target, pot4e) entropy-constrained GPTQ: the rounding
   minimises loss + mu * code length, with the smallest rate weight that reaches the target.

The damping, the order and the scale candidates were chosen by photo-wise leave-one-out
cross-validation on the calibration photos (docs/fidelity.md), never on the held-out ones.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import numpy as np

from pymodel.activations import ActivationSet
from pymodel.quant import QuantGrid, Quantized
from pymodel.types import ConvWeights
from pymodel.weights import array_digest, cache_dir

DEFAULT_RIDGE = 1e-3  # relative to mean(diag(A)); keeps 768..2304-unknown solves well posed
GPTQ_DAMP = 1e-2  # GPTQ's usual 1% dampening; photo-wise CV on calibration: flat 0.003..0.01, worse above
GPTQ_ORDERS = ("act", "natural")
# entropy-constrained GPTQ (schemes with a storage target): code lengths re-estimated 3 times;
# lam searched from 0.05 by x4 up to 200, then bisected to 15 %
RATE_ITERATIONS = 3
RATE_LAMBDA_START = 0.05
RATE_LAMBDA_MAX = 200.0
RATE_TOLERANCE = 0.15
_CHUNK = 32
_BLOCK = 128
_CACHE_VERSION = 1


def im2col(x: np.ndarray):
    """[N, Cin, H, W] -> torch float64 [N*H*W, Cin*9 + 1]; the column order matches w.reshape(Cout, -1),
    the last column is the constant 1 of the bias."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    cols = F.unfold(t, 3, padding=1)  # [N, Cin*9, H*W]
    cols = cols.transpose(1, 2).reshape(-1, cols.shape[1]).to(torch.float64)
    return torch.cat([cols, torch.ones(cols.shape[0], 1, dtype=torch.float64)], dim=1)


def gram_matrices(acts: ActivationSet, crops_per_chunk: int = 4):
    """(A = Xq^T Xq, C = Xq^T Xf, mean of Xq rows, mean of Xf rows) on the calibration crops,
    accumulated a few crops at a time (the im2col of all crops would take GBs)."""
    n = len(acts.calib_float)
    a = c = sum_q = sum_f = None
    rows = 0
    for lo in range(0, n, crops_per_chunk):
        xf = im2col(acts.calib_float[lo:lo + crops_per_chunk])
        xq = im2col(acts.calib_int[lo:lo + crops_per_chunk].astype(np.float32) * np.float32(acts.step))
        parts = (xq.T @ xq, xq.T @ xf, xq.sum(0), xf.sum(0))
        a, c, sum_q, sum_f = parts if a is None else (a + parts[0], c + parts[1], sum_q + parts[2],
                                                     sum_f + parts[3])
        rows += xq.shape[0]
    return a, c, sum_q / rows, sum_f / rows


def _augmented(weight: np.ndarray, bias: np.ndarray):
    import torch

    w = np.concatenate([weight.reshape(weight.shape[0], -1), bias[:, None]], axis=1)
    return torch.from_numpy(w.astype(np.float64))


def refit_weights(conv8: ConvWeights, acts: ActivationSet, mask: np.ndarray, ridge: float = DEFAULT_RIDGE,
                  grams=None) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares kept weights (zeros elsewhere) and bias of each channel; float64 (w OIHW, b)."""
    import torch

    cout = conv8.weight.shape[0]
    mask = np.asarray(mask, bool)
    if mask.shape != conv8.weight.shape:
        raise ValueError(f"mask shape {mask.shape} does not match conv8 {conv8.weight.shape}")
    a, c, _, _ = grams if grams is not None else cached_grams(acts)
    n = a.shape[0]
    rhs = c @ _augmented(conv8.weight, conv8.bias).T  # [n, Cout]
    reg = torch.full((n,), ridge * float(a.diagonal()[:-1].mean()), dtype=torch.float64)
    reg[-1] = 0.0  # the bias is not regularised
    keep = np.concatenate([mask.reshape(cout, -1), np.ones((cout, 1), bool)], axis=1)
    if keep.all():
        theta = torch.linalg.solve(a + torch.diag(reg), rhs).T
    else:
        counts = keep.sum(1)
        m = int(counts.max())
        # Per channel: indices of the kept unknowns, padded with a dummy unknown n that has an
        # identity row and a zero right-hand side, so every channel solves an m x m system.
        order = np.argsort(~keep, axis=1, kind="stable")[:, :m]
        valid = np.arange(m)[None, :] < counts[:, None]
        idx = torch.from_numpy(np.where(valid, order, n))
        valid_t = torch.from_numpy(valid)
        a_pad = torch.zeros(n + 1, n + 1, dtype=torch.float64)
        a_pad[:n, :n] = a + torch.diag(reg)
        rhs_pad = torch.cat([rhs.T, torch.zeros(cout, 1, dtype=torch.float64)], dim=1)  # [Cout, n+1]
        theta_pad = torch.zeros(cout, n + 1, dtype=torch.float64)
        by_count = np.argsort(counts, kind="stable")  # chunks of similar size: little padding
        for lo in range(0, cout, _CHUNK):
            rows = torch.from_numpy(by_count[lo:lo + _CHUNK])
            mc = int(counts[by_count[lo:lo + _CHUNK]].max())
            i, v = idx[rows, :mc], valid_t[rows, :mc]
            sub = a_pad[i[:, :, None], i[:, None, :]] * (v[:, :, None] & v[:, None, :])
            sub = sub + torch.diag_embed((~v).to(torch.float64))
            b = rhs_pad[rows].gather(1, i).unsqueeze(-1)
            chol, info = torch.linalg.cholesky_ex(sub)
            if bool((info != 0).any()):
                sol = torch.linalg.solve(sub, b)
            else:
                sol = torch.cholesky_solve(b, chol)
            theta_pad[rows] = theta_pad[rows].scatter(1, i, sol.squeeze(-1))
        theta = theta_pad[:, :n]
    theta = theta.numpy()
    return theta[:, :-1].reshape(conv8.weight.shape) * mask, theta[:, -1].copy()


_FACTOR: dict = {}


def _gptq_factor(a, damp: float, order: str):
    """(column permutation or None, upper Cholesky factor of the damped, permuted H^-1). It
    depends only on the calibration Gram matrix, so it is memoised (one entry): every layer of
    an export shares it (~3 s of the ~5 s of a GPTQ run)."""
    import torch

    if _FACTOR.get("a") is a and _FACTOR.get("key") == (damp, order):
        return _FACTOR["perm"], _FACTOR["u"]
    n = a.shape[0]
    h = a.clone()
    h.diagonal()[:-1] += damp * float(a.diagonal()[:-1].mean())
    h.diagonal()[-1] += 1e-9 * float(h[-1, -1])
    perm = None
    if order == "act":
        perm = torch.cat([torch.from_numpy(act_order(a)), torch.tensor([n - 1])])
        h = h[perm][:, perm]
    u = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    _FACTOR.clear()
    _FACTOR.update(a=a, key=(damp, order), perm=perm, u=u)
    return perm, u


def _gptq_rows(w, keep, levels, scale, a, damp: float, order: str, rate=None, mu: float = 0.0):
    """GPTQ on the rows of augmented weights w [R, n] (last column the bias), each row on the
    integer `levels` times its own `scale` [R]; keep [R, n-1] forces the pruned positions to zero.
    `order` is the quantization order of the weight columns; the bias stays last so it absorbs
    what is left. Returns the quantized weights [R, n-1] (float, in w's column order) and the
    updated w (its last column is the error-fed bias). With `rate` (bits of each level [L]) a
    column goes to the level of least (OBS loss increase) + mu * bits instead of the nearest:
    entropy-constrained rounding, mu in loss units per bit."""
    import torch

    if order not in GPTQ_ORDERS:
        raise ValueError(f"unknown GPTQ order {order!r}; expected one of {', '.join(GPTQ_ORDERS)}")
    n = a.shape[0]
    perm, u = _gptq_factor(a, damp, order)
    w = w.clone()
    if perm is not None:
        w, keep = w[:, perm], keep[:, perm[:-1]]
    q = torch.zeros(w.shape[0], n - 1, dtype=torch.float64)
    mids = (levels[1:] + levels[:-1]) / 2
    zero = torch.zeros((), dtype=torch.float64)
    for i1 in range(0, n - 1, _BLOCK):
        i2 = min(i1 + _BLOCK, n - 1)
        w1 = w[:, i1:i2].clone()
        err1 = torch.zeros_like(w1)
        u1 = u[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = w1[:, i]
            if rate is None:
                qc = levels[torch.searchsorted(mids, col / scale)] * scale
            else:
                dist = ((col[:, None] - levels[None, :] * scale[:, None]) / u1[i, i]) ** 2
                cost = dist + mu * rate[None, :]
                qc = levels[cost.argmin(1)] * scale
            qc = torch.where(keep[:, i1 + i], qc, zero)
            q[:, i1 + i] = qc
            err = (col - qc) / u1[i, i]
            w1[:, i:] -= err[:, None] * u1[i, i:][None, :]
            err1[:, i] = err
        w[:, i2:] -= err1 @ u[i1:i2, i2:]
    if perm is not None:
        unperm = torch.empty_like(q)
        unperm[:, perm[:-1]] = q
        q = unperm
        w_out = torch.empty_like(w)
        w_out[:, perm] = w
        w = w_out
    return q, w


def act_order(a) -> np.ndarray:
    """GPTQ's "act-order": the weight columns by decreasing diag(A) (input energy), so the columns
    that matter most are quantized first, while the most columns are left to absorb their error."""
    import torch

    return torch.argsort(a.diagonal()[:-1], descending=True, stable=True).numpy()


def gptq_quantize(weight: np.ndarray, bias: np.ndarray, mask: np.ndarray, grid: QuantGrid, grams,
                  damp: float = GPTQ_DAMP, order: str = "act") -> tuple[Quantized, np.ndarray]:
    """Quantize columns in `order` ("act": act_order, "natural": (ci, ky, kx)) with error
    feedback; returns (quantized weights, float bias)."""
    import torch

    cout = weight.shape[0]
    keep = torch.from_numpy(np.asarray(mask, bool).reshape(cout, -1))
    levels = torch.from_numpy(grid.levels.astype(np.float64))
    q, w = _gptq_rows(_augmented(weight, bias), keep, levels, torch.from_numpy(grid.wscale), grams[0], damp,
                      order)
    quantized = grid.quantize(q.numpy().reshape(weight.shape), mask)
    return quantized, w[:, -1].numpy().copy()


def calibration_loss(conv8: ConvWeights, grams, wq):
    """Per channel, the calibration distillation loss ||Xq [wq; b*] - Xf [w; b0]||^2 up to a constant
    (b* the exact LS bias given wq [R, n-1], rows repeating conv8's channels), and b*."""
    a, c = grams[0], grams[1]
    cout = conv8.weight.shape[0]
    lin = _augmented(conv8.weight, conv8.bias) @ c.T  # [Cout, n]
    lin = lin.repeat(wq.shape[0] // cout, 1)
    bias = (lin[:, -1] - wq @ a[:-1, -1]) / a[-1, -1]
    import torch

    theta = torch.cat([wq, bias[:, None]], dim=1)
    return (theta * (theta @ a)).sum(1) - 2 * (theta * lin).sum(1), bias


def scale_candidates(grid: QuantGrid) -> np.ndarray:
    """[K, Cout] per-channel scales tried by the GPTQ scale search: the grid's own scale first, then
    its neighbours (x 2^+-1 for the power-of-two formats, whose scales must stay powers of two;
    x 0.9 and 1.1 for the others). Photo-wise CV on int4 dense: 5 factors 0.85 .. 1.16 gain
    0.16 dB more than these 3 but cost 5/3 of the time."""
    if grid.scheme in ("pot", "apot"):
        factors = (1.0, 0.5, 2.0)
    else:
        factors = (1.0, 0.9, 1.1)
    return np.stack([grid.wscale * f for f in factors])


def _level_index(quantized: Quantized) -> np.ndarray:
    return np.searchsorted(quantized.grid.levels, quantized.wint)


def gptq_scale_search(conv8: ConvWeights, weight: np.ndarray, bias: np.ndarray, mask: np.ndarray,
                      grid: QuantGrid, grams, damp: float = GPTQ_DAMP, order: str = "act",
                      rate: np.ndarray | None = None, mu: float = 0.0) -> Quantized:
    """GPTQ for every candidate scale of scale_candidates at once (the channels are independent
    rows), keeping per channel the scale whose quantized weights have the least calibration loss
    (plus mu * their bits, with a `rate` per level: see _gptq_rows). The grid's levels are
    unchanged; only its per-channel scale may move."""
    import torch

    cout = weight.shape[0]
    cands = scale_candidates(grid)
    k = cands.shape[0]
    keep = torch.from_numpy(np.asarray(mask, bool).reshape(cout, -1)).repeat(k, 1)
    levels = torch.from_numpy(grid.levels.astype(np.float64))
    scales = torch.from_numpy(cands.reshape(-1))
    rate_t = None if rate is None else torch.from_numpy(np.asarray(rate, np.float64))
    q, _ = _gptq_rows(_augmented(weight, bias).repeat(k, 1), keep, levels, scales, grams[0], damp, order,
                      rate_t, mu)
    score, _ = calibration_loss(conv8, grams, q)
    if rate_t is not None:
        idx = torch.searchsorted(levels, torch.round(q / scales[:, None]).contiguous())
        score = score + mu * torch.where(keep, rate_t[idx], 0.0).sum(1)
    best = torch.argmin(score.reshape(k, cout), dim=0)  # ties: the grid's own scale (index 0)
    rows = best * cout + torch.arange(cout)
    chosen = dataclasses.replace(grid, wscale=cands[best.numpy(), np.arange(cout)].copy())
    return chosen.quantize(q[rows].numpy().reshape(weight.shape), mask)


def level_bits(quantized: Quantized, mask: np.ndarray) -> np.ndarray:
    """Code length -log2 p of each grid level, p its frequency among the kept slots (what an
    order-0 entropy coder of the code stream pays); an unused level costs more than any used one."""
    counts = np.bincount(_level_index(quantized)[np.asarray(mask, bool)],
                         minlength=len(quantized.grid.levels)).astype(np.float64)
    total = counts.sum()
    return np.where(counts > 0, -np.log2(np.maximum(counts, 1) / total), np.log2(total) + 1)


def entropy_constrained(conv8: ConvWeights, weight: np.ndarray, bias: np.ndarray, mask: np.ndarray,
                        grid: QuantGrid, grams, lam: float, start: Quantized, order: str = "act",
                        iterations: int | None = None) -> Quantized:
    """Entropy-constrained GPTQ: each rounding decision minimises loss + mu * bits, the bits from
    the layer's own code distribution (level_bits), re-estimated `iterations` times from `start`.
    mu = lam * (mean channel scale^2) * mean(1 / [H^-1]_jj): lam is in units of the loss of a
    one-step error on an average column, per bit, so it does not depend on the layer's scale."""
    _, u = _gptq_factor(grams[0], GPTQ_DAMP, order)
    mu = lam * float((grid.wscale ** 2).mean() * (1.0 / u.diagonal()[:-1] ** 2).mean())
    q = start
    for _ in range(RATE_ITERATIONS if iterations is None else iterations):
        q = gptq_scale_search(conv8, weight, bias, mask, grid, grams, order=order, rate=level_bits(q, mask),
                              mu=mu)
    return q


def reach_storage_ratio(conv8: ConvWeights, weight: np.ndarray, bias: np.ndarray, mask: np.ndarray,
                        grid: QuantGrid, grams, start: Quantized, target: float,
                        ratio_of: Callable[[Quantized], float], order: str = "act"
                        ) -> tuple[Quantized, float, bool]:
    """(the entropy-constrained layer, lam, reached) for the smallest lam (to RATE_TOLERANCE, by
    x4 steps then geometric bisection) whose layer reaches `target` x fp32 by ratio_of (its
    entropy-coded storage): a data-free rule, it looks at storage only. lam = 0 when `start`
    already does; a target still out of reach at RATE_LAMBDA_MAX returns that layer, reached
    False (a dense 4-bit layer, say: the figures then show how far it got)."""
    if ratio_of(start) >= target:
        return start, 0.0, True
    lo, lam, best = 0.0, RATE_LAMBDA_START, None
    while best is None:
        q = entropy_constrained(conv8, weight, bias, mask, grid, grams, lam, start, order)
        if ratio_of(q) >= target:
            best, hi = q, lam
        elif lam >= RATE_LAMBDA_MAX:
            return q, lam, False
        else:
            lo, lam = lam, lam * 4
    lo = lo or hi / 16
    while hi / lo > 1 + RATE_TOLERANCE:
        mid = math.sqrt(lo * hi)
        q = entropy_constrained(conv8, weight, bias, mask, grid, grams, mid, start, order)
        if ratio_of(q) >= target:
            best, hi = q, mid
        else:
            lo = mid
    return best, hi, True


def _load_npz(path, keys):
    try:
        with np.load(path, allow_pickle=False) as z:
            return [z[k] for k in keys]
    except (ValueError, OSError, KeyError):
        return None


def _save_npz(path, **arrays) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


_GRAMS: dict[str, tuple] = {}


def cached_grams(acts: ActivationSet):
    """gram_matrices(acts), memoised in memory and on disk (keyed by the calibration data)."""
    import torch

    key = array_digest(_CACHE_VERSION, acts.calib_float, acts.calib_int, acts.a_frac)
    if key not in _GRAMS:
        path = cache_dir() / f"grams_{key}.npz"
        arrays = _load_npz(path, ("a", "c", "mean_q", "mean_f")) if path.is_file() else None
        if arrays is None:
            arrays = [t.numpy() for t in gram_matrices(acts)]
            _save_npz(path, a=arrays[0], c=arrays[1], mean_q=arrays[2], mean_f=arrays[3])
        _GRAMS.clear()  # one calibration set at a time: each is ~85 MB
        _GRAMS[key] = tuple(torch.from_numpy(np.ascontiguousarray(x, np.float64)) for x in arrays)
    return _GRAMS[key]


def cached_refit(conv8: ConvWeights, acts: ActivationSet, mask: np.ndarray, ridge: float = DEFAULT_RIDGE):
    """refit_weights, cached in the cache dir keyed by every input."""
    key = array_digest(_CACHE_VERSION, ridge, conv8.weight, conv8.bias, mask, acts.calib_float,
                       acts.calib_int, acts.a_frac)
    path = cache_dir() / f"refit_{key}.npz"
    arrays = _load_npz(path, ("weight", "bias")) if path.is_file() else None
    if arrays is None or arrays[0].shape != mask.shape:
        arrays = refit_weights(conv8, acts, mask, ridge, cached_grams(acts))
        _save_npz(path, weight=arrays[0], bias=arrays[1])
    return arrays


def refit_and_quantize(conv8: ConvWeights, acts: ActivationSet, mask: np.ndarray,
                       make_grid: Callable[..., QuantGrid], ridge: float = DEFAULT_RIDGE,
                       lsq_refit: bool = True, order: str = "act", scale_search: bool = True,
                       storage_target: float | None = None,
                       ratio_of: Callable[[Quantized], float] | None = None
                       ) -> tuple[Quantized, np.ndarray, dict]:
    """LS refit of the kept weights (+ bias), then GPTQ quantization (columns in `order`) on a
    grid fitted to the refit weights; `scale_search` lets each channel's scale move to the
    neighbour (scale_candidates) whose GPTQ result has the least calibration loss. The Gram
    matrices and the LS refit (the costly parts) are cached in the cache dir, keyed by every
    input. With `storage_target` (x fp32, measured by `ratio_of`) the codes are then re-chosen by
    entropy-constrained GPTQ with the smallest rate weight that reaches it (reach_storage_ratio).
    Returns (quantized, float64 bias, info)."""
    import torch

    grams = cached_grams(acts)
    if lsq_refit:
        w_fit, b_fit = cached_refit(conv8, acts, mask, ridge)
    else:
        w_fit, b_fit = conv8.weight.astype(np.float64) * mask, conv8.bias.astype(np.float64)
    grid = make_grid(w_fit, mask, col_weight=grams[0].diagonal()[:-1].numpy())
    if scale_search:
        quantized = gptq_scale_search(conv8, w_fit, b_fit, mask, grid, grams, order=order)
    else:
        quantized, _ = gptq_quantize(w_fit, b_fit, mask, grid, grams, order=order)
    info = {"ridge": ridge if lsq_refit else None, "gptq_order": order, "gptq_scale_search": scale_search}
    if storage_target is not None:
        if ratio_of is None or not scale_search:
            raise ValueError("a storage target needs ratio_of and the scale search")
        quantized, lam, reached = reach_storage_ratio(conv8, w_fit, b_fit, mask, grid, grams, quantized,
                                                      storage_target, ratio_of, order)
        info.update(storage_target=storage_target, rate_lambda=lam, storage_target_reached=reached)
    # the exact LS bias given the quantized weights
    wq = torch.from_numpy(quantized.wint.reshape(mask.shape[0], -1) * quantized.wscale[:, None])
    _, bias = calibration_loss(conv8, grams, wq)
    return quantized, bias.numpy(), info
