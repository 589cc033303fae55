"""Testbench for the conv3x3 cores (conv_engine: every ARITH x FORMAT), alexforencich style.

Drives the engine through cocotbext-axi models: AxiLiteMaster for control, AxiStreamSource for the
activation and weight streams (one frame element = one lane), AxiStreamSink for the output. The
expected values come only from a pymodel vector set; nothing is recomputed here.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterator

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)
from common.coverage import collector
from common.streams import (
    OUT_LANE_BITS,
    CoreShape,
    act_frame,
    describe_mismatches,
    expected_tile,
    kept_positions,
    out_lanes,
    weight_frame,
)
from common.vector_sets import dims

from pymodel import contract as K

# AXI-Lite register map and STATUS bits: the contract (spec/conv_engine.hjson, pymodel.contract)
REG_CTRL, REG_STATUS, REG_H, REG_W, REG_CIN, REG_COUT, REG_MODE, REG_CYCLES, REG_INFO = (
    K.REG_CTRL, K.REG_STATUS, K.REG_H, K.REG_W, K.REG_CIN, K.REG_COUT, K.REG_MODE, K.REG_CYCLES, K.REG_INFO)
STATUS_BUSY, STATUS_DONE, STATUS_ERROR, STATUS_PENDING = (
    1 << K.STATUS_BUSY_LSB, 1 << K.STATUS_DONE_LSB, 1 << K.STATUS_CFG_ERR_LSB, 1 << K.STATUS_PENDING_LSB)
STATUS_FRAME_ERR, STATUS_LEVEL_ERR, STATUS_INDEX_ERR = (
    1 << K.STATUS_FRAME_ERR_LSB, 1 << K.STATUS_LEVEL_ERR_LSB, 1 << K.STATUS_INDEX_ERR_LSB)
STATUS_ANY_ERROR = STATUS_ERROR | STATUS_FRAME_ERR | STATUS_LEVEL_ERR | STATUS_INDEX_ERR
STATUS_BITS = (1 << K.STATUS_DEFINED_BITS) - 1  # the defined bits; the others read 0
MODE_ACC, MODE_REQUANT = K.MODE_ACC, K.MODE_REQUANT
CLOCK_NS = 4


def random_pauses(rng: random.Random, probability: float) -> Iterator[bool]:
    """Pause pattern for idle / back-pressure: True with `probability`, in random bursts."""
    while True:
        burst = rng.randint(1, 8)
        yield from itertools.repeat(rng.random() < probability, burst)


def counted_pauses(pauses: Iterator[bool], record) -> Iterator[bool]:
    """`pauses`, reporting the length of every run of pause cycles to `record(length)`
    (the stream models draw one value per clock, so this is the stall pattern they apply)."""
    run = 0
    for pause in pauses:
        if pause:
            run += 1
        elif run:
            record(run)
            run = 0
        yield pause


class Layer:
    """One layer's streams and expectations, cut from a vector set for a given core shape."""

    def __init__(self, name: str, vs, core: CoreShape, mode: int, cout: int | None = None):
        self.name = name
        self.cin, full_cout, self.h, self.w = dims(vs)
        # A prefix of the output channels is a valid sub-layer: its accumulators do not change.
        self.cout = full_cout if cout is None else cout
        self.mode = mode
        self.core = core
        self.vs = vs
        self.tiles = self.cout // core.par_out
        self.act = act_frame(vs.act)
        self.wgt = [weight_frame(core, vs, t)
                    for t in range(self.tiles)]
        expected = vs.acc if mode == MODE_ACC else vs.out
        self.expected = [expected_tile(expected, core, t) for t in range(self.tiles)]
        if mode == MODE_ACC and np.abs(vs.acc).max() >= 1 << (OUT_LANE_BITS - 1):
            raise ValueError(f"{name}: accumulators do not fit the 32-bit output lanes")

    def coverage_bins(self, core_name: str) -> list[tuple[str, str]]:
        """(group, bin) of what this layer feeds the core: weight codes on multiplied positions,
        KRP rows / IKR pattern ids, activations 0 and max, and (MODE=1) saturated / clamped
        outputs and the shift-0 path."""
        vs, cout, fmt = self.vs, self.cout, self.core.fmt
        codes = vs.wcode[:cout].reshape(cout, -1, K.TAPS)
        if fmt != "dense":
            codes = np.take_along_axis(codes, kept_positions(vs, self.core)[:cout], axis=2)
        bins = [("weight codes", f"{core_name}/{fmt} code {c}") for c in np.unique(codes)]
        if fmt == "krp":
            bins += [("index", f"{core_name} KRP row {r}") for r in np.unique(vs.row_idx[:cout])]
        if fmt == "ikr":
            bins += [("index", f"{core_name} IKR pattern {p}") for p in np.unique(vs.pattern_id[:cout])]
        # the back end's pace (RQ_LANES): pixels shorter than its passes are spaced by the
        # sequencer, tiles shorter than them wait for the bias/shift copy (param_hold)
        groups = self.cin // self.core.par_in
        if self.core.rq_passes > self.core.taps * groups:
            bins.append(("back end", "pixels spaced to the back end's passes"))
        tile_beats = self.core.param_beats + (self.core.taps + bool(self.core.idx_bits)) * groups
        if tile_beats < self.core.rq_passes and self.cout > self.core.par_out:
            bins.append(("back end", "tile shorter than the back end's passes (param_hold)"))
        top = (1 << self.core.a_bits) - 1
        bins += [("activations", f"{core_name}/{fmt} act {name}")
                 for name, value in (("0", 0), ("max", top)) if (vs.act == value).any()]
        if self.mode == MODE_REQUANT:
            out = vs.out[:cout]
            below_zero = (vs.acc[:cout].astype(np.int64) + vs.bias[:cout, None, None]) < 0
            bins += [("outputs", f"{core_name} out {name}") for name, seen in (
                ("saturated at max", (out == top).any()), ("clamped at 0", below_zero.any()),
                ("shift 0", (vs.shift[:cout] == 0).any())) if seen]
        return bins

    @property
    def ideal_cycles(self) -> int:
        return self.core.ideal_cycles(self.cin, self.cout, self.h, self.w)

    def __str__(self) -> str:
        mode = "acc" if self.mode == MODE_ACC else "out"
        return f"{self.name}[{self.cin}->{self.cout} {self.h}x{self.w} {mode}]"


