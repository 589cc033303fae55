"""The three accumulator arithmetics agree with an independent float64 oracle; output stage and
requantization follow docs/engine.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymodel import codes as C
from pymodel import contract as K
from pymodel import reference as R
from pymodel.types import ConvWeights, QuantizedLayer

# (scheme, w_bits, exp1_bits, exp2_bits): the engine's formats plus edge widths
FORMATS = [
    ("int", 8, 0, 0),
    ("int", 4, 0, 0),
    ("int", 2, 0, 0),
    ("int", 6, 0, 0),
    ("pot", 4, 3, 0),
    ("pot", 2, 1, 0),
    ("pot", 5, 4, 0),
    ("apot", 6, 2, 2),
    ("apot", 5, 2, 1),
    ("apot", 8, 3, 3),  # codes are uint8: <= 8 bits
    ("ios", 4, 0, 0),
]


@pytest.fixture(autouse=True)
def float32_path(monkeypatch):
    """Every conv here takes the float32 channel-group path (the reference sends small convs to
    acc_int64, the integer path the oracle below checks independently); the small-conv switch
    has its own test."""
    monkeypatch.setattr(R, "SMALL_CONV_MACS", 0)


def oracle(act: np.ndarray, wint: np.ndarray) -> np.ndarray:
    """float64 conv: exact while |sums| < 2^53, independent of the reference's plane splitting."""
    assert np.abs(wint).astype(np.float64).max(initial=0) * act.max(initial=0) * 9 * act.shape[0] < 2**53
    y = torch.nn.functional.conv2d(
        torch.from_numpy(act.astype(np.float64))[None], torch.from_numpy(wint.astype(np.float64)), padding=1
    )[0]
    return y.numpy().astype(np.int64)


def random_level_desc(rng: np.random.Generator, max_exp: int = 15) -> np.ndarray:
    desc = [0]
    while len(desc) < C.N_LEVELS:
        mant = int(rng.choice([1, 3, 5, 7]))
        desc.append((int(rng.integers(0, 2)) << 7) | (mant << 4) | int(rng.integers(0, max_exp + 1)))
    return np.array(desc, dtype=np.uint8)


def make_layer(fmt, codes: np.ndarray, level_desc=None) -> QuantizedLayer:
    scheme, w_bits, e1, e2 = fmt
    wint = C.decode(codes, scheme, w_bits, e1, e2, level_desc)
    cout = codes.shape[0]
    return QuantizedLayer(
        scheme,
        "dense",
        False,
        w_bits,
        e1,
        e2,
        codes.astype(np.uint8),
        wint,
        np.full(cout, 2.0**-7),
        np.ones(codes.shape, bool),
        np.zeros(cout, np.float32),
        level_desc=level_desc,
    )


def all_three(act: np.ndarray, layer: QuantizedLayer, a_bits: int) -> dict[str, np.ndarray]:
    out = {
        arith: R.layer_acc(act, layer, arith, a_bits) for arith in ("multiply", "shift_add", "product_lut")
    }
    levels = R.code_levels(layer)
    for method in ("gather", "planes"):
        out[f"lut_{method}"] = R.acc_product_lut(
            act, layer.codes, levels=levels, a_bits=a_bits, method=method
        )
    out["int64"] = R.acc_int64(act, layer.wint)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    a_bits=st.integers(*K.A_BITS_RANGE),  # the contract's legal range
    cin=st.integers(1, 12),
    cout=st.integers(1, 6),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    act_mode=st.sampled_from(["random", "max", "zero", "sparse"]),
)
def test_three_arithmetics_agree_with_oracle(fmt, a_bits, cin, cout, h, w, seed, act_mode):
    rng = np.random.default_rng(seed)
    amax = (1 << a_bits) - 1
    act = {
        "random": rng.integers(0, amax + 1, (cin, h, w)),
        "max": np.full((cin, h, w), amax),
        "zero": np.zeros((cin, h, w)),
        "sparse": rng.integers(0, amax + 1, (cin, h, w)) * (rng.random((cin, h, w)) < 0.2),
    }[act_mode]
    act = act.astype(np.uint8)
    level_desc = random_level_desc(rng) if fmt[0] == "ios" else None
    codes = rng.integers(0, 1 << fmt[1], (cout, cin, 3, 3))
    layer = make_layer(fmt, codes, level_desc)
    expected = oracle(act, layer.wint)
    for name, acc in all_three(act, layer, a_bits).items():
        assert acc.dtype == np.int64 and acc.shape == (cout, h, w), name
        np.testing.assert_array_equal(acc, expected, err_msg=name)
    bound = 1 << (R.acc_bits_for(layer, cin, a_bits) - 1)
    assert np.all((-bound <= expected) & (expected < bound))


