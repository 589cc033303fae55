"""cocotb tests of one built conv core; configured by the pytest runner through CONV_TB_CONFIG.

CONV_TB_CONFIG (JSON): {"core": CoreShape fields, "sets": [vector set names], "seeds": [ints],
"max_abs_weight": int}. The sets all fit the core; the first is the smallest.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.triggers import ClockCycles, with_timeout
from common.streams import CoreShape
from common.vector_sets import load_set

from conv_engine.tb import (
    MODE_ACC,
    MODE_REQUANT,
    REG_CYCLES,
    REG_INFO,
    REG_STATUS,
    STATUS_BUSY,
    STATUS_DONE,
    STATUS_ERROR,
    STATUS_PENDING,
    TB,
    Layer,
)
from pymodel import codes

CONFIG = json.loads(os.environ.get("CONV_TB_CONFIG", "{}"))
CORE = CoreShape(**CONFIG["core"]) if CONFIG else None
SETS = CONFIG.get("sets", [])
SEEDS = CONFIG.get("seeds", [1])


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
    tb = TB(dut, CORE)
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
    status = await tb.read_reg(REG_STATUS)
    assert status & (STATUS_BUSY | STATUS_PENDING | STATUS_ERROR) == 0, f"STATUS {status:#x} at the end"


@cocotb.test()
async def test_config_errors(dut):
    """Illegal dimensions raise STATUS.error without starting (no hang, no output), and a
    legal layer afterwards runs bit-exact."""
    tb = await fresh_tb(dut)
    good = layer(0, MODE_ACC, max_tiles=SHORT_TILES // 2)
    bad_configs = [
        ("Cout not a multiple of PAR_OUT", good.cin, CORE.par_out + 1, good.h, good.w),
        ("Cin above CIN_MAX", CORE.cin_max + CORE.par_in, good.cout, good.h, good.w),
        ("H above H_MAX", good.cin, good.cout, CORE.h_max + 1, good.w),
        ("W above W_MAX", good.cin, good.cout, good.h, CORE.w_max + 1),
        ("Cout above COUT_MAX", good.cin, CORE.cout_max + CORE.par_out, good.h, good.w),
    ]
    if CORE.par_in > 1:
        bad_configs.insert(0, ("Cin not a multiple of PAR_IN", CORE.par_in + 1, good.cout, good.h, good.w))
    if CORE.par_out == 1:
        bad_configs.pop(1 if CORE.par_in > 1 else 0)
    for what, cin, cout, h, w in bad_configs:
        await tb.configure(cin, cout, h, w, MODE_ACC)
        await tb.start()
        await ClockCycles(dut.clk, 32)
        status = await tb.read_reg(REG_STATUS)
        assert status & STATUS_ERROR, f"{what} ({cin}->{cout} {h}x{w}): no config error, STATUS {status:#x}"
        assert not status & STATUS_BUSY, f"{what}: engine busy after a config error, STATUS {status:#x}"
        assert tb.out_sink.empty(), f"{what}: output produced for an illegal layer"
    await tb.run_layer(good)  # run_layer also checks that STATUS.error cleared on the good start


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
