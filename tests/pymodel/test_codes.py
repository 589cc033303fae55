"""The code-format objects (pymodel.codes.CodeFormat): every code of every supported width."""

from __future__ import annotations

import numpy as np
import pytest

from pymodel import codes

FORMATS = ([("int", b, 0, 0) for b in range(2, 9)]
           + [("pot", 1 + e, e, 0) for e in range(1, 5)]
           + [("apot", 2 + e1 + e2, e1, e2) for e1 in range(1, 5) for e2 in range(1, 5)]
           + [("ios", 4, 0, 0)])
# a codebook using every mantissa, exponents up to 15, both signs and the zero level
IOS_LEVELS = np.array([0, 1, -1, 3, -3, 5, -5, 7, -7, 2, -12, 40, -56, 7 << 8, -(5 << 12), 7 << 15])


def _every_code(kind: str, w_bits: int):
    desc = np.array([codes.encode_level(int(v)) for v in IOS_LEVELS]) if kind == "ios" else None
    return np.arange(1 << w_bits, dtype=np.uint16), desc


@pytest.mark.parametrize(("kind", "w_bits", "e1", "e2"), FORMATS, ids=lambda x: str(x))
def test_terms_rebuild_every_code_and_max_abs_is_reached(kind, w_bits, e1, e2):
    fmt = codes.code_format(kind, w_bits, e1, e2)
    c, desc = _every_code(kind, w_bits)
    w = fmt.decode(c, desc).astype(np.int64)
    assert np.array_equal(w, codes.decode(c, kind, w_bits, e1, e2, desc))
    rebuilt = sum(p.astype(np.int64) << e for e, p in fmt.shift_add_terms(c, desc))
    assert np.array_equal(rebuilt, w), f"{fmt}: shift-add terms do not add up to the decoded weights"
    for _, plane in fmt.shift_add_terms(c, desc):
        assert set(np.unique(plane).tolist()) <= {-1, 0, 1}
    assert np.abs(w).max() == fmt.max_abs_weight(desc)


@pytest.mark.parametrize(("kind", "w_bits", "e1", "e2"), [f for f in FORMATS if f[0] != "ios"],
                         ids=lambda x: str(x))
def test_quantizer_codes(kind, w_bits, e1, e2):
    fmt = codes.code_format(kind, w_bits, e1, e2)
    grid = fmt.decode(fmt.quantizer_codes()).astype(np.int64)
    assert 0 in grid
    if kind == "int":  # symmetric: every code but -2^(b-1)
        assert grid.size == (1 << w_bits) - 1 and np.array_equal(np.sort(grid), -np.sort(grid)[::-1])
    else:
        assert grid.size == 1 << w_bits


def test_product_ops():
    wint = np.array([[[[0, 1, -4], [2, 0, 0], [0, 0, 8]]]])
    assert codes.code_format("int", 8).product_ops(wint, None, 784, 1) == {"multiplies": 784 * 4}
    pot = codes.code_format("pot", 4, 3)
    pot_codes = np.array([[[[0, 1, 11], [2, 0, 0], [0, 0, 4]]]])
    assert np.array_equal(pot.decode(pot_codes), wint)
    assert pot.product_ops(wint, pot_codes, 784, 1) == {"shifts": 784 * 4, "adds": 0}
    apot = codes.code_format("apot", 6, 2, 2)
    a_codes = np.array([[[[0b001_011]]]])  # {s1 0, e1 1, s2 0, e2 3}: 2^0 + 2^2 = 5, two terms
    assert apot.decode(a_codes)[0, 0, 0, 0] == 5
    assert apot.product_ops(np.array([[[[5]]]]), a_codes, 784, 1) == {"shifts": 2 * 784, "adds": 784}
    assert apot.adds_per_slot == 2 and pot.adds_per_slot == 1


@pytest.mark.parametrize(("kind", "w_bits", "e1", "e2", "what"), [
    ("int", 1, 0, 0, "2..8 bits"), ("int", 9, 0, 0, "2..8 bits"), ("pot", 5, 3, 0, "E in 1..4"),
    ("pot", 6, 5, 0, "E in 1..4"), ("apot", 6, 2, 1, "E1, E2 in 1..4"), ("apot", 3, 1, 0, "E1, E2 in 1..4"),
    ("ios", 5, 0, 0, "w_bits must be 4"), ("float", 8, 0, 0, "unknown weight scheme")])
def test_unsupported_formats_are_refused(kind, w_bits, e1, e2, what):
    with pytest.raises(codes.CodeFormatError, match=what):
        codes.code_format(kind, w_bits, e1, e2)


def test_ios_needs_its_levels_and_codes_must_fit():
    fmt = codes.code_format("ios", 4)
    with pytest.raises(codes.CodeFormatError, match="level descriptors"):
        fmt.decode(np.zeros(3, np.uint8))
    with pytest.raises(codes.CodeFormatError, match="out of range"):
        codes.code_format("pot", 4, 3).decode(np.array([16]))


def _sym_desc(mags):
    half = np.array([codes.encode_level(int(v)) for v in mags], np.uint8)
    return np.concatenate([half, half | 0x80]).astype(np.uint8)


def test_sign_symmetric_descriptors():
    """ios4s: desc[8 + m] = desc[m] | 0x80, so code c decodes to (-1)^(c >> 3) * M[c & 7];
    desc[8] = 0x80 is a "negative zero" that decodes to 0, and the lowest code of 0 stays 0."""
    from pymodel.quant import level_table

    mags = [0, 2, 4, 7, 10, 14, 20, 28]
    desc = _sym_desc(mags)
    assert desc[8] == 0x80 and codes.is_sign_symmetric(desc)
    c = np.arange(16)
    np.testing.assert_array_equal(codes.decode(c, "ios", 4, level_desc=desc),
                                  np.where(c >> 3, -1, 1) * np.array(mags)[c & 7])
    assert codes.level_values(desc)[8] == 0 and codes.max_abs_weight("ios", 4, level_desc=desc) == 28
    levels, lcodes = level_table("ios", 4, level_desc=desc)
    assert len(levels) == 15 and lcodes[np.searchsorted(levels, 0)] == 0
    assert codes.level_exp_max(desc) == 2  # 4 = 1 << 2, 20 = 5 << 2, 28 = 7 << 2
    assert codes.level_exp_max(np.zeros(16, np.uint8)) == 0
    assert codes.level_exp_max(_sym_desc([0, 1, 3, 6, 20, 96, 160, 7 << 5])) == 5
    asym = np.array([codes.encode_level(int(v)) for v in IOS_LEVELS[:16]], np.uint8)
    assert not codes.is_sign_symmetric(asym)
    neg_half = desc.copy()
    neg_half[3] |= 0x80  # a negative magnitude among 0..7
    neg_half[11] = neg_half[3]
    wrong_mirror = desc.copy()
    wrong_mirror[13] = codes.encode_level(-20)  # -20 where -14 belongs
    assert not codes.is_sign_symmetric(neg_half) and not codes.is_sign_symmetric(wrong_mirror)
    assert not codes.is_sign_symmetric(desc[:8])
