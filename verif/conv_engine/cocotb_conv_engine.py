"""cocotb tests of one built conv core; configured by the pytest runner through CONV_TB_CONFIG.

CONV_TB_CONFIG (JSON): {"core": CoreShape fields, "sets": [vector set names], "seeds": [ints],
"max_abs_weight": int}. The sets all fit the core; the first is the smallest.
"""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, with_timeout
from common.coverage import CONFIG_ERRORS
from common.streams import PARAM_BITS_PER_LANE, CoreShape, split_lanes
from common.vector_sets import SetView, fit_channels, load_set

from conv_engine.tb import (
    MODE_ACC,
    MODE_REQUANT,
    REG_CYCLES,
    REG_INFO,
    REG_STATUS,
    STATUS_BUSY,
    STATUS_DONE,
    STATUS_ERROR,
    STATUS_FRAME_ERR,
    STATUS_INDEX_ERR,
    STATUS_LEVEL_ERR,
    STATUS_PENDING,
    TB,
    Layer,
)
from pymodel import codes
from pymodel import reference as R

CONFIG = json.loads(os.environ.get("CONV_TB_CONFIG", "{}"))
CORE = CoreShape(**CONFIG["core"]) if CONFIG else None
SETS = CONFIG.get("sets", [])
SEEDS = CONFIG.get("seeds", [1])
STRESS_SETS = CONFIG.get("stress_sets", [])
CORE_NAME = CONFIG.get("core_name", "core")
LEVEL_EXP_MAX = CONFIG.get("level_exp_max", 8)
PLUT_SYM = bool(CONFIG.get("plut_sym", 0))  # a sign-symmetric bank: descriptor m and 8+m go together


# Stall and control tests run a prefix of the output channels (still a valid layer: a channel's
# accumulators do not depend on the others) so they stay short; test_clean runs every set whole.
SHORT_TILES = 4


def layer(index: int, mode: int, cout: int | None = None, max_tiles: int | None = None) -> Layer:
    name = SETS[index % len(SETS)]
    vs = load_set(name)
    if cout is None and max_tiles is not None:
        cout = min(vs.acc.shape[0], max_tiles * CORE.par_out)
    return Layer(name, vs, CORE, mode, cout)


def cycles_allowed(lay: Layer) -> int:
    """Upper bound for CYCLES of a clean run: ideal + 5 % + fill (first tile's weights, a few
    line-buffer rows, pipeline)."""
    beats_per_group = CORE.taps + (1 if CORE.idx_bits else 0)
    groups = lay.cin // CORE.par_in
    fill = (CORE.param_beats + beats_per_group * groups) + 3 * lay.w * groups + 64
    return int(lay.ideal_cycles * 1.05) + fill


async def fresh_tb(dut) -> TB:
    tb = TB(dut, CORE, CORE_NAME)
    await tb.cycle_reset()
    return tb


@cocotb.test()
@cocotb.parametrize(mode=[MODE_ACC, MODE_REQUANT])
async def test_clean(dut, mode):
    """Every vector set of this core, whole, no stalls: bit-exact against acc (MODE=0) / out
    (MODE=1); CYCLES is the ideal count plus a bounded fill."""
    tb = await fresh_tb(dut)
    for index in range(len(SETS)):
        lay = layer(index, mode)
        cycles = await tb.run_layer(lay)
        allowed = cycles_allowed(lay)
        tb.log.info("%s: bit-exact, CYCLES %d, ideal %d, efficiency %.3f (allowed up to %d)",
                    lay, cycles, lay.ideal_cycles, lay.ideal_cycles / max(cycles, 1), allowed)
        assert lay.ideal_cycles <= cycles <= allowed, \
            f"{lay}: CYCLES {cycles} outside [{lay.ideal_cycles}, {allowed}]"
        assert cycles == await tb.read_reg(REG_CYCLES), "CYCLES changed while idle"