class TB:
    def __init__(self, dut, core: CoreShape, core_name: str = "core"):
        self.dut = dut
        self.core = core
        self.core_name = core_name
        self.coverage = collector()
        self.log = logging.getLogger("cocotb.tb")
        self.log.setLevel(logging.INFO)
        cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
        self.act_source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_act"), dut.clk, dut.rst,
                                          byte_size=core.a_bits)
        self.wgt_source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_wgt"), dut.clk, dut.rst,
                                          byte_size=core.w_bits)
        self.out_sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_out"), dut.clk, dut.rst,
                                      byte_size=OUT_LANE_BITS)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        for model in (self.act_source, self.wgt_source, self.out_sink, self.axil.write_if, self.axil.read_if):
            model.log.setLevel(logging.WARNING)  # per-frame logging of 100k-lane frames is slow

    def _stall_recorder(self, stream: str):
        def record(length: int):
            self.coverage.hit("stalls", f"{self.core_name} {stream} {'1-3' if length < 4 else '>=4'} cycles")
        return record

    def set_idle_generator(self, make_generator=None):
        """Idle cycles on both input streams; `make_generator()` is called once per stream."""
        for source, stream in ((self.act_source, "act idle"), (self.wgt_source, "wgt idle")):
            source.set_pause_generator(
                counted_pauses(make_generator(), self._stall_recorder(stream)) if make_generator else None)

    def set_backpressure_generator(self, make_generator=None):
        record = self._stall_recorder("out backpressure")
        self.out_sink.set_pause_generator(
            counted_pauses(make_generator(), record) if make_generator else None)

    def set_random_stalls(self, seed: int, idle: float, backpressure: float):
        rng = random.Random(seed)
        self.set_idle_generator(lambda: random_pauses(random.Random(rng.random()), idle))
        self.set_backpressure_generator(lambda: random_pauses(random.Random(rng.random()), backpressure))

    def clear_stalls(self):
        self.set_idle_generator(None)
        self.set_backpressure_generator(None)
        for model in (self.act_source, self.wgt_source, self.out_sink):
            model.pause = False  # removing a generator leaves its last pause value in place

    async def cycle_reset(self, cycles: int = 8):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0
        # the stream models keep their queues across reset; drop what belonged to the old run
        for model in (self.act_source, self.wgt_source, self.out_sink):
            model.clear()
        await ClockCycles(self.dut.clk, cycles)

    async def read_reg(self, addr: int) -> int:
        return int.from_bytes((await self.axil.read(addr, 4)).data, "little")

    async def write_reg(self, addr: int, value: int):
        await self.axil.write(addr, int(value).to_bytes(4, "little"))

    async def configure(self, cin: int, cout: int, h: int, w: int, mode: int):
        for addr, value in ((REG_H, h), (REG_W, w), (REG_CIN, cin), (REG_COUT, cout), (REG_MODE, mode)):
            await self.write_reg(addr, value)

    async def start(self):
        await self.write_reg(REG_CTRL, 1)

    def queue_streams(self, layer: Layer):
        """Queue all of a layer's input frames: the map once per output tile, each tile's weights."""
        for t in range(layer.tiles):
            self.wgt_source.send_nowait(AxiStreamFrame(layer.wgt[t]))
            self.act_source.send_nowait(AxiStreamFrame(layer.act))

    async def collect(self, layer: Layer, timeout_cycles: int) -> list[np.ndarray]:
        """The layer's output frames (one per tile) as [pixels, PAR_OUT] lane arrays."""
        frames = []
        for _ in range(layer.tiles):
            frame = await with_timeout(self.out_sink.recv(), timeout_cycles * CLOCK_NS, "ns")
            frames.append(out_lanes(frame.tdata, self.core.par_out, signed=layer.mode == MODE_ACC))
        return frames

    async def wait_done(self, timeout_cycles: int):
        """Wait for STATUS.done (the `done` port mirrors it) at most timeout_cycles."""
        async def done_high():
            while not int(self.dut.done.value):
                await RisingEdge(self.dut.clk)
        await with_timeout(done_high(), timeout_cycles * CLOCK_NS, "ns")

    def check(self, layer: Layer, frames: list[np.ndarray]) -> list[str]:
        problems = []
        for t, (got, want) in enumerate(zip(frames, layer.expected, strict=True)):
            problems += describe_mismatches(got, want, layer.w, t, self.core.par_out)
        return [f"{layer}: {p}" for p in problems]

    def timeout_for(self, layer: Layer, stalled: bool) -> int:
        # generous: stalls can slow a layer several-fold; a hang still ends the test quickly
        return layer.ideal_cycles * (12 if stalled else 3) + 20_000

    async def expect_status(self, want: int, what: str):
        """The defined STATUS bits (and the undefined bits 0) exactly `want`; the busy / done ports agree."""
        status = await self.read_reg(REG_STATUS)
        assert status == want, f"{what}: STATUS {status:#04x}, expected {want:#04x} " \
            f"(busy 1, done 2, cfg err 4, pending 8, frame err 16, level err 32, index err 64)"
        ports = int(self.dut.busy.value) * STATUS_BUSY | int(self.dut.done.value) * STATUS_DONE
        assert ports == want & (STATUS_BUSY | STATUS_DONE), \
            f"{what}: busy/done ports {ports:#x}, STATUS {status:#x}"

    def save_coverage(self):
        self.coverage.save()

    async def run_layer(self, layer: Layer, stalled: bool = False, frames_in=None,
                        want_status: int = STATUS_DONE, check_output: bool = True) -> int:
        """Configure, start, stream, collect and check one layer; returns CYCLES.

        `frames_in` (act frames, wgt frames) replaces the layer's own (error-path tests);
        `want_status` is STATUS after done (a clean layer: done only)."""
        await self.configure(layer.cin, layer.cout, layer.h, layer.w, layer.mode)
        await self.start()
        if frames_in is None:
            self.queue_streams(layer)
        else:
            for frame in frames_in[1]:
                self.wgt_source.send_nowait(AxiStreamFrame(frame))
            for frame in frames_in[0]:
                self.act_source.send_nowait(AxiStreamFrame(frame))
        timeout = self.timeout_for(layer, stalled)
        frames = await self.collect(layer, timeout)
        await self.wait_done(timeout)
        if check_output:
            problems = self.check(layer, frames)
            assert not problems, "output mismatches:\n  " + "\n  ".join(problems)
        await self.expect_status(want_status, f"{layer} after done")
        assert self.out_sink.empty(), f"{layer}: {self.out_sink.count()} unexpected extra output frames"
        if check_output and want_status == STATUS_DONE:
            for group, name in layer.coverage_bins(self.core_name):
                self.coverage.hit(group, name)
        self.save_coverage()
        return await self.read_reg(REG_CYCLES)

