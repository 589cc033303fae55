"""Retraining of the compressed conv8 without labels, by distillation on the calibration crops.

The loss is the MSE between the compressed layer's output (quantized weights, quantized inputs)
and the float layer's output (float weights, float inputs) over every output position of the
calibration crops. For one linear layer that loss is a quadratic form in the augmented weights
theta = [w; b] of each output channel:

    L(theta) = theta^T A theta - 2 theta^T C theta0 + const,   A = Xq^T Xq, C = Xq^T Xf

with the Gram matrices of pymodel.refit, so every step is exact full-batch gradient descent on
all calibration crops at the cost of one [Cout, n] x [n, n] product (n = 9 Cin + 1), whatever the
number of crops. The bias is always at its exact optimum given the weights. Starting point: the
closed-form refit (LS refit + GPTQ codes), and the best quantized point seen (by the exact
calibration loss) is returned, so retraining never ends worse than the refit on calibration.

Methods (each keeps the pruning mask and the grid of the refit, so the result exports through
the same vector format and runs on the same RTL / HLS cores):

* qat:     quantization-aware fine-tuning with a straight-through estimator: latent float
           weights, the forward pass uses their nearest grid level, the gradient w.r.t. the
           level is applied to the latent weight; Adam, cosine-decayed step in units of each
           channel's scale.
* inq:     INQ's incremental schedule: from the LS-refit float weights, quantize and freeze the
           largest-magnitude 50 / 75 / 87.5 / 100 % of each channel's kept weights, retraining the
           still-free float weights (Adam on the same loss) after each partition.
* iosdist: qat plus a distribution loss (IOS-PoT's idea of pulling the weight distribution onto
           the codebook): lambda * sum_j diag(A)_j (w_j - Q(w_j))^2, ramped up over the run, so
           latent weights settle on their levels instead of oscillating across decision bounds.
* krplr:   qat with a learning-rate tracking schedule (the KRP paper's LR tracking, as we read
           it: the step follows the loss): every few steps the step grows by 20 % when the loss
           improved and halves (restarting from the best point) when it did not.

Budget: `steps` gradient steps (default DEFAULT_STEPS), one thread (torch.set_num_threads(1)),
~0.1-0.2 s per step on this machine. Results are cached in the cache dir keyed by every input.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from pymodel.activations import ActivationSet
from pymodel.quant import Quantized
from pymodel.types import ConvWeights
from pymodel.weights import array_digest, cache_dir

METHODS = ("qat", "inq", "iosdist", "krplr")
DEFAULT_STEPS = 80
INQ_FRACTIONS = (0.5, 0.75, 0.875, 1.0)
_CACHE_VERSION = 1


def _source_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


class _Problem:
    """The quadratic distillation loss of one layer, in torch float64."""

    def __init__(self, conv8: ConvWeights, acts: ActivationSet, mask: np.ndarray):
        import torch

        from pymodel.refit import _augmented, cached_grams

        a, c, _, _ = cached_grams(acts)
        self.a = a
        theta0 = _augmented(conv8.weight, conv8.bias)  # [Cout, n]
        self.b = theta0 @ c.T  # [Cout, n]: the linear term
        self.keep = torch.from_numpy(np.asarray(mask, bool).reshape(mask.shape[0], -1))
        self.diag = a.diagonal()[:-1].clone()
        self.cout = mask.shape[0]

    def full(self, w):
        """theta = [w; b*(w)] with the exact optimal bias for the weights w [Cout, n-1]."""
        import torch

        a, b = self.a, self.b
        bias = (b[:, -1] - w @ a[:-1, -1]) / a[-1, -1]
        return torch.cat([w, bias[:, None]], dim=1)

    def loss_grad(self, w):
        """(loss per channel up to a constant, gradient w.r.t. the kept weights)."""
        theta = self.full(w)
        ta = theta @ self.a
        loss = (theta * ta).sum(1) - 2 * (theta * self.b).sum(1)
        grad = 2 * (ta - self.b)[:, :-1]
        return loss, grad * self.keep


class _Adam:
    def __init__(self, shape, beta1=0.9, beta2=0.999, eps=1e-12):
        import torch

        self.m = torch.zeros(shape, dtype=torch.float64)
        self.v = torch.zeros(shape, dtype=torch.float64)
        self.t = 0
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def direction(self, grad):
        self.t += 1
        self.m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
        self.v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        m_hat = self.m / (1 - self.beta1 ** self.t)
        v_hat = self.v / (1 - self.beta2 ** self.t)
        return m_hat / (v_hat.sqrt() + self.eps)


def _rounder(grid):
    """Torch nearest-level rounding of [Cout, n-1] weights on the grid (its own tie rule)."""
    import torch

    scale = torch.from_numpy(grid.wscale)[:, None]

    def rnd(w):
        idx = grid.nearest_index((w / scale).numpy())
        return torch.from_numpy(grid.levels[idx].astype(np.float64)) * scale

    return rnd, scale


def _qat(prob: _Problem, grid, w_start, steps: int, lr: float, dist_lambda: float = 0.0,
         lr_tracking: bool = False, progress: bool = True, desc: str = "qat"):
    import torch
    from tqdm import tqdm

    rnd, scale = _rounder(grid)
    latent = w_start.clone()
    best_w = rnd(latent) * prob.keep
    best_loss, _ = prob.loss_grad(best_w)
    adam = _Adam(latent.shape)
    step_lr = lr
    last_check = best_loss.sum().item()
    history = []
    for t in tqdm(range(steps), desc=desc, disable=not progress, leave=False, unit="step"):
        wq = rnd(latent) * prob.keep
        loss, grad = prob.loss_grad(wq)
        better = loss < best_loss
        if bool(better.any()):  # per channel: the channels are independent problems
            best_loss = torch.where(better, loss, best_loss)
            best_w = torch.where(better[:, None], wq, best_w)
        if dist_lambda:
            ramp = dist_lambda * min(1.0, 2.0 * t / max(steps, 1))
            grad = grad + 2 * ramp * prob.diag[None, :] * (latent - wq) * prob.keep
        if lr_tracking:
            if t and t % 10 == 0:
                total = best_loss.sum().item()
                if total < last_check - 1e-9 * abs(last_check):
                    step_lr *= 1.2
                else:
                    step_lr *= 0.5
                    latent = best_w.clone()
                    adam = _Adam(latent.shape)
                last_check = total
            cur = step_lr
        else:
            cur = lr * 0.5 * (1 + math.cos(math.pi * t / steps))
        latent = latent - cur * scale * adam.direction(grad) * prob.keep
        history.append(float(loss.sum()))
    return best_w, {"loss_start": history[0] if history else float(best_loss.sum()),
                    "loss_best": float(best_loss.sum())}


def _inq(prob: _Problem, grid, w_float, steps: int, lr: float, progress: bool = True):
    import torch
    from tqdm import tqdm

    rnd, scale = _rounder(grid)
    w = w_float.clone() * prob.keep
    frozen = torch.zeros_like(prob.keep)
    kept_per_channel = prob.keep.sum(1)
    per_stage = max(1, steps // (len(INQ_FRACTIONS) - 1))
    bar = tqdm(total=per_stage * (len(INQ_FRACTIONS) - 1), desc="inq", disable=not progress, leave=False,
               unit="step")
    for frac in INQ_FRACTIONS:
        # per channel, freeze the largest |w| among the free kept weights up to frac of the kept ones
        target = torch.ceil(kept_per_channel * frac).to(torch.int64)
        score = torch.where(prob.keep & ~frozen, w.abs(), torch.tensor(-1.0, dtype=torch.float64))
        score = torch.where(frozen, torch.tensor(math.inf, dtype=torch.float64), score)
        order = torch.argsort(score, dim=1, descending=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(order.shape[1]).expand_as(order))
        frozen_now = (rank < target[:, None]) & prob.keep
        w = torch.where(frozen_now & ~frozen, rnd(w), w)
        frozen = frozen_now
        free = prob.keep & ~frozen
        if frac >= 1.0 or not bool(free.any()):
            break
        adam = _Adam(w.shape)
        for t in range(per_stage):
            _, grad = prob.loss_grad(w)
            cur = lr * 0.5 * (1 + math.cos(math.pi * t / per_stage))
            w = w - cur * scale * adam.direction(grad) * free
            bar.update(1)
    bar.close()
    wq = rnd(w) * prob.keep  # a no-op on the frozen weights; all are frozen at the last stage
    loss, _ = prob.loss_grad(wq)
    return wq, {"loss_best": float(loss.sum()), "inq_fractions": list(INQ_FRACTIONS)}


def retrain_layer(conv8: ConvWeights, acts: ActivationSet, mask: np.ndarray, start: Quantized,
                  start_bias: np.ndarray, method: str, pruning: str = "", steps: int | None = None,
                  lr: float | None = None, progress: bool = True, use_cache: bool = True
                  ) -> tuple[Quantized, np.ndarray, dict]:
    """Fine-tune the refitted layer `start` (codes on its grid) by `method`; returns
    (quantized on the same grid, float64 bias, info). Cached on disk keyed by every input."""
    import time

    import torch

    if method not in METHODS:
        raise ValueError(f"unknown retraining method {method!r}; expected one of {', '.join(METHODS)}")
    steps = DEFAULT_STEPS if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"retraining needs at least one step, got {steps}")
    lr = {"qat": 0.05, "inq": 0.05, "iosdist": 0.05, "krplr": 0.05}[method] if lr is None else lr
    grid = start.grid
    key = array_digest(_CACHE_VERSION, _source_digest(), method, steps, lr, conv8.weight, conv8.bias,
                       np.asarray(mask, bool), acts.calib_float, acts.calib_int, acts.a_frac, grid.levels,
                       grid.wscale, start.wint, np.asarray(start_bias, np.float64))
    path = cache_dir() / f"retrain_{method}_{key}.npz"
    if use_cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                wq, bias, info = z["wq"], z["bias"], json.loads(str(z["info"]))
            return grid.quantize(wq, mask), bias, {**info, "retrain_cached": True}
        except (OSError, ValueError, KeyError, TypeError):
            pass
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine's cores are shared; a bounded, predictable budget
    t0 = time.perf_counter()
    try:
        prob = _Problem(conv8, acts, mask)
        cout = mask.shape[0]
        w_start = torch.from_numpy(start.wint.reshape(cout, -1) * start.wscale[:, None])
        label = f"{method} {pruning}".strip()
        if method == "inq":
            from pymodel.refit import cached_refit

            if bool(np.asarray(mask, bool).all()):
                w_float = torch.from_numpy(conv8.weight.astype(np.float64).reshape(cout, -1))
            else:
                w_float = torch.from_numpy(cached_refit(conv8, acts, mask)[0].reshape(cout, -1))
            wq, info = _inq(prob, grid, w_float, steps, lr, progress)
            # INQ's result is kept only if it beats the refit on calibration: same rule as the others
            start_loss, _ = prob.loss_grad(w_start * prob.keep)
            loss, _ = prob.loss_grad(wq)
            wq = torch.where((loss < start_loss)[:, None], wq, w_start * prob.keep)
            info["loss_start"] = float(start_loss.sum())
            info["inq_channels_kept_refit"] = int((loss >= start_loss).sum())
        else:
            wq, info = _qat(prob, grid, w_start, steps, lr, dist_lambda=0.5 if method == "iosdist" else 0.0,
                            lr_tracking=method == "krplr", progress=progress, desc=label)
        bias = prob.full(wq)[:, -1].numpy()  # the exact LS bias given the weights, as the refit's
        wq_np = wq.numpy().reshape(mask.shape)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - t0
    quantized = grid.quantize(wq_np, mask)
    info = {**info, "retrain_steps": steps, "retrain_lr": lr, "retrain_s": round(seconds, 2)}
    if use_cache:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, wq=wq_np, bias=bias, info=np.array(json.dumps(info)))
        tmp.replace(path)
    return quantized, bias, {**info, "retrain_cached": False}
