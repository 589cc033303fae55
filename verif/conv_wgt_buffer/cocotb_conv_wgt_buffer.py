"""cocotb tests of conv_wgt_buffer against a cycle model of its contract (rtl/conv_wgt_buffer.v):
tile t loads into buffer t%2 as NPB parameter beats (beat b = block bits [b*WGT_W +: WGT_W], bits
below KEEP_LSB read 0), then per channel group an index beat (if any) and TAPS weight beats; a
tile may load once tile t-2 is released; tlast must mark each tile's last beat (else frame_err,
sticky until launch); param_wr one-hot with the accepted parameter beat; reads registered."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly
from common.coverage import collector
from common.unit_bins import WGT_BUFFER_BINS

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
P = CONFIG.get("parameters", {})
NAME = CONFIG.get("name", "wgt-buffer")
W, TAPS, CG_MAX, NPB = P["WGT_W"], P["TAPS"], P["CG_MAX"], P["NPB"]
IDX_W, PB, KEEP = P["IDX_BEAT_W"], P["PARAM_BITS"], P["KEEP_LSB"]
BPC = TAPS + (IDX_W > 0)


class Model:
    def __init__(self):
        self.wmem: dict[int, int] = {}
        self.imem: dict[int, int] = {}
        self.block = [0, 0]       # parameter block per buffer (stored bits)
        self.known = [0, 0]       # which block bits have been written
        self.launch(1, 1)

    def launch(self, cg: int, tiles: int):
        self.cg, self.tiles = cg, tiles
        self.loaded = self.beat = 0
        self.frame_err = False

    def tile_beats(self) -> int:
        return NPB + BPC * self.cg

    def accept(self, running: bool, released: int, hold: bool = False) -> bool:
        """hold: the back end still copies bias/shift (param_hold), which stops a tile's first beat."""
        return (running and self.loaded != self.tiles and self.loaded < released + 2
                and not (hold and self.beat == 0))

    def kind(self) -> str:
        if self.beat < NPB:
            return "param"
        return "index" if IDX_W and (self.beat - NPB) % BPC == 0 else "weight"

    def write(self, data: int, tlast: bool):
        buf, last = self.loaded % 2, self.beat == self.tile_beats() - 1
        if tlast != last:
            self.frame_err = True
        kind = self.kind()
        if kind == "param":
            lo, hi = self.beat * W, min(PB, self.beat * W + W)
            keep = ((1 << hi) - 1) & ~((1 << max(lo, KEEP)) - 1)
            self.block[buf] = (self.block[buf] & ~keep) | ((data << lo) & keep)
            self.known[buf] |= keep
        else:
            cg, k = divmod(self.beat - NPB, BPC)
            if kind == "index":
                self.imem[buf * CG_MAX + cg] = data & ((1 << IDX_W) - 1)
            else:
                self.wmem[buf * TAPS * CG_MAX + cg * TAPS + k - (IDX_W > 0)] = data
        if last:
            self.beat, self.loaded = 0, self.loaded + 1
        else:
            self.beat += 1
        return kind


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.m = Model()
        self.seen: dict[str, int] = {}
        self.pending: tuple | None = None

    def see(self, what: str, n: int = 1):
        self.seen[what] = self.seen.get(what, 0) + n

    async def reset(self):
        Clock(self.dut.clk, 10, unit="ns").start()
        for sig in ("launch", "running", "cfg_cg", "cfg_tiles", "s_axis_wgt_tdata", "s_axis_wgt_tvalid",
                    "s_axis_wgt_tlast", "tiles_released", "param_hold", "rd_en", "rd_addr", "idx_rd_en",
                    "idx_rd_addr"):
            getattr(self.dut, sig).value = 0
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def launch(self, cg: int, tiles: int):
        d = self.dut
        d.cfg_cg.value, d.cfg_tiles.value, d.running.value, d.s_axis_wgt_tvalid.value = cg, tiles, 0, 0
        d.tiles_released.value, d.launch.value = 0, 1
        await FallingEdge(d.clk)
        d.launch.value = 0
        self.m.launch(cg, tiles)
        self.pending = None

    def check_registered(self):
        d, m = self.dut, self.m
        err, loaded = int(d.frame_err.value), int(d.tiles_loaded.value)
        assert err == m.frame_err, f"frame_err {err}, model {m.frame_err}"
        assert loaded == m.loaded, f"tiles_loaded {loaded}, model {m.loaded}"
        for buf, sig in enumerate((d.params0, d.params1)):
            got = sig.value.to_unsigned()
            assert got & ((1 << KEEP) - 1) == 0, "bits below KEEP_LSB must read 0"
            assert got & m.known[buf] == m.block[buf], f"params{buf} {got:#x}, model {m.block[buf]:#x}"
        if m.known[0] or m.known[1]:
            self.see("params checked")
        if self.pending:
            want_w, want_i = self.pending
            if want_w is not None:
                assert d.rd_data.value.to_unsigned() == want_w, "weight RAM read"
                self.see("reads checked")
            if want_i is not None:
                assert d.idx_rd_data.value.to_unsigned() == want_i, "index RAM read"
                self.see("index reads checked")

    async def traffic(self, beats: int, rng: random.Random, valid_p: float, release_p: float,
                      bad_tlast: str | None = None) -> int:
        d, m = self.dut, self.m
        released, accepted, cycles = 0, 0, 0
        d.running.value = 1
        await FallingEdge(d.clk)
        while accepted < beats and m.loaded < m.tiles:
            cycles += 1
            assert cycles < 100 * beats + 1000, "the buffer stopped accepting beats"
            self.check_registered()
            if released < m.loaded and rng.random() < release_p:
                released += 1
            valid = rng.random() < valid_p
            data = rng.getrandbits(W)
            tlast = m.beat == m.tile_beats() - 1
            if valid and bad_tlast == "misplaced" and not tlast and accepted >= beats // 3:
                tlast, bad_tlast = True, None
                self.see("frame misplaced tlast")
            elif valid and bad_tlast == "missing" and tlast:
                tlast, bad_tlast = False, None
                self.see("frame missing tlast")
            hold = rng.random() < 0.25
            accept = m.accept(True, released, hold)
            fire = valid and accept
            if valid and not accept and m.loaded >= released + 2:
                self.see("both buffers in use")
            if valid and hold and m.beat == 0 and m.accept(True, released):
                self.see("tile start held by param_hold")
            want_w = want_i = None
            if m.wmem and rng.random() < 0.5:
                addr = rng.choice(list(m.wmem))
                d.rd_addr.value, want_w = addr, m.wmem[addr]
            if m.imem and rng.random() < 0.5:
                addr = rng.choice(list(m.imem))
                d.idx_rd_addr.value, want_i = addr, m.imem[addr]
            d.rd_en.value, d.idx_rd_en.value = int(want_w is not None), int(want_i is not None)
            keep_w = self.pending[0] if self.pending and want_w is None else want_w  # rd_en low: held
            keep_i = self.pending[1] if self.pending and want_i is None else want_i
            self.pending = (keep_w, keep_i)
            d.tiles_released.value, d.param_hold.value = released, int(hold)
            d.s_axis_wgt_tvalid.value, d.s_axis_wgt_tdata.value, d.s_axis_wgt_tlast.value = \
                int(valid), data, int(tlast)
            beat = m.beat
            await ReadOnly()
            assert int(d.s_axis_wgt_tready.value) == accept, f"tready {int(d.s_axis_wgt_tready.value)}"
            want_pwr = (1 << beat) if fire and beat < NPB else 0
            got_pwr = int(d.param_wr.value)
            assert got_pwr == want_pwr, f"param_wr {got_pwr:#b}, expected {want_pwr:#b}"
            if fire:
                self.see(m.write(data, tlast) + " beat")
                accepted += 1
            await FallingEdge(d.clk)
        d.s_axis_wgt_tvalid.value = d.param_hold.value = 0
        for _ in range(6):
            self.check_registered()
            d.rd_en.value = d.idx_rd_en.value = 0
            await ReadOnly()
            assert int(d.s_axis_wgt_tready.value) == m.accept(True, released)
            await FallingEdge(d.clk)
        if m.loaded == m.tiles:
            self.see("tiles done")
        return accepted


