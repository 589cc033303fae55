"""Weight code formats shared by the quantizers, the integer reference and the hardware.

The layouts are specified in docs/engine.md; this module is their single implementation in
Python. Every function works on numpy arrays of codes (uint8) and returns int32 weights.
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("int", "pot", "apot", "ios")
N_LEVELS = 16
IOS_MANTISSAS = (0, 1, 3, 5, 7)


class CodeFormatError(ValueError):
    """A code width, field split or code value the hardware formats do not support."""


def check_format(scheme: str, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0) -> None:
    """Raise CodeFormatError unless (scheme, widths) is a supported code format."""
    if scheme not in SCHEMES:
        raise CodeFormatError(f"unknown weight scheme {scheme!r}; expected one of {SCHEMES}")
    if scheme == "int":
        if not 2 <= w_bits <= 8:
            raise CodeFormatError(f"int weights need 2..8 bits, got w_bits={w_bits}")
    elif scheme == "pot":
        if not 1 <= exp1_bits <= 4 or w_bits != 1 + exp1_bits:
            raise CodeFormatError(
                f"pot codes are {{sign, E exponent bits}} with E in 1..4: "
                f"got w_bits={w_bits}, exp1_bits={exp1_bits}")
    elif scheme == "apot":
        if not (1 <= exp1_bits <= 4 and 1 <= exp2_bits <= 4 and w_bits == 2 + exp1_bits + exp2_bits):
            raise CodeFormatError(
                f"apot codes are {{s1, E1 bits, s2, E2 bits}} with E1, E2 in 1..4: got "
                f"w_bits={w_bits}, exp1_bits={exp1_bits}, exp2_bits={exp2_bits}")
    elif scheme == "ios":
        if w_bits != 4:
            raise CodeFormatError(f"ios codes index 16 levels, so w_bits must be 4, got {w_bits}")


def pot_value(sign: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """One power-of-two term: 0 when mag == 0, else (-1)^sign * 2^(mag-1)."""
    mag = mag.astype(np.int64)
    val = np.where(mag > 0, np.left_shift(1, np.maximum(mag - 1, 0)), 0)
    return np.where(sign.astype(bool), -val, val).astype(np.int64)


def check_codes(codes: np.ndarray, w_bits: int) -> np.ndarray:
    """The codes as int64, or CodeFormatError if any does not fit w_bits."""
    c = np.asarray(codes)
    if c.size and (c.min() < 0 or c.max() >= (1 << w_bits)):
        raise CodeFormatError(f"codes out of range for w_bits={w_bits}: [{c.min()}, {c.max()}]")
    return c.astype(np.int64)


def pot_fields(codes: np.ndarray, scheme: str, exp1_bits: int, exp2_bits: int = 0
               ) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(sign, magnitude field, field width) of each power-of-two term of pot / apot codes."""
    c = np.asarray(codes, dtype=np.int64)
    if scheme == "pot":
        return [(c >> exp1_bits, c & ((1 << exp1_bits) - 1), exp1_bits)]
    if scheme == "apot":
        lo = c & ((1 << (exp2_bits + 1)) - 1)
        hi = c >> (exp2_bits + 1)
        return [(hi >> exp1_bits, hi & ((1 << exp1_bits) - 1), exp1_bits),
                (lo >> exp2_bits, lo & ((1 << exp2_bits) - 1), exp2_bits)]
    raise CodeFormatError(f"{scheme!r} codes have no power-of-two fields")


def level_values(level_desc: np.ndarray) -> np.ndarray:
    """Integer levels of 8-bit ios descriptors {neg, mant[2:0], exp[3:0]}."""
    d = np.asarray(level_desc, dtype=np.int64)
    if d.shape != (N_LEVELS,):
        raise CodeFormatError(f"ios needs {N_LEVELS} level descriptors, got shape {d.shape}")
    if d.min() < 0 or d.max() > 255:
        raise CodeFormatError("ios level descriptors are 8-bit")
    mant = (d >> 4) & 7
    if not np.isin(mant, IOS_MANTISSAS).all():
        raise CodeFormatError(f"ios mantissas must be in {IOS_MANTISSAS}, got {sorted(set(mant.tolist()))}")
    val = mant << (d & 15)
    return np.where((d >> 7) & 1, -val, val).astype(np.int64)


def encode_level(value: int) -> int:
    """Descriptor of an integer level mant*2^exp with mant in {1,3,5,7}, exp in 0..15."""
    if value == 0:
        return 0
    mag, exp = abs(int(value)), 0
    while mag % 2 == 0:
        mag //= 2
        exp += 1
    if mag not in IOS_MANTISSAS or exp > 15:
        raise CodeFormatError(f"{value} is not mant*2^exp with mant in {{1,3,5,7}}, exp <= 15")
    return (int(value < 0) << 7) | (mag << 4) | exp


def decode(codes: np.ndarray, scheme: str, w_bits: int, exp1_bits: int = 0,
           exp2_bits: int = 0, level_desc: np.ndarray | None = None) -> np.ndarray:
    """Integer weights (int32) of the codes, exactly as the hardware reads them."""
    check_format(scheme, w_bits, exp1_bits, exp2_bits)
    c = check_codes(codes, w_bits)
    if scheme == "int":
        out = np.where(c >= (1 << (w_bits - 1)), c - (1 << w_bits), c)
    elif scheme in ("pot", "apot"):
        out = sum(pot_value(sign, mag) for sign, mag, _ in pot_fields(c, scheme, exp1_bits, exp2_bits))
    else:
        if level_desc is None:
            raise CodeFormatError("ios codes need the 16 level descriptors")
        out = level_values(level_desc)[c]
    return out.astype(np.int32)


def max_abs_weight(scheme: str, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0,
                   level_desc: np.ndarray | None = None) -> int:
    """Largest |w| any code of the format can decode to (sizes the accumulator)."""
    check_format(scheme, w_bits, exp1_bits, exp2_bits)
    if scheme == "int":
        return 1 << (w_bits - 1)
    if scheme == "pot":
        return 1 << ((1 << exp1_bits) - 2)
    if scheme == "apot":
        return (1 << ((1 << exp1_bits) - 2)) + (1 << ((1 << exp2_bits) - 2))
    if level_desc is None:
        return 7 << 15
    return int(np.abs(level_values(level_desc)).max())


def acc_bits(cin: int, a_bits: int, max_w: int, taps: int = 9) -> int:
    """Signed accumulator width that holds any sum of cin*taps products a*w."""
    bound = cin * taps * ((1 << a_bits) - 1) * max_w
    return int(bound).bit_length() + 1
