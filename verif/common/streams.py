"""Pack vector sets into the engine's AXI-Stream frames and unpack its output (docs/engine.md).

Frames are lists of lane values; cocotbext-axi packs `byte_size`-bit "bytes" = lanes into beats,
so a frame of PAR_IN activations per beat is simply the activations in stream order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymodel import contract as K
from pymodel import registry

# the parameter block and stream facts of the contract (spec/conv_engine.hjson)
PARAM_BITS_PER_LANE = K.PB_CHANNEL_BITS  # bias + shift per output lane
LEVEL_BLOCK_BITS = K.PB_FIXED_BITS  # the ios level descriptors
PATTERN_MASK_BITS = K.PB_PATTERN_BITS  # one IKR library pattern: bit ky*3+kx = kept
OUT_LANE_BITS = K.OUT_LANE_BITS
FORMATS = {name: spec[0] for name, spec in K.FORMATS.items()}  # the engine's FORMAT parameter


def rq_lanes_for(par_out: int, steps: int) -> int:
    """The fewest requantizer lanes (a power of two, at most PAR_OUT) whose PAR_OUT / lanes
    passes fit in `steps` cycles a pixel (conv_engine rq_lanes_for, the RQ_LANES = 0 rule with
    steps = TAPS)."""
    lanes = 1
    while lanes < par_out and par_out // lanes > steps:
        lanes *= 2
    return lanes


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
    fmt: str = "dense"  # weight format: dense / krp / ikr
    ikr_k: int = 4  # IKR: kept weights per kernel
    ikr_p: int = 8  # IKR: patterns in the library
    rq_lanes: int = registry.engine_parameters().get("RQ_LANES", 0)  # back-end lanes (0: auto)

    @property
    def wgt_lanes(self) -> int:
        return self.par_in * self.par_out

    @property
    def wgt_width(self) -> int:
        return self.wgt_lanes * self.w_bits

    @property
    def taps(self) -> int:
        """Weight beats (and steps) per channel group."""
        taps = K.FORMATS[self.fmt][1]
        return self.ikr_k if taps == "IKR_K" else taps

    @property
    def idx_bits(self) -> int:
        """Bits of a lane in the index beat: KRP row 0..2, IKR pattern id (0: no index beat)."""
        if self.fmt == "krp":
            return K.FORMAT_KRP_INDEX_BITS
        if self.fmt == "ikr":
            return max(1, (self.ikr_p - 1).bit_length())
        return 0

    @property
    def param_bits(self) -> int:
        table = self.ikr_p * PATTERN_MASK_BITS if self.fmt == "ikr" else 0
        return self.par_out * PARAM_BITS_PER_LANE + LEVEL_BLOCK_BITS + table

    @property
    def param_beats(self) -> int:
        return -(-self.param_bits // self.wgt_width)

    def fits(self, cin: int, cout: int, h: int, w: int) -> bool:
        return (cin % self.par_in == 0 and cout % self.par_out == 0 and cin <= self.cin_max
                and cout <= self.cout_max and h <= self.h_max and w <= self.w_max)

    @property
    def rq_passes(self) -> int:
        """Back-end cycles a pixel (conv_backend PASSES): PAR_OUT / the requantizer lanes, where
        RQ_LANES = 0 takes the fewest that keep one channel group's pixel rate (TAPS cycles)."""
        return self.par_out // (self.rq_lanes or rq_lanes_for(self.par_out, self.taps))

    def ideal_cycles(self, cin: int, cout: int, h: int, w: int) -> int:
        """TAPS x Cin/PAR_IN cycles a pixel, or the back end's passes when those are more (the
        engine then spaces pixel starts: RQ_LANES)."""
        return h * w * max(self.taps * (cin // self.par_in), self.rq_passes) * (cout // self.par_out)

    def hdl_parameters(self) -> dict[str, int]:
        """The engine parameters this shape fixes (the arithmetic adds its own)."""
        params = {"FORMAT": FORMATS[self.fmt], "PAR_IN": self.par_in, "PAR_OUT": self.par_out,
                  "A_BITS": self.a_bits, "W_BITS": self.w_bits, "H_MAX": self.h_max, "W_MAX": self.w_max,
                  "CIN_MAX": self.cin_max, "COUT_MAX": self.cout_max}
        if self.fmt == "ikr":
            params |= {"IKR_K": self.ikr_k, "IKR_P": self.ikr_p}
        return params | {"RQ_LANES": self.rq_lanes}


def act_frame(act: np.ndarray) -> list[int]:
    """Activations [Cin,H,W] in stream order (y, x, channel): lane i of a beat is channel cg*PAR_IN+i."""
    return np.ascontiguousarray(np.transpose(act, (1, 2, 0))).reshape(-1).astype(np.int64).tolist()


def param_block(bias: np.ndarray, shift: np.ndarray, level_desc: np.ndarray,
                pattern_masks: np.ndarray | None = None) -> int:
    """The tile's parameter block as one integer, LSB first: biases, shifts, level descriptors,
    then (IKR) the pattern library as 9-bit masks."""
    par_out = len(bias)
    block = 0
    bias_bits, shift_bits, level_bits = K.PB_BIAS_BITS, K.PB_SHIFT_BITS, K.PB_LEVEL_BITS
    for o in range(par_out):
        block |= (int(bias[o]) & ((1 << bias_bits) - 1)) << (o * bias_bits)
        block |= (int(shift[o]) & ((1 << shift_bits) - 1)) << (par_out * bias_bits + o * shift_bits)
    for j, desc in enumerate(level_desc):
        block |= (int(desc) & ((1 << level_bits) - 1)) << (par_out * PARAM_BITS_PER_LANE + j * level_bits)
    table_lsb = par_out * PARAM_BITS_PER_LANE + LEVEL_BLOCK_BITS
    for p, mask in enumerate([] if pattern_masks is None else pattern_masks):
        block |= (int(mask) & ((1 << PATTERN_MASK_BITS) - 1)) << (table_lsb + p * PATTERN_MASK_BITS)
    return block


def split_lanes(value: int, n_lanes: int, lane_bits: int) -> list[int]:
    mask = (1 << lane_bits) - 1
    return [(value >> (k * lane_bits)) & mask for k in range(n_lanes)]


def kept_positions(vs, core: CoreShape) -> np.ndarray:
    """Window position (ky*3+kx) of each weight beat of a kernel, [Cout, Cin, TAPS]:
    dense every tap, KRP the kept row's three columns, IKR the pattern's kept positions ascending."""
    cout, cin = vs.wcode.shape[:2]
    if core.fmt == "dense":
        return np.broadcast_to(np.arange(K.TAPS), (cout, cin, K.TAPS))
    if core.fmt == "krp":
        return vs.row_idx.astype(np.int64)[:, :, None] * 3 + np.arange(3)
    library = np.asarray(vs.patterns, bool).reshape(-1, K.TAPS)
    kept = np.array([np.flatnonzero(p) for p in library])  # [P, K], ascending
    if kept.shape[1] != core.ikr_k:
        raise ValueError(f"{vs.name}: patterns keep {kept.shape[1]} taps, the core has IKR_K={core.ikr_k}")
    return kept[vs.pattern_id.astype(np.int64)]


def weight_frame(core: CoreShape, vs, tile: int) -> list[int]:
    """One output tile's weight-stream frame (docs/engine.md): NPB parameter beats, then per
    channel group (KRP/IKR) one index beat and TAPS weight beats.

    Weight beat t of group cg, lane o*PAR_IN + i = code of w[t*PAR_OUT+o][cg*PAR_IN+i] at the t-th
    kept window position (dense: ky*3+kx = t).
    """
    po, pi = core.par_out, core.par_in
    chans = slice(tile * po, (tile + 1) * po)
    masks = None
    if core.fmt == "ikr":
        from pymodel.vectors import pattern_masks  # noqa: PLC0415

        masks = pattern_masks(vs.patterns)
        if len(masks) != core.ikr_p:
            raise ValueError(f"{vs.name}: {len(masks)} library patterns, the core has IKR_P={core.ikr_p}")
    block = param_block(vs.bias[chans], vs.shift[chans], vs.level_desc, masks)
    lanes = split_lanes(block, core.param_beats * core.wgt_lanes, core.w_bits)
    cin = vs.wcode.shape[1]
    cg_n = cin // pi
    pos = kept_positions(vs, core)[chans]  # [o, ci, TAPS]
    codes = vs.wcode[chans].reshape(po, cin, K.TAPS)
    kept = np.take_along_axis(codes, pos, axis=2).reshape(po, cg_n, pi, core.taps)  # [o, cg, i, t]
    beats = np.transpose(kept, (1, 3, 0, 2)).reshape(cg_n, core.taps, po * pi)  # [cg, t, lane]
    if core.idx_bits:
        index = (vs.row_idx if core.fmt == "krp" else vs.pattern_id)[chans].astype(np.int64)
        index = np.transpose(index.reshape(po, cg_n, pi), (1, 0, 2)).reshape(cg_n, po * pi)
        packed = np.zeros((cg_n, po * pi), np.int64)  # index lanes of idx_bits, re-cut into w_bits lanes
        per_lane = core.w_bits // core.idx_bits if core.w_bits % core.idx_bits == 0 else 0
        per_lane = per_lane if per_lane and (po * pi) % per_lane == 0 else 0
        if per_lane:
            for k in range(per_lane):
                packed[:, :po * pi // per_lane] |= index[:, k::per_lane] << (k * core.idx_bits)
        else:
            for g in range(cg_n):
                value = 0
                for lane in range(po * pi):
                    value |= int(index[g, lane]) << (lane * core.idx_bits)
                packed[g] = split_lanes(value, po * pi, core.w_bits)
        beats = np.concatenate([packed[:, None, :], beats], axis=1)
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