@cocotb.test()
async def test_load_release_read(dut):
    """Four tiles through both buffers with slow releases (both in use: stall), every RAM and
    parameter block checked, then a relaunch mid-tile with another Cin, then tlast errors and
    their clear by launch."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(3)
    m = tb.m
    await tb.launch(CG_MAX, 4)
    total = 4 * m.tile_beats()
    assert await tb.traffic(total, rng, 0.8, 0.01) == total
    assert not m.frame_err
    await tb.launch(CG_MAX - 1, 3)
    await tb.traffic(m.tile_beats() + 2, rng, 0.7, 0.2)
    tb.see("relaunch mid-stream")
    await tb.launch(1, 1)
    await tb.traffic(m.tile_beats(), rng, 1.0, 1.0, bad_tlast="misplaced")
    assert m.frame_err, "a misplaced tlast must set frame_err"
    await tb.launch(2, 1)
    await tb.traffic(m.tile_beats(), rng, 1.0, 1.0, bad_tlast="missing")
    assert m.frame_err, "a missing tlast must set frame_err"
    await tb.launch(1, 1)
    tb.check_registered()
    cov = collector()
    bins = [b for b in WGT_BUFFER_BINS if IDX_W or "index" not in b]
    for what in bins:
        assert tb.seen.get(what), f"the traffic never reached '{what}'"
        cov.hit("unit wgt buffer", f"{NAME} {what}")
    cov.save()