def max_magnitude_codes(fmt, level_desc=None) -> np.ndarray:
    """Every code whose decoded |w| equals the format's max_abs_weight."""
    scheme, w_bits, e1, e2 = fmt
    all_codes = np.arange(1 << w_bits)
    vals = C.decode(all_codes, scheme, w_bits, e1, e2, level_desc).astype(np.int64)
    return all_codes[np.abs(vals) == C.max_abs_weight(scheme, w_bits, e1, e2, level_desc)]


@pytest.mark.parametrize("a_bits", [4, 8])
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f"{f[0]}{f[1]}")
def test_worst_case_at_acc_bits_bound(fmt, a_bits):
    """All-max activations x all max-magnitude weights over conv8's Cin=256: the centre pixel
    reaches the exact worst case, which must fit acc_bits and need all of it."""
    cin, amax = 256, (1 << a_bits) - 1
    level_desc = None
    if fmt[0] == "ios":  # include the largest possible level 7*2^15
        level_desc = random_level_desc(np.random.default_rng(1))
        level_desc[5] = C.encode_level(-(7 << 15))
    cand = max_magnitude_codes(fmt, level_desc)
    signed_vals = C.decode(cand, fmt[0], fmt[1], fmt[2], fmt[3], level_desc).astype(np.int64)
    # one output channel all-positive max (if the format has it), one all-negative max
    codes = np.stack(
        [
            np.full((cin, 3, 3), cand[np.argmax(signed_vals)]),
            np.full((cin, 3, 3), cand[np.argmin(signed_vals)]),
        ]
    )
    layer = make_layer(fmt, codes, level_desc)
    act = np.full((cin, 5, 5), amax, dtype=np.uint8)
    accs = all_three(act, layer, a_bits)
    max_w = C.max_abs_weight(fmt[0], fmt[1], fmt[2], fmt[3], level_desc)
    worst = cin * 9 * amax * max_w
    for name, acc in accs.items():
        assert acc[0, 2, 2] == cin * 9 * amax * signed_vals.max(), name
        assert acc[1, 2, 2] == cin * 9 * amax * signed_vals.min(), name
        np.testing.assert_array_equal(acc, accs["int64"], err_msg=name)
    acc_bits = R.acc_bits_for(layer, cin, a_bits)
    assert acc_bits == C.acc_bits(cin, a_bits, max_w)
    extreme = max(abs(int(accs["multiply"].max())), abs(int(accs["multiply"].min())))
    assert extreme == worst
    assert -(1 << (acc_bits - 1)) <= -worst and worst < (1 << (acc_bits - 1))  # fits
    assert worst >= (1 << (acc_bits - 2))  # and needs the width: acc_bits is tight


def test_full_conv8_layer_exact_and_fast():
    """A whole 512x256x28x28 layer with 8-bit activations and int8 weights: exact and quick."""
    import time

    rng = np.random.default_rng(7)
    act = rng.integers(0, 256, (256, 28, 28)).astype(np.uint8)
    codes = rng.integers(0, 256, (512, 256, 3, 3))
    layer = make_layer(("int", 8, 0, 0), codes)
    R.acc_multiply(act[:, :4, :4], layer.wint)  # warm up torch
    t = time.perf_counter()
    acc = R.acc_multiply(act, layer.wint)
    elapsed = time.perf_counter() - t
    np.testing.assert_array_equal(acc, oracle(act, layer.wint))
    assert elapsed < 2.0, f"full-layer accumulator took {elapsed:.2f} s"