@cocotb.test()
@cocotb.parametrize(seed=SEEDS)
async def test_random_stalls(dut, seed):
    """Random idle cycles on both inputs and random back-pressure on the output."""
    tb = await fresh_tb(dut)
    # The core needs an activation beat only every TAPS cycles and emits an output beat every TAPS*Cin/PAR_IN
    # cycles, so only heavy stalls actually starve or block it.
    idle, backpressure = [(0.5, 0.5), (0.95, 0.3), (0.3, 0.97)][seed % 3]
    tb.set_random_stalls(seed, idle, backpressure)
    for mode in (MODE_ACC, MODE_REQUANT):
        lay = layer(seed + mode, mode, max_tiles=SHORT_TILES // 2)
        cycles = await tb.run_layer(lay, stalled=True)
        tb.log.info("seed %d idle %.1f bp %.1f %s: bit-exact, %d cycles",
                    seed, idle, backpressure, lay, cycles)


@cocotb.test()
async def test_reset_mid_stream(dut):
    """Reset with a layer half done (data in every stream), then clean full runs must be exact."""
    tb = await fresh_tb(dut)
    big = layer(len(SETS) - 1, MODE_ACC, max_tiles=SHORT_TILES)
    await tb.configure(big.cin, big.cout, big.h, big.w, big.mode)
    await tb.start()
    tb.set_random_stalls(7, 0.2, 0.2)
    tb.queue_streams(big)
    # wait for one output tile (so every stream has carried data), then reset a bit later
    if big.tiles > 1:
        await with_timeout(tb.out_sink.recv(), tb.timeout_for(big, True) * 4, "ns")
        await ClockCycles(dut.clk, big.ideal_cycles // (3 * big.tiles) + 5)
    else:
        await ClockCycles(dut.clk, big.ideal_cycles // 2)
    assert int(dut.busy.value), "the layer finished before the reset could hit it mid-stream"
    await tb.cycle_reset()
    tb.clear_stalls()
    status = await tb.read_reg(REG_STATUS)
    assert status & (STATUS_BUSY | STATUS_DONE | STATUS_PENDING) == 0, f"STATUS {status:#x} after reset"
    for lay in (big, layer(0, MODE_REQUANT, max_tiles=SHORT_TILES // 2)):
        await tb.run_layer(lay)
        tb.log.info("after mid-stream reset: %s bit-exact", lay)


@cocotb.test()
async def test_back_to_back(dut):
    """Two layers of different dimensions without reset, the second configured and started
    (queued) while the first runs; both outputs bit-exact, in order."""
    tb = await fresh_tb(dut)
    first = layer(len(SETS) - 1, MODE_ACC, max_tiles=SHORT_TILES)
    if len(SETS) > 1:
        second = layer(0, MODE_REQUANT, max_tiles=SHORT_TILES // 2)
    else:  # a prefix of the output channels still gives a layer with other dimensions
        half = first.cout // 2 // CORE.par_out * CORE.par_out
        second = layer(0, MODE_REQUANT, cout=max(CORE.par_out, half))
    tb.set_random_stalls(11, 0.1, 0.1)
    await tb.configure(first.cin, first.cout, first.h, first.w, first.mode)
    await tb.start()
    tb.queue_streams(first)
    await ClockCycles(dut.clk, 20)
    await tb.configure(second.cin, second.cout, second.h, second.w, second.mode)
    await tb.start()
    status = await tb.read_reg(REG_STATUS)
    assert status & STATUS_BUSY, f"first layer {first} no longer busy 20 cycles after start: {status:#x}"
    assert status & STATUS_PENDING, f"second start while busy is not shown as pending: STATUS {status:#x}"
    tb.queue_streams(second)
    problems = []
    for lay in (first, second):
        frames = await tb.collect(lay, tb.timeout_for(lay, True))
        problems += tb.check(lay, frames)
    await tb.wait_done(tb.timeout_for(second, True))
    assert not problems, "back-to-back mismatches:\n  " + "\n  ".join(problems)
    await tb.expect_status(STATUS_DONE, "back-to-back, at the end")


def config_errors(good: Layer) -> list[tuple[str, int, int, int, int]]:
    """(kind, cin, cout, h, w): one illegal configuration per kind (coverage.CONFIG_ERRORS), the
    other dimensions those of the legal layer `good`."""
    c, o, h, w = good.cin, good.cout, good.h, good.w
    bad = {
        "H=0": (c, o, 0, w), "H>H_MAX": (c, o, CORE.h_max + 1, w),
        "W=0": (c, o, h, 0), "W>W_MAX": (c, o, h, CORE.w_max + 1),
        "Cin=0": (0, o, h, w), "Cin>CIN_MAX": (CORE.cin_max + CORE.par_in, o, h, w),
        "Cin%PAR_IN": (c + 1, o, h, w),
        "Cout=0": (c, 0, h, w), "Cout>COUT_MAX": (c, CORE.cout_max + CORE.par_out, h, w),
        "Cout%PAR_OUT": (c, o + 1, h, w),
        # the low bits are a legal value: a compare on truncated registers would accept it
        "dims above 16 bits": (c, o, h + (1 << 16), w),
    }
    assert set(bad) == set(CONFIG_ERRORS)
    return [(kind, *dims) for kind, dims in bad.items()]


@cocotb.test()
async def test_config_errors(dut):
    """Each kind of illegal configuration: the start completes at once (done) with STATUS.error
    only, accepts no stream beat and produces no output; a legal layer afterwards runs bit-exact
    with STATUS done only."""
    tb = await fresh_tb(dut)
    good = layer(0, MODE_ACC, max_tiles=SHORT_TILES // 2)
    for what, cin, cout, h, w in config_errors(good):
        await tb.configure(cin, cout, h, w, MODE_ACC)
        await tb.start()
        await ClockCycles(dut.clk, 32)
        await tb.expect_status(STATUS_DONE | STATUS_ERROR, f"{what} ({cin}->{cout} {h}x{w})")
        assert not int(dut.s_axis_act_tready.value) and not int(dut.s_axis_wgt_tready.value), \
            f"{what}: a stream is accepted after a rejected start"
        assert tb.out_sink.empty(), f"{what}: output produced for an illegal layer"
        tb.coverage.hit("errors", f"config {what}")
    await tb.run_layer(good)  # STATUS exactly done: the error bit cleared by the good start
    tb.coverage.hit("errors", "clean layer after an error")
    tb.save_coverage()


# ---------------------------------------------------------------- error paths (group "errors")

def beat_lanes(stream: str) -> int:
    return CORE.par_in if stream == "act" else CORE.wgt_lanes


def moved_tlast(frames: list[list[int]], stream: str, kind: str) -> list[list[int]]:
    """The stream's frames with tile 0's tlast misplaced (one beat early) or missing (tiles 0 and
    1 in one frame); the beats and their order are unchanged."""
    lanes = beat_lanes(stream)
    first, second, rest = frames[0], frames[1], frames[2:]
    if kind == "missing":
        return [first + second, *rest]
    return [first[:-lanes], first[-lanes:] + second, *rest]


@cocotb.test()
async def test_frame_errors(dut):
    """A misplaced and a missing tlast on each input stream: the layer still completes (the
    engine frames by counting) bit-exact with STATUS done + framing error; the next clean layer
    runs with STATUS done only."""
    tb = await fresh_tb(dut)
    lay = layer(0, MODE_ACC, max_tiles=2)
    assert lay.tiles >= 2, f"{lay}: the framing tests need two tiles"
    clean = layer(len(SETS) - 1, MODE_REQUANT, max_tiles=1)
    for stream in ("act", "wgt"):
        for kind in ("misplaced", "missing"):
            act = [lay.act] * lay.tiles
            wgt = list(lay.wgt)
            if stream == "act":
                act = moved_tlast(act, stream, kind)
            else:
                wgt = moved_tlast(wgt, stream, kind)
            await tb.run_layer(lay, frames_in=(act, wgt), want_status=STATUS_DONE | STATUS_FRAME_ERR)
            tb.coverage.hit("errors", f"frame {stream} tlast {kind}")
            await tb.run_layer(clean)
            tb.coverage.hit("errors", "clean layer after an error")
    tb.save_coverage()


@cocotb.test()
async def test_frame_error_cleared_by_rejected_start(dut):
    """docs/engine.md: bits 2, 4, 5, 6 are cleared by the next start, also a rejected one."""
    tb = await fresh_tb(dut)
    lay = layer(0, MODE_ACC, max_tiles=2)
    act = moved_tlast([lay.act] * lay.tiles, "act", "missing")
    await tb.run_layer(lay, frames_in=(act, lay.wgt), want_status=STATUS_DONE | STATUS_FRAME_ERR)
    await tb.configure(lay.cin, lay.cout, 0, lay.w, MODE_ACC)
    await tb.start()
    await ClockCycles(dut.clk, 32)
    await tb.expect_status(STATUS_DONE | STATUS_ERROR, "a rejected start after a framing error")
    await tb.run_layer(lay)


def param_block_of(frame: list[int]) -> int:
    lanes = frame[:CORE.param_beats * CORE.wgt_lanes]
    return sum(int(v) << (k * CORE.w_bits) for k, v in enumerate(lanes))


def with_param_block(frame: list[int], block: int) -> list[int]:
    n = CORE.param_beats * CORE.wgt_lanes
    return split_lanes(block, n, CORE.w_bits) + frame[n:]


def with_index_lane0(frame: list[int], value: int) -> list[int]:
    """The frame with lane 0 of channel group 0's index beat set to `value` (its IDX_BITS are
    the low bits of the beat's first W_BITS lane)."""
    at = CORE.param_beats * CORE.wgt_lanes
    mask = (1 << CORE.idx_bits) - 1
    return frame[:at] + [(frame[at] & ~mask) | value] + frame[at + 1:]


def with_all_indices(frame: list[int], value: int) -> list[int]:
    """The tile frame with every lane of every index beat set to `value`."""
    lanes, beats_per_group = CORE.wgt_lanes, CORE.taps + 1
    beat = split_lanes(sum(value << (lane * CORE.idx_bits) for lane in range(lanes)), lanes, CORE.w_bits)
    out = list(frame)
    for at in range(CORE.param_beats * lanes, len(frame), beats_per_group * lanes):
        out[at:at + lanes] = beat
    return out


LEVELS_LSB = lambda: CORE.par_out * PARAM_BITS_PER_LANE  # noqa: E731
PATTERNS_LSB = lambda: CORE.par_out * PARAM_BITS_PER_LANE + 128  # noqa: E731


def with_field(block: int, lsb: int, bits: int, value: int) -> int:
    return (block & ~(((1 << bits) - 1) << lsb)) | (value << lsb)


def mirrored(levels: np.ndarray, index: int, desc: int) -> np.ndarray:
    """`levels` with descriptor `index` set to `desc`; on a symmetric core its mirror too
    (m and 8+m: the same magnitude, the other sign), so the codebook stays symmetric."""
    levels = levels.copy()
    levels[index] = desc
    if PLUT_SYM:
        levels[index ^ 8] = desc ^ 0x80
    return levels


@cocotb.test()
async def test_level_errors(dut):
    """PLUT: a descriptor exponent LEVEL_EXP_MAX+1 and 15 on a used level: the layer completes with
    STATUS done + level error; descriptors at the largest legal exponent (+-7 * 2^LEVEL_EXP_MAX)
    run bit-exact against the pymodel reference with STATUS done only. A symmetric core also
    flags a codebook that is not symmetric (a negative magnitude, or a mirror that differs)."""
    tb = await fresh_tb(dut)
    lay = layer(0, MODE_ACC, max_tiles=2)
    clean = layer(len(SETS) - 1, MODE_REQUANT, max_tiles=1)
    used = int(np.bincount(lay.vs.wcode[:lay.cout].reshape(-1), minlength=16)[1:].argmax()) + 1
    bad_sets = [(mirrored(lay.vs.level_desc, used, (int(lay.vs.level_desc[used]) & 0xF0) | exponent),
                 "level exponent > LEVEL_EXP_MAX") for exponent in (LEVEL_EXP_MAX + 1, 15)]
    if PLUT_SYM:
        magnitude = used & 7 if used & 7 else 1
        flipped = lay.vs.level_desc.copy()
        flipped[magnitude] |= 0x80  # a negative magnitude (its mirror unchanged)
        lone = lay.vs.level_desc.copy()
        lone[magnitude | 8] = 0x80 | 0x10  # a mirror that is not the magnitude's (-1)
        if lone[magnitude | 8] == lay.vs.level_desc[magnitude | 8]:
            lone[magnitude | 8] = 0x80 | 0x30
        bad_sets += [(flipped, "symmetric core: negative magnitude descriptor"),
                     (lone, "symmetric core: mirror descriptor differs")]
    for levels, bin_name in bad_sets:
        wgt = [with_param_block(f, with_field(param_block_of(f), LEVELS_LSB(), 128,
                                              int.from_bytes(levels.astype(np.uint8).tobytes(), "little")))
               for f in lay.wgt]
        await tb.run_layer(lay, frames_in=([lay.act] * lay.tiles, wgt),
                           want_status=STATUS_DONE | STATUS_LEVEL_ERR, check_output=False)
        tb.coverage.hit("errors", bin_name)
        await tb.run_layer(clean)
        tb.coverage.hit("errors", "clean layer after an error")
    # the largest legal levels, both signs, on the two most used non-zero levels (a zero level
    # stays zero: pruned positions hold its code, and a KRP / IKR core never multiplies them);
    # on a symmetric core the most used magnitude, with its mirror
    counts = np.bincount(lay.vs.wcode[:lay.cout].reshape(-1), minlength=16)
    counts[codes.level_values(lay.vs.level_desc) == 0] = -1
    top_two = [int(j) for j in np.argsort(counts)[::-1][:2]]
    if PLUT_SYM:
        levels = mirrored(lay.vs.level_desc, top_two[0] & 7, 0x70 | LEVEL_EXP_MAX)
    else:
        levels = mirrored(mirrored(lay.vs.level_desc, top_two[0], 0x70 | LEVEL_EXP_MAX),
                          top_two[1], 0xF0 | LEVEL_EXP_MAX)
    wint = codes.decode(lay.vs.wcode, "ios", CORE.w_bits, level_desc=levels)
    acc = R.acc_multiply(lay.vs.act, wint)
    big = Layer(lay.name + "+largest-levels", SetView(lay.vs, level_desc=levels, acc=acc), CORE, MODE_ACC,
                cout=lay.cout)
    await tb.run_layer(big)
    tb.coverage.hit("errors", "level exponent = LEVEL_EXP_MAX (legal, exact)")
    tb.save_coverage()


@cocotb.test()
async def test_index_errors(dut):
    """KRP: a row index 3; IKR: a lane whose pattern is an unused (all-zero) slot, and a library
    mask keeping neither 0 nor IKR_K positions: the layer completes with STATUS done + index
    error; the next clean layer runs with STATUS done only."""
    tb = await fresh_tb(dut)
    lay = layer(0, MODE_ACC, max_tiles=2)
    clean = layer(len(SETS) - 1, MODE_REQUANT, max_tiles=1)
    cases = []
    if CORE.fmt == "krp":
        cases.append(("KRP row 3", [with_index_lane0(lay.wgt[0], 3), *lay.wgt[1:]]))
    else:
        pattern = int(lay.vs.pattern_id[0, 0])
        block = with_field(param_block_of(lay.wgt[0]), PATTERNS_LSB() + 9 * pattern, 9, 0)
        cases.append(("IKR pattern of an unused slot", [with_param_block(lay.wgt[0], block), *lay.wgt[1:]]))
        # a malformed mask flags even when no lane uses it: every lane of tile 0 on `pattern`,
        # another library entry keeping one position less
        other = (pattern + 1) % CORE.ikr_p
        mask = int(param_block_of(lay.wgt[0]) >> (PATTERNS_LSB() + 9 * other)) & 0x1FF
        fewer = mask & ~(1 << (mask.bit_length() - 1))
        block = with_field(param_block_of(lay.wgt[0]), PATTERNS_LSB() + 9 * other, 9, fewer)
        cases.append(("IKR malformed library mask",
                      [with_all_indices(with_param_block(lay.wgt[0], block), pattern), *lay.wgt[1:]]))
    for what, wgt in cases:
        await tb.run_layer(lay, frames_in=([lay.act] * lay.tiles, wgt),
                           want_status=STATUS_DONE | STATUS_INDEX_ERR, check_output=False)
        tb.coverage.hit("errors", what)
        await tb.run_layer(clean)
        tb.coverage.hit("errors", "clean layer after an error")
    tb.save_coverage()


@cocotb.test()
@cocotb.parametrize(mode=[MODE_ACC, MODE_REQUANT])
async def test_stress(dut, mode):
    """The synthetic stress sets (every code, max activations, shift 0, saturating outputs), Cin
    padded with zero-activation channels to a multiple of PAR_IN, Cout cut to a multiple of
    PAR_OUT: bit-exact, STATUS done only."""
    tb = await fresh_tb(dut)
    assert STRESS_SETS, "no stress set for this core"
    ran = 0
    for name in STRESS_SETS:
        vs = fit_channels(load_set(name), CORE.par_in)
        cout = vs.acc.shape[0] // CORE.par_out * CORE.par_out
        if cout == 0:  # fewer output channels than PAR_OUT (e.g. Cout 5 at 16x16): no whole tile
            continue
        await tb.run_layer(Layer(name, vs, CORE, mode, cout))
        ran += 1
    assert ran, f"no stress set has PAR_OUT={CORE.par_out} output channels"


@cocotb.test()
async def test_info(dut):
    """INFO = {ACC_BITS, W_BITS, PAR_OUT, PAR_IN} of the build, ACC_BITS by the docs/engine.md bound."""
    tb = await fresh_tb(dut)
    info = await tb.read_reg(REG_INFO)
    par_in, par_out, w_bits, acc_bits = (info >> s & 0xFF for s in (0, 8, 16, 24))
    assert (par_in, par_out, w_bits) == (CORE.par_in, CORE.par_out, CORE.w_bits), f"INFO {info:#010x}"
    want_acc_bits = codes.acc_bits(CORE.cin_max, CORE.a_bits, CONFIG["max_abs_weight"])
    assert acc_bits == want_acc_bits, \
        f"INFO.ACC_BITS {acc_bits}, docs/engine.md worst case gives {want_acc_bits}"
