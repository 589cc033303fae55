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
    code_format(scheme, w_bits, exp1_bits, exp2_bits)


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


def level_exp_max(level_desc: np.ndarray) -> int:
    """Largest exponent field of the nonzero ios levels (what the product bank's LEVEL_EXP_MAX
    must hold; 0 when every level is zero)."""
    d = np.asarray(level_desc, dtype=np.int64)
    level_values(d)  # validates the descriptors
    nonzero = ((d >> 4) & 7) != 0
    return int((d[nonzero] & 15).max()) if nonzero.any() else 0


def is_sign_symmetric(level_desc: np.ndarray) -> bool:
    """Whether 16 ios descriptors form a sign-symmetric codebook (scheme ios4s, PLUT_SYM): the
    magnitudes at 0..7 have no sign bit and descriptor 8+m is descriptor m with it."""
    d = np.asarray(level_desc, dtype=np.int64)
    return d.shape == (N_LEVELS,) and bool((d[:8] < 0x80).all() and (d[8:] == (d[:8] | 0x80)).all())


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
    return code_format(scheme, w_bits, exp1_bits, exp2_bits).decode(codes, level_desc)


def max_abs_weight(scheme: str, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0,
                   level_desc: np.ndarray | None = None) -> int:
    """Largest |w| any code of the format can decode to (sizes the accumulator)."""
    return code_format(scheme, w_bits, exp1_bits, exp2_bits).max_abs_weight(level_desc)


# ----------------------------------------------------------------------------- the formats

# ios mantissas as power-of-two terms (sign, exponent offset): what a shift-add lane adds
IOS_MANT_TERMS = {1: ((1, 0),), 3: ((1, 1), (1, 0)), 5: ((1, 2), (1, 0)), 7: ((1, 3), (-1, 0))}