@pytest.mark.parametrize("macs_limit", [0, 1 << 60], ids=["float32", "int64"])
def test_small_conv_switch_picks_the_path(monkeypatch, macs_limit):
    """Below SMALL_CONV_MACS the reference convolves with acc_int64, above it in float32 channel
    groups; both give the oracle's sums."""
    monkeypatch.setattr(R, "SMALL_CONV_MACS", macs_limit)
    calls = []
    real = R.acc_int64
    monkeypatch.setattr(R, "acc_int64", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(3)
    act = rng.integers(0, 256, (16, 6, 7)).astype(np.uint8)
    layer = make_layer(("int", 8, 0, 0), rng.integers(0, 256, (8, 16, 3, 3)))
    np.testing.assert_array_equal(R.acc_multiply(act, layer.wint), oracle(act, layer.wint))
    assert bool(calls) == (macs_limit > 0)


def test_float32_exactness_needs_channel_groups():
    """Cin so large that one plane conv would exceed 2^24: the reference must split channels."""
    cin = 8000  # 8000*9*255 > 2^24
    assert cin * 9 * 255 >= R.F32_EXACT_LIMIT
    act = np.full((cin, 3, 3), 255, dtype=np.uint8)
    wint = np.ones((2, cin, 3, 3), dtype=np.int32)
    wint[1] = -127
    acc = R.acc_multiply(act, wint)
    assert acc[0, 1, 1] == cin * 9 * 255 and acc[1, 1, 1] == -cin * 9 * 255 * 127
    np.testing.assert_array_equal(acc, R.acc_int64(act, wint))
    codes = (wint.astype(np.int64) & 0xFF).astype(np.uint8)
    np.testing.assert_array_equal(R.acc_shift_add(act, codes, "int", 8), acc)


# ----------------------------------------------------------------------------- output stage


def scalar_output_stage(acc: int, bias: int, shift: int, a_bits: int) -> int:
    """docs/engine.md, literally, on Python ints."""
    s = acc + bias
    r = max(s, 0)
    if shift > 0:
        r = (r + 2 ** (shift - 1)) // 2**shift
    return min(r, 2**a_bits - 1)


@settings(max_examples=300, deadline=None)
@given(
    acc=st.integers(-(2**40), 2**40),
    bias=st.integers(-(2**31), 2**31 - 1),
    shift=st.integers(0, 31),
    a_bits=st.integers(4, 8),
)
def test_output_stage_matches_scalar_formula(acc, bias, shift, a_bits):
    got = R.output_stage(np.array([[[acc]]]), np.array([bias], np.int32), np.array([shift], np.uint8), a_bits)
    assert got.dtype == np.uint8
    assert int(got[0, 0, 0]) == scalar_output_stage(acc, bias, shift, a_bits)


def test_output_stage_edge_cases():
    rng = np.random.default_rng(0)
    acc = rng.integers(-(2**20), 2**20, (8, 5, 5))
    acc[0, 0, :5] = [3, 1, 5, -1, 0]  # channel 0 has shift 1: 1.5 -> 2, 0.5 -> 1, 2.5 -> 3 (half up)
    bias = rng.integers(-(2**10), 2**10, 8).astype(np.int32)
    bias[0] = 0
    shift = np.array([1, 0, 0, 3, 31, 7, 12, 2], np.uint8)
    got = R.output_stage(acc, bias, shift, 8)
    assert got[0, 0, :5].tolist() == [2, 1, 3, 0, 0]
    expected = np.vectorize(scalar_output_stage)(
        acc, bias[:, None, None], shift[:, None, None].astype(int), 8
    )
    np.testing.assert_array_equal(got, expected)
    assert got[1].max() == 255  # shift 0 with large positive sums saturates


# ----------------------------------------------------------------------------- requantization


def test_requant_params_power_of_two_scales_are_exact():
    cout = 6
    layer = make_layer(("pot", 4, 3, 0), np.ones((cout, 2, 3, 3), np.int64))
    layer = QuantizedLayer(
        **{
            **layer.__dict__,
            "wscale": 2.0 ** -np.arange(5, 5 + cout),
            "bias": np.linspace(-1, 1, cout).astype(np.float32),
        }
    )
    a_frac, out_frac = 4, 2
    bias_int, shift, residual = R.requant_params(layer, None, a_frac, out_frac)
    assert bias_int.dtype == np.int32 and shift.dtype == np.uint8 and residual.dtype == np.float64
    np.testing.assert_array_equal(residual, 1.0)
    for co in range(cout):
        m = 2.0**-a_frac * layer.wscale[co] / 2.0**-out_frac
        assert shift[co] == round(-math.log2(m))
        assert bias_int[co] == round(float(layer.bias[co]) / (2.0**-a_frac * layer.wscale[co]))


def test_requant_params_residual_clamp_and_errors():
    cout = 4
    layer = make_layer(("int", 8, 0, 0), np.ones((cout, 2, 3, 3), np.int64))
    wscale = np.array([0.0123, 3.0, 1e-14, 0.5])
    layer = QuantizedLayer(
        **{**layer.__dict__, "wscale": wscale, "bias": np.array([1e9, -2.0, 0.0, 0.3], np.float32)}
    )
    bias_int, shift, residual = R.requant_params(layer, layer.bias, 0, 0)
    m = wscale
    assert shift[0] == round(-math.log2(m[0])) and 2**-0.5 <= residual[0] <= 2**0.5
    assert shift[1] == 0 and residual[1] == pytest.approx(3.0)  # M > 1: shift clamps at 0
    assert shift[2] == 31 and residual[2] == pytest.approx(1e-14 * 2**31)  # clamps at 31
    assert bias_int[2] == 0 and bias_int[0] == np.iinfo(np.int32).max  # saturated
    np.testing.assert_allclose(residual, m * 2.0 ** shift.astype(float))
    bad = QuantizedLayer(**{**layer.__dict__, "wscale": np.array([0.1, 0.0, 0.1, 0.1])})
    with pytest.raises(R.ReferenceInputError, match="wscale must be positive and finite; channel 1"):
        R.requant_params(bad, None, 0, 0)


def test_out_frac_from_calibration_covers_the_percentile():
    rng = np.random.default_rng(0)
    conv = ConvWeights(rng.normal(0, 0.05, (8, 4, 3, 3)).astype(np.float32), np.zeros(8, np.float32), "test")
    calib = rng.random((3, 4, 6, 6)).astype(np.float32) * 50
    clip = np.percentile(np.maximum(R.float_conv3x3(calib, conv), 0), 99.99)
    for a_bits in (4, 8):
        f = R.out_frac_from_calibration(conv, calib, a_bits)
        top = (2**a_bits - 1) * 2.0**-f
        assert top >= clip > top / 2


def test_bad_inputs_give_clear_errors():
    act = np.zeros((4, 5, 5), np.uint8)
    with pytest.raises(R.ReferenceInputError, match=r"must be \[Cout,4,3,3\]"):
        R.acc_multiply(act, np.zeros((2, 3, 3, 3), np.int32))
    with pytest.raises(R.ReferenceInputError, match=r"activations must be \[Cin,H,W\]"):
        R.acc_multiply(act[None], np.zeros((2, 4, 3, 3), np.int32))
    with pytest.raises(R.ReferenceInputError, match="must be integers"):
        R.acc_multiply(act.astype(np.float32), np.zeros((2, 4, 3, 3), np.int32))
    with pytest.raises(R.ReferenceInputError, match="does not fit a_bits=4"):
        R.acc_product_lut(act + 16, np.zeros((2, 4, 3, 3), np.uint8), levels=np.arange(16), a_bits=4)
    with pytest.raises(C.CodeFormatError, match="codes out of range"):
        R.acc_shift_add(act, np.full((2, 4, 3, 3), 16, np.uint8), "int", 4)
    with pytest.raises(R.ReferenceInputError, match="shift must be 0..31"):
        R.output_stage(np.zeros((1, 2, 2)), np.zeros(1, np.int32), np.array([32]), 8)
