"""cocotb tests of conv_line_buffer against a cycle model of its contract (rtl/conv_line_buffer.v):
beats written in stream order (channel group, column, row, map copy); row g in slot g%4, column
x in bank x%3 at address (x/3)*CG + cg; a beat accepted only while running, before the last map
copy, and while its row is at most two rows ahead of the compute row; tlast must mark each map's
last beat (else frame_err, sticky until launch); reads registered, read-before-write."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge
from common.coverage import collector
from common.unit_bins import LINE_BUFFER_BINS

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
PARAMS = CONFIG.get("parameters", {})
NAME = CONFIG.get("name", "line-buffer")


class Model:
    """The write position, the RAM contents written so far and the sticky framing error."""

    def __init__(self):
        self.mem: dict[tuple[int, int, int], int] = {}  # (slot, bank, addr) -> word
        self.launch(1, 1, 1, 1)

    def launch(self, h: int, w: int, cg: int, tiles: int):
        self.h, self.w, self.cg, self.tiles = h, w, cg, tiles
        self.g = self.y = self.x = self.c = self.maps = 0
        self.frame_err = False

    def accept(self, running: bool, compute_row: int) -> bool:
        return running and self.maps < self.tiles and self.g <= compute_row + 2

    def map_end(self) -> bool:
        return self.c == self.cg - 1 and self.x == self.w - 1 and self.y == self.h - 1

    def write(self, data: int, tlast: bool):
        if tlast != self.map_end():
            self.frame_err = True
        self.mem[(self.g % 4, self.x % 3, (self.x // 3) * self.cg + self.c)] = data
        self.c += 1
        if self.c == self.cg:
            self.c, self.x = 0, self.x + 1
            if self.x == self.w:
                self.x, self.g, self.y = 0, self.g + 1, self.y + 1
                if self.y == self.h:
                    self.y, self.maps = 0, self.maps + 1


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.model = Model()
        self.lanes_w = PARAMS["PAR_IN"] * PARAMS["A_BITS"]
        self.addr_w = len(dut.rd_addr) // 3
        self.seen: dict[str, int] = {}
        self.pending_read = None  # expected rd_data words {(slot, bank): word} of the last read

    def see(self, what: str, count: int = 1):
        self.seen[what] = self.seen.get(what, 0) + count

    async def reset(self):
        Clock(self.dut.clk, 10, unit="ns").start()
        for sig in ("launch", "running", "s_axis_act_tvalid", "s_axis_act_tlast", "s_axis_act_tdata",
                    "compute_row", "rd_en", "rd_addr", "cfg_h", "cfg_w", "cfg_cg", "cfg_tiles"):
            getattr(self.dut, sig).value = 0
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def launch(self, h: int, w: int, cg: int, tiles: int):
        d = self.dut
        d.cfg_h.value, d.cfg_w.value, d.cfg_cg.value, d.cfg_tiles.value = h, w, cg, tiles
        d.running.value, d.s_axis_act_tvalid.value, d.launch.value = 0, 0, 1
        await FallingEdge(d.clk)
        d.launch.value = 0
        self.model.launch(h, w, cg, tiles)
        self.pending_read = None

    def check_outputs(self, compute_row: int, running: bool):
        d, m = self.dut, self.model
        err = int(d.frame_err.value)
        assert err == m.frame_err, f"frame_err {err}, model {m.frame_err}"
        assert int(d.write_row.value) == m.g and int(d.write_col.value) == m.x, \
            f"write position ({int(d.write_row.value)}, {int(d.write_col.value)}), model ({m.g}, {m.x})"
        ready = int(d.s_axis_act_tready.value)
        assert ready == m.accept(running, compute_row), \
            f"tready {ready} at row {m.g}, compute row {compute_row}"
        if self.pending_read:
            data = d.rd_data.value.to_unsigned()
            for (slot, bank), word in self.pending_read.items():
                got = (data >> ((slot * 3 + bank) * self.lanes_w)) & ((1 << self.lanes_w) - 1)
                assert got == word, f"slot {slot} bank {bank}: read {got:#x}, wrote {word:#x}"
            self.see("reads checked", len(self.pending_read))

    async def traffic(self, beats: int, rng: random.Random, valid_p: float, bad_tlast: str | None = None):
        """Up to `beats` accepted beats (or until the map copies are all written), random valid
        gaps, the compute row advancing behind the writes, a random read every other cycle."""
        d, m = self.dut, self.model
        compute_row, accepted, cycles = 0, 0, 0
        running = True
        d.running.value = 1
        await FallingEdge(d.clk)  # the write applies at the edge; outputs are checked from then on
        while accepted < beats and m.maps < m.tiles:
            cycles += 1
            assert cycles < 50 * beats + 1000, "the buffer stopped accepting beats"
            self.check_outputs(compute_row, running)
            # next inputs
            if rng.random() < 0.02 and compute_row < m.g:  # slower than a row: the window stalls
                compute_row += 1
            valid = rng.random() < valid_p
            data = rng.getrandbits(self.lanes_w)
            tlast = m.map_end()
            if valid and bad_tlast == "misplaced" and not tlast and accepted >= beats // 2:
                tlast, bad_tlast = True, None
                self.see("frame misplaced tlast")
            elif valid and bad_tlast == "missing" and tlast:
                tlast, bad_tlast = False, None
                self.see("frame missing tlast")
            fire = valid and m.accept(running, compute_row)
            if valid and not m.accept(running, compute_row):
                self.see("window stall")
            read = None
            if rng.random() < 0.5:
                xs = [rng.randrange(b, max(b + 1, m.w), 3) if b < m.w else 0 for b in range(3)]
                cgs = [rng.randrange(m.cg) for _ in range(3)]
                addrs = [(x // 3) * m.cg + c for x, c in zip(xs, cgs, strict=True)]
                read = {(s, b): m.mem[(s, b, addrs[b])] for s in range(4) for b in range(3)
                        if (s, b, addrs[b]) in m.mem}  # read before this edge's write
                d.rd_addr.value = sum(a << (b * self.addr_w) for b, a in enumerate(addrs))
            d.rd_en.value = int(read is not None)
            if read is None and self.pending_read is not None:
                read = self.pending_read  # rd_en low: the read register holds its last word
            self.pending_read = read
            d.compute_row.value = compute_row
            d.s_axis_act_tvalid.value, d.s_axis_act_tdata.value, d.s_axis_act_tlast.value = \
                int(valid), data, int(tlast)
            if fire:
                if m.x >= 3:
                    self.see("bank wrap")
                if m.g >= 4:
                    self.see("slot reuse")
                m.write(data, tlast)
                accepted += 1
            await FallingEdge(d.clk)
        d.s_axis_act_tvalid.value = 0
        # the buffer holds still once every map copy is written
        for _ in range(8):
            self.check_outputs(compute_row, running)
            d.rd_en.value = 0
            await FallingEdge(d.clk)
        if m.maps == m.tiles:
            self.see("maps done")
        return accepted


@cocotb.test()
async def test_fill_wrap_window_reads(dut):
    """Two map copies of an odd width (the bank triple wraps, slots are reused), random gaps and
    reads, then a relaunch mid-stream with other dimensions, then tlast errors and their clear."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(1)
    w_max, cg_max = PARAMS["W_MAX"], PARAMS["CG_MAX"]
    await tb.launch(5, w_max, cg_max, 2)
    total = 5 * w_max * cg_max * 2
    assert await tb.traffic(total, rng, 0.8) == total
    assert tb.model.frame_err is False
    await tb.launch(4, w_max - 2, cg_max - 1, 3)
    await tb.traffic(30, rng, 0.6)
    tb.see("relaunch mid-stream")
    await tb.launch(3, 4, 2, 1)
    await tb.traffic(3 * 4 * 2, rng, 1.0, bad_tlast="misplaced")
    assert tb.model.frame_err, "a misplaced tlast must set frame_err"
    await tb.launch(3, 4, 2, 1)
    assert not tb.model.frame_err
    await tb.traffic(3 * 4 * 2, rng, 0.9, bad_tlast="missing")
    assert tb.model.frame_err, "a missing tlast must set frame_err"
    await tb.launch(2, 3, 1, 1)
    tb.check_outputs(0, False)  # launch cleared it
    cov = collector()
    for what in LINE_BUFFER_BINS:
        assert tb.seen.get(what), f"the traffic never reached '{what}'"
        cov.hit("unit line buffer", f"{NAME} {what}")
    cov.save()