class CodeFormat:
    """One weight code format: its widths, how codes decode, the largest |w|, the weights as
    power-of-two terms (what a shift-add datapath adds), and what a layer of it costs in
    operations. One subclass per kind; `code_format` picks it."""

    kind = ""

    def __init__(self, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0):
        self.w_bits, self.exp1_bits, self.exp2_bits = int(w_bits), int(exp1_bits), int(exp2_bits)
        self.check()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(w_bits={self.w_bits}, exp1_bits={self.exp1_bits}, "
                f"exp2_bits={self.exp2_bits})")

    def check(self) -> None:
        raise NotImplementedError

    def _decode(self, c: np.ndarray, level_desc: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def decode(self, codes: np.ndarray, level_desc: np.ndarray | None = None) -> np.ndarray:
        """Integer weights (int32) of the codes, exactly as the hardware reads them."""
        return self._decode(check_codes(codes, self.w_bits), level_desc).astype(np.int32)

    def max_abs_weight(self, level_desc: np.ndarray | None = None) -> int:
        raise NotImplementedError

    def quantizer_codes(self) -> np.ndarray:
        """The codes a quantizer may choose (int: all but -2^(b-1), to keep the grid symmetric)."""
        return np.arange(1 << self.w_bits, dtype=np.uint16)

    def shift_add_terms(self, codes: np.ndarray, level_desc: np.ndarray | None = None
                        ) -> list[tuple[int, np.ndarray]]:
        """[(exponent, plane)] with plane int8 in {-1, 0, 1} and decode(codes) == sum(plane << exponent),
        read straight from the code fields; one plane per (term slot, exponent), empty ones dropped."""
        c = check_codes(codes, self.w_bits)
        return [(e, p) for e, p in self._terms(c, level_desc) if p.any()]

    def _terms(self, c: np.ndarray, level_desc) -> list[tuple[int, np.ndarray]]:
        raise NotImplementedError

    def product_ops(self, wint: np.ndarray, codes: np.ndarray, pixels: int, cin: int) -> dict:
        """{'multiplies', 'shifts', 'adds', 'lookups'} of the products of nonzero weights (the
        accumulation adds are the caller's); see pymodel.metrics.op_counts."""
        raise NotImplementedError

    # adds per executed slot and pixel: the accumulate, plus apot's second term
    adds_per_slot = 1


class IntFormat(CodeFormat):
    """Two's complement, b = 2..8 bits; a multiplier's code."""

    kind = "int"

    def check(self) -> None:
        if not 2 <= self.w_bits <= 8:
            raise CodeFormatError(f"int weights need 2..8 bits, got w_bits={self.w_bits}")

    def _decode(self, c, level_desc):
        return np.where(c >= (1 << (self.w_bits - 1)), c - (1 << self.w_bits), c)

    def max_abs_weight(self, level_desc=None) -> int:
        return 1 << (self.w_bits - 1)

    def quantizer_codes(self) -> np.ndarray:
        codes = super().quantizer_codes()
        return codes[codes != 1 << (self.w_bits - 1)]  # the code of -2^(b-1)

    def _terms(self, c, level_desc):  # bit-serial: the MSB has weight -2^(b-1)
        out = []
        for bit in range(self.w_bits):
            plane = ((c >> bit) & 1).astype(np.int8)
            out.append((bit, -plane if bit == self.w_bits - 1 else plane))
        return out

    def product_ops(self, wint, codes, pixels, cin) -> dict:
        return {"multiplies": pixels * int(np.count_nonzero(wint))}


class PotFormat(CodeFormat):
    """Power of two: {sign, E exponent bits}, E = 1..4; magnitude field 0 is the zero code."""

    kind = "pot"

    def check(self) -> None:
        if not 1 <= self.exp1_bits <= 4 or self.w_bits != 1 + self.exp1_bits:
            raise CodeFormatError(
                f"pot codes are {{sign, E exponent bits}} with E in 1..4: "
                f"got w_bits={self.w_bits}, exp1_bits={self.exp1_bits}")

    def fields(self, c: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """(sign, magnitude field, field width) of each power-of-two term of the codes."""
        return [(c >> self.exp1_bits, c & ((1 << self.exp1_bits) - 1), self.exp1_bits)]

    def _decode(self, c, level_desc):
        return sum(pot_value(sign, mag) for sign, mag, _ in self.fields(c))

    @property
    def term_widths(self) -> tuple[int, ...]:
        """Exponent field width of each power-of-two term."""
        return (self.exp1_bits,)

    def max_abs_weight(self, level_desc=None) -> int:  # every term at its largest exponent 2^E - 2
        return sum(1 << ((1 << e_bits) - 2) for e_bits in self.term_widths)

    def _terms(self, c, level_desc):
        out = []
        for sign, mag, e_bits in self.fields(c):
            signed = np.where(sign.astype(bool), -1, 1).astype(np.int8)
            out += [(m - 1, np.where(mag == m, signed, 0).astype(np.int8)) for m in range(1, 1 << e_bits)]
        return out

    def product_ops(self, wint, codes, pixels, cin) -> dict:
        """One shift per nonzero term (a shift by 0 counted too: it still occupies a shifter) and
        one extra add for a two-term weight."""
        terms = sum((mag > 0).astype(np.int64) for _, mag, _ in self.fields(np.asarray(codes, np.int64)))
        terms = np.where(wint != 0, terms, 0)
        return {"shifts": pixels * int(terms.sum()), "adds": pixels * int((terms == 2).sum())}


class ApotFormat(PotFormat):
    """Two power-of-two terms: {s1, E1 bits, s2, E2 bits}, E1, E2 = 1..4."""

    kind = "apot"
    adds_per_slot = 2

    @property
    def term_widths(self) -> tuple[int, ...]:
        return (self.exp1_bits, self.exp2_bits)

    def check(self) -> None:
        if not (1 <= self.exp1_bits <= 4 and 1 <= self.exp2_bits <= 4
                and self.w_bits == 2 + self.exp1_bits + self.exp2_bits):
            raise CodeFormatError(
                f"apot codes are {{s1, E1 bits, s2, E2 bits}} with E1, E2 in 1..4: got "
                f"w_bits={self.w_bits}, exp1_bits={self.exp1_bits}, exp2_bits={self.exp2_bits}")

    def fields(self, c):
        lo = c & ((1 << (self.exp2_bits + 1)) - 1)
        hi = c >> (self.exp2_bits + 1)
        return [(hi >> self.exp1_bits, hi & ((1 << self.exp1_bits) - 1), self.exp1_bits),
                (lo >> self.exp2_bits, lo & ((1 << self.exp2_bits) - 1), self.exp2_bits)]


class IosFormat(CodeFormat):
    """A 4-bit index into a layer's 16 levels +-mant * 2^exp (8-bit descriptors, level_values)."""

    kind = "ios"

    def check(self) -> None:
        if self.w_bits != 4:
            raise CodeFormatError(f"ios codes index 16 levels, so w_bits must be 4, got {self.w_bits}")

    @staticmethod
    def _levels(level_desc):
        if level_desc is None:
            raise CodeFormatError("ios codes need the 16 level descriptors")
        return level_values(level_desc)

    def _decode(self, c, level_desc):
        return self._levels(level_desc)[c]

    def max_abs_weight(self, level_desc=None) -> int:
        if level_desc is None:
            return max(IOS_MANTISSAS) << 15
        return int(np.abs(level_values(level_desc)).max())

    def _terms(self, c, level_desc):
        self._levels(level_desc)  # validates the descriptors
        desc = np.asarray(level_desc, dtype=np.int64)
        by_slot: dict[tuple[int, int], np.ndarray] = {}
        for j in range(N_LEVELS):
            neg, mant, exp = (desc[j] >> 7) & 1, (desc[j] >> 4) & 7, desc[j] & 15
            if mant == 0:
                continue
            for slot, (tsign, offset) in enumerate(IOS_MANT_TERMS[int(mant)]):
                plane = by_slot.setdefault((slot, int(exp + offset)), np.zeros(c.shape, dtype=np.int8))
                plane[c == j] = -tsign if neg else tsign
        return [(e, plane) for (_, e), plane in sorted(by_slot.items())]

    def product_ops(self, wint, codes, pixels, cin) -> dict:
        """Per input activation and layer, a product bank computes v * mant for the mantissas
        used (3 = (v<<1)+v, 5 = (v<<2)+v, 7 = (v<<3)-v: one shift + one add each; 1 is free) and
        the exponent shifts (one per distinct level magnitude with exp > 0); every nonzero
        weight then costs one look-up (a select from the bank; the sign is folded into the
        accumulate)."""
        nonzero = wint != 0
        used = np.unique(np.abs(wint[nonzero])) if nonzero.any() else np.array([], np.int64)
        mants, shifted = set(), 0
        for mag in used.tolist():
            exp = (mag & -mag).bit_length() - 1
            mants.add(mag >> exp)
            shifted += exp > 0
        bank_shift_adds = len(mants - {1})
        return {"shifts": cin * pixels * (bank_shift_adds + shifted), "adds": cin * pixels * bank_shift_adds,
                "lookups": pixels * int(nonzero.sum()), "bank_levels": len(used)}


FORMATS: dict[str, type[CodeFormat]] = {f.kind: f for f in (IntFormat, PotFormat, ApotFormat, IosFormat)}


def code_format(scheme: str, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0) -> CodeFormat:
    """The CodeFormat of a kind and widths (CodeFormatError if unsupported)."""
    if scheme not in FORMATS:
        raise CodeFormatError(f"unknown weight scheme {scheme!r}; expected one of {SCHEMES}")
    return FORMATS[scheme](w_bits, exp1_bits, exp2_bits)


def acc_bits(cin: int, a_bits: int, max_w: int, taps: int = 9) -> int:
    """Signed accumulator width that holds any sum of cin*taps products a*w."""
    bound = cin * taps * ((1 << a_bits) - 1) * max_w
    return int(bound).bit_length() + 1
