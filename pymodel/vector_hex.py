"""Golden vector hex files (docs/vector_format.md, "hex files"): which files a set has, their
field widths (the contract, spec/conv_engine.hjson via pymodel.contract), and the $readmemh text
writer and strict reader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import contract as K

# hex files: name -> (npz key, signed, stream order); widths are in the manifest
HEX_FILES = {f: (array, signed, order) for f, (array, _bits, signed, order, only) in K.VECTOR_HEX.items()
             if only == "all"}
# pruning metadata, only in sets of that pruning (the HLS testbench reads them; it cannot read npz)
PRUNING_HEX_FILES = {
    pruning: {f: (array, signed, order) for f, (array, _bits, signed, order, only) in K.VECTOR_HEX.items()
              if only == pruning}
    for pruning in ("krp", "ikr")
}


def hex_files(pruning: str) -> dict[str, tuple[str, bool, str]]:
    """The hex files of a set with this pruning: name -> (npz key, signed, order)."""
    return {**HEX_FILES, **PRUNING_HEX_FILES.get(pruning, {})}


def pattern_id_bits(n_patterns: int) -> int:
    """Width of an IKR pattern id: max(1, ceil(log2 P))."""
    return max(1, (int(n_patterns) - 1).bit_length())


def pattern_masks(patterns: np.ndarray) -> np.ndarray:
    """IKR patterns [P,3,3] as 9-bit masks, bit ky*3+kx set where the pattern keeps the tap."""
    p = np.asarray(patterns, bool).reshape(-1, K.TAPS).astype(np.int64)
    return (p << np.arange(K.TAPS)).sum(axis=1)


class VectorFormatError(ValueError):
    """A vector set on disk is missing, corrupt, tampered with, or not of this format/version."""


# ----------------------------------------------------------------------------- hex

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_ch] = _i  # lowercase only: docs/vector_format.md, and what the C++ reader accepts


def hex_bytes(values: np.ndarray, bits: int) -> bytes:
    """$readmemh text: one value per line, ceil(bits/4) lowercase digits, two's complement."""
    if not 1 <= bits <= 64:
        raise ValueError(f"hex field width must be 1..64 bits, got {bits}")
    v = np.ascontiguousarray(values).ravel().astype(np.int64, copy=False).view(np.uint64)
    if bits < 64:
        v = v & np.uint64((1 << bits) - 1)
    # the narrowest unsigned type that holds the field keeps the per-digit passes cheap
    utype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= bits)
    v = v.astype(utype)
    digits = math.ceil(bits / 4)
    buf = np.empty((v.size, digits + 1), dtype=np.uint8)
    for d in range(digits):
        buf[:, d] = _HEX_DIGITS[(v >> utype(4 * (digits - 1 - d))) & utype(15)]
    buf[:, digits] = ord("\n")
    return buf.tobytes()


def read_hex(path: str | Path, bits: int, signed: bool, data: bytes | None = None) -> np.ndarray:
    """Parse a fixed-width $readmemh file written by `hex_bytes` back to int64 values: every
    line exactly ceil(bits/4) lowercase hex digits + newline, every value < 2^bits."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8) if data is None else np.frombuffer(data, dtype=np.uint8)
    digits = math.ceil(bits / 4)
    if raw.size % (digits + 1):
        raise VectorFormatError(f"{path.name}: size {raw.size} is not a whole number of {digits}-digit lines")
    lines = raw.reshape(-1, digits + 1)
    if (lines[:, digits] != ord("\n")).any():
        raise VectorFormatError(f"{path.name}: lines are not {digits} hex digits + newline")
    nibbles = _HEX_VALUE[lines[:, :digits]]
    if (nibbles == 255).any():
        line = int(np.flatnonzero((nibbles == 255).any(axis=1))[0])
        raise VectorFormatError(f"{path.name} line {line + 1}: not lowercase hex")
    value = np.zeros(lines.shape[0], dtype=np.uint64)
    for d in range(digits):
        value = (value << np.uint64(4)) | nibbles[:, d].astype(np.uint64)
    if bits < 64 and (value >> np.uint64(bits)).any():
        line = int(np.flatnonzero(value >> np.uint64(bits))[0])
        raise VectorFormatError(f"{path.name} line {line + 1}: value wider than {bits} bits")
    out = value.view(np.int64) if bits == 64 else value.astype(np.int64)
    if signed and bits < 64:
        out = np.where(out >= (1 << (bits - 1)), out - (1 << bits), out)
    return out


def hex_widths(
    w_bits: int, a_bits: int, acc_bits: int, pruning: str = "dense", n_patterns: int = 0
) -> dict[str, int]:
    """Field width of each hex file of a set with this pruning (the contract's widths; acc is the
    32-bit output lane unless the layer's accumulator is wider)."""
    by_name = {
        "a_bits": a_bits,
        "w_bits": w_bits,
        "acc_bits_min32": max(K.HEX_ACC_MIN_BITS, acc_bits),
        "pattern_id_bits": pattern_id_bits(n_patterns),
    }
    return {
        f: by_name.get(bits, bits)
        for f, (_array, bits, _signed, _order, only) in K.VECTOR_HEX.items()
        if only in ("all", pruning)
    }


def hex_array(name: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The npz array in the hex file's documented order (act is stream order y, x, ci; the IKR
    patterns are 9-bit masks)."""
    key = {**HEX_FILES, **PRUNING_HEX_FILES["krp"], **PRUNING_HEX_FILES["ikr"]}[name][0]
    if key == "act":
        return arrays[key].transpose(1, 2, 0)
    if key == "patterns":
        return pattern_masks(arrays[key])
    return arrays[key]
