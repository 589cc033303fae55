"""Pack vector sets into the engine's AXI-Stream frames and unpack its output (docs/engine.md).

Frames are lists of lane values; cocotbext-axi packs `byte_size`-bit "bytes" = lanes into beats,
so a frame of PAR_IN activations per beat is simply the activations in stream order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARAM_BITS_PER_LANE = 40  # 32-bit bias + 8-bit shift per output lane
LEVEL_BLOCK_BITS = 128  # 16 ios level descriptors of 8 bits
OUT_LANE_BITS = 32


@dataclass(frozen=True)
class CoreShape:
    """The HDL parameters a testbench needs to lay out streams and check limits."""

    par_in: int
    par_out: int
    a_bits: int
    w_bits: int
    h_max: int
    w_max: int
    cin_max: int
    cout_max: int

    @property
    def wgt_lanes(self) -> int:
        return self.par_in * self.par_out

    @property
    def wgt_width(self) -> int:
        return self.wgt_lanes * self.w_bits

    @property
    def param_bits(self) -> int:
        return self.par_out * PARAM_BITS_PER_LANE + LEVEL_BLOCK_BITS

    @property
    def param_beats(self) -> int:
        return -(-self.param_bits // self.wgt_width)

    def fits(self, cin: int, cout: int, h: int, w: int) -> bool:
        return (cin % self.par_in == 0 and cout % self.par_out == 0 and cin <= self.cin_max
                and cout <= self.cout_max and h <= self.h_max and w <= self.w_max)

    def ideal_cycles(self, cin: int, cout: int, h: int, w: int) -> int:
        return h * w * 9 * (cin // self.par_in) * (cout // self.par_out)


def act_frame(act: np.ndarray) -> list[int]:
    """Activations [Cin,H,W] in stream order (y, x, channel): lane i of a beat is channel cg*PAR_IN+i."""
    return np.ascontiguousarray(np.transpose(act, (1, 2, 0))).reshape(-1).astype(np.int64).tolist()


def param_block(bias: np.ndarray, shift: np.ndarray, level_desc: np.ndarray) -> int:
    """The tile's parameter block as one integer, LSB first: biases, shifts, level descriptors."""
    par_out = len(bias)
    block = 0
    for o in range(par_out):
        block |= (int(bias[o]) & 0xFFFF_FFFF) << (o * 32)
        block |= (int(shift[o]) & 0xFF) << (par_out * 32 + o * 8)
    for j, desc in enumerate(level_desc):
        block |= (int(desc) & 0xFF) << (par_out * PARAM_BITS_PER_LANE + j * 8)
    return block


def split_lanes(value: int, n_lanes: int, lane_bits: int) -> list[int]:
    mask = (1 << lane_bits) - 1
    return [(value >> (k * lane_bits)) & mask for k in range(n_lanes)]


def weight_frame(core: CoreShape, wcode: np.ndarray, bias: np.ndarray, shift: np.ndarray,
                 level_desc: np.ndarray, tile: int) -> list[int]:
    """One output tile's weight-stream frame: NPB parameter beats, then 9*Cin/PAR_IN weight beats.

    Weight beat k = cg*9 + ky*3 + kx, lane o*PAR_IN + i = code of w[t*PAR_OUT+o][cg*PAR_IN+i][ky][kx].
    """
    po, pi = core.par_out, core.par_in
    chans = slice(tile * po, (tile + 1) * po)
    block = param_block(bias[chans], shift[chans], level_desc)
    lanes = split_lanes(block, core.param_beats * core.wgt_lanes, core.w_bits)
    cin = wcode.shape[1]
    w = wcode[chans].reshape(po, cin // pi, pi, 3, 3)  # [o, cg, i, ky, kx]
    beats = np.transpose(w, (1, 3, 4, 0, 2))  # [cg, ky, kx, o, i]: beat-major, lane o*PI+i
    return lanes + beats.reshape(-1).astype(np.int64).tolist()


def expected_tile(expected: np.ndarray, core: CoreShape, tile: int) -> np.ndarray:
    """Expected output lanes of a tile, [H*W, PAR_OUT] in stream order, from acc or out [Cout,H,W]."""
    chans = expected[tile * core.par_out:(tile + 1) * core.par_out]
    return np.transpose(chans, (1, 2, 0)).reshape(-1, core.par_out).astype(np.int64)


def out_lanes(frame_lanes: list[int], par_out: int, signed: bool) -> np.ndarray:
    """An output frame's 32-bit lanes as [beats, PAR_OUT] int64 (sign-extended for MODE=0)."""
    lanes = np.asarray(frame_lanes, dtype=np.int64)
    if signed:
        lanes = np.where(lanes >= 1 << 31, lanes - (1 << 32), lanes)
    if lanes.size % par_out:
        raise ValueError(f"output frame of {lanes.size} lanes is not whole beats of {par_out} lanes")
    return lanes.reshape(-1, par_out)


def describe_mismatches(got: np.ndarray, want: np.ndarray, width: int, tile: int, par_out: int,
                        limit: int = 8) -> list[str]:
    """Human-readable first mismatches of one tile: tile, pixel (y, x), lane/channel, expected, got."""
    problems = []
    if got.shape != want.shape:
        problems.append(f"tile {tile}: got {got.shape[0]} beats, expected {want.shape[0]}")
        n = min(got.shape[0], want.shape[0])
        got, want = got[:n], want[:n]
    for beat, lane in np.argwhere(got != want)[:limit]:
        y, x = divmod(int(beat), width)
        problems.append(f"tile {tile} pixel (y={y}, x={x}) lane {lane} (channel {tile * par_out + lane}): "
                        f"expected {want[beat, lane]}, got {got[beat, lane]}")
    total = int(np.count_nonzero(got != want))
    if total > limit:
        problems.append(f"tile {tile}: {total} mismatching lanes in all")
    return problems
