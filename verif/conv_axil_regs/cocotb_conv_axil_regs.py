"""cocotb tests of conv_axil_regs (docs/engine.md register map) through cocotbext-axi's AxiLiteMaster:
reset values, every register, byte strobes, read-only and unmapped addresses, the start pulse,
STATUS / CYCLES / INFO from the inputs, back-to-back and interleaved reads and writes."""

from __future__ import annotations

import json
import logging
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster
from common.coverage import collector

from pymodel import contract as K

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
PARAMS = CONFIG.get("parameters", {})
# the register map and STATUS / INFO fields of the contract (spec/conv_engine.hjson)
CTRL, STATUS, H, W, CIN, COUT, MODE, CYCLES, INFO = (
    K.REG_CTRL, K.REG_STATUS, K.REG_H, K.REG_W, K.REG_CIN, K.REG_COUT, K.REG_MODE, K.REG_CYCLES, K.REG_INFO)
RW = {H: "cfg_h", W: "cfg_w", CIN: "cfg_cin", COUT: "cfg_cout"}
NAMES = {offset: name for name, (offset, _access, _reset) in K.REGISTERS.items()}
# status input port -> its STATUS bit (the ports are named after the fields)
STATUS_INPUTS = {f"status_{name.lower()}": getattr(K, f"STATUS_{name}_LSB") for name in K.STATUS_FIELDS}
UNMAPPED = tuple(a for a in (0x24, 0x28, 0x40, 0x80, 0xFC) if a not in NAMES)


class RegsTB:
    def __init__(self, dut):
        self.dut = dut
        self.cov = collector()
        Clock(dut.clk, 10, unit="ns").start()
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        for model in (self.axil.write_if, self.axil.read_if):
            model.log.setLevel(logging.WARNING)
        self.pulses = 0
        self.model = {H: 0, W: 0, CIN: 0, COUT: 0, MODE: 0}
        cocotb.start_soon(self._count_pulses())

    async def _count_pulses(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.pulses += int(self.dut.start_pulse.value)

    async def reset(self):
        dut = self.dut
        for name in STATUS_INPUTS:
            getattr(dut, name).value = 0
        dut.cycles.value = 0
        dut.rst.value = 1
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 2)
        self.pulses = 0

    async def read(self, addr: int) -> int:
        resp = await self.axil.read(addr, 4)
        assert int(resp.resp) == 0, f"read {addr:#04x}: response {resp.resp}"
        self.cov.hit("unit axil", f"read {NAMES.get(addr, 'unmapped')}")
        return int.from_bytes(resp.data, "little")

    async def write(self, addr: int, value: int, strobes: int = 0xF, raw: bool = False):
        data = value.to_bytes(4, "little")
        if raw or strobes not in contiguous_strobes():
            resp = await self.raw_write(addr, value, strobes)
        else:  # AxiLiteMaster derives the byte strobes from the byte range written
            first = (strobes & -strobes).bit_length() - 1
            width = bin(strobes).count("1")
            resp = await self.axil.write(addr + first, data[first:first + width])
        assert int(resp.resp) == 0, f"write {addr:#04x}: response {resp.resp}"
        self.cov.hit("unit axil", f"write {NAMES.get(addr, 'unmapped')}")
        if addr in self.model:
            old = self.model[addr]
            mask = sum(0xFF << (8 * b) for b in range(4) if strobes >> b & 1)
            new = (old & ~mask) | (value & mask)
            self.model[addr] = (new & 1 if strobes & 1 else old) if addr == MODE else new

    async def raw_write(self, addr: int, value: int, strobes: int):
        """One write with the whole word on wdata and any strobe mask (AxiLiteMaster zeroes the
        unstrobed bytes and allows contiguous masks only): straight onto its AW / W channels, the
        B response taken here (the master's response process waits for its own commands only)."""
        wif = self.axil.write_if
        aw, w = wif.aw_channel._transaction_obj(), wif.w_channel._transaction_obj()
        aw.awaddr, aw.awprot = addr, 0
        w.wdata, w.wstrb = value, strobes
        await wif.aw_channel.send(aw)
        await wif.w_channel.send(w)
        b = await wif.b_channel.recv()

        class Resp:
            resp = int(b.bresp)
        return Resp

    async def check_model(self, what: str):
        for addr, value in self.model.items():
            got = await self.read(addr)
            assert got == value, f"{what}: {NAMES[addr]} reads {got:#x}, expected {value:#x}"
            port = self.dut.cfg_mode if addr == MODE else getattr(self.dut, RW[addr])
            assert int(port.value) == value, \
                f"{what}: {NAMES[addr]} port {int(port.value):#x}, expected {value:#x}"


def contiguous_strobes() -> list[int]:
    return [0x1, 0x2, 0x4, 0x8, 0x3, 0x6, 0xC, 0x7, 0xE, 0xF]


ALL_STROBES = list(range(16))  # 0 and the masks with holes go through raw_write


async def fresh(dut) -> RegsTB:
    tb = RegsTB(dut)
    await tb.reset()
    return tb


@cocotb.test()
async def test_reset_values_and_info(dut):
    """After reset every RW register reads 0, CTRL 0, INFO {ACC_BITS, W_BITS, PAR_OUT, PAR_IN},
    unmapped addresses 0 with an OKAY response."""
    tb = await fresh(dut)
    await tb.check_model("after reset")
    assert await tb.read(CTRL) == 0
    want_info = (PARAMS["ACC_BITS"] << K.INFO_ACC_BITS_LSB | PARAMS["W_BITS"] << K.INFO_W_BITS_LSB
                 | PARAMS["PAR_OUT"] << K.INFO_PAR_OUT_LSB | PARAMS["PAR_IN"] << K.INFO_PAR_IN_LSB)
    assert await tb.read(INFO) == want_info
    for addr in UNMAPPED:
        assert await tb.read(addr) == 0, f"unmapped {addr:#x} does not read 0"
    tb.cov.save()


@cocotb.test()
async def test_rw_registers_and_strobes(dut):
    """Every RW register with random values under every byte-strobe mask 0..15; MODE keeps bit0
    only and only under strobe 0; the cfg ports follow."""
    tb = await fresh(dut)
    rng = random.Random(5)
    for addr in (H, W, CIN, COUT, MODE):
        for strobes in ALL_STROBES:
            await tb.write(addr, rng.getrandbits(32), strobes)
            tb.cov.hit("unit axil", f"strobes {strobes:#x}")
            await tb.check_model(f"{NAMES[addr]} strobes {strobes:#x}")
    tb.cov.save()


@cocotb.test()
async def test_read_only_and_unmapped_writes(dut):
    """Writes to CTRL (no start bit), STATUS, CYCLES, INFO and unmapped addresses are acknowledged
    and change nothing; reads of STATUS, CYCLES, INFO are unchanged by them."""
    tb = await fresh(dut)
    rng = random.Random(6)
    for addr in (H, W, CIN, COUT, MODE):
        await tb.write(addr, rng.getrandbits(32))
    dut.cycles.value = 0x1234_5678
    for addr in (CTRL, STATUS, CYCLES, INFO, *UNMAPPED):
        await tb.write(addr, rng.getrandbits(32) & ~1 if addr == CTRL else rng.getrandbits(32))
        await tb.check_model(f"write to {addr:#x}")
        assert await tb.read(CYCLES) == 0x1234_5678
    assert tb.pulses == 0, "a write without CTRL bit0 started a layer"
    tb.cov.save()


@cocotb.test()
async def test_start_pulse(dut):
    """CTRL bit0 under strobe 0 gives exactly one start pulse per write; bit0 without its strobe,
    or 0, gives none; back-to-back starts give one pulse each."""
    tb = await fresh(dut)
    for value, strobes, pulses in ((1, 0x1, 1), (1, 0xF, 1), (0xFFFF_FFFF, 0xF, 1), (0, 0xF, 0),
                                   (0xFFFF_FFFE, 0xF, 0), (0x0000_0101, 0x2, 0), (0xFFFF_FFFF, 0xE, 0),
                                   (0xFFFF_FFFF, 0x0, 0)):
        before = tb.pulses
        await tb.write(CTRL, value, strobes, raw=True)  # the whole word on wdata, bit0 included
        await ClockCycles(dut.clk, 3)
        assert tb.pulses - before == pulses, \
            f"CTRL {value:#x} strobes {strobes:#x}: {tb.pulses - before} start pulses, expected {pulses}"
    before = tb.pulses
    await cocotb.triggers.Combine(*[cocotb.start_soon(tb.write(CTRL, 1)) for _ in range(4)])
    await ClockCycles(dut.clk, 3)
    assert tb.pulses - before == 4, f"4 back-to-back starts gave {tb.pulses - before} pulses"
    tb.cov.hit("unit axil", "start pulse")
    tb.cov.save()


@cocotb.test()
async def test_status_and_cycles(dut):
    """STATUS = the status inputs at their contract bits (every combination), the rest 0; CYCLES =
    the input, read while it changes every cycle (a read during a run returns one of its values)."""
    tb = await fresh(dut)
    for combo in range(1 << len(STATUS_INPUTS)):
        want = 0
        for i, (name, bit) in enumerate(STATUS_INPUTS.items()):
            getattr(dut, name).value = combo >> i & 1
            want |= (combo >> i & 1) << bit
        got = await tb.read(STATUS)
        assert got == want, f"STATUS reads {got:#x}, expected {want:#x}"
    for bit in STATUS_INPUTS.values():
        tb.cov.hit("unit axil", f"STATUS bit {bit}")
    seen = []

    async def count():
        value = 1000
        while True:
            await FallingEdge(dut.clk)
            value += 1
            dut.cycles.value = value
            seen.append(value)
    task = cocotb.start_soon(count())
    for _ in range(8):
        got = await tb.read(CYCLES)
        assert got in seen[-8:], f"CYCLES read {got}, not a recent input value {seen[-8:]}"
    task.cancel()
    tb.cov.save()


@cocotb.test()
async def test_interleaved(dut):
    """Concurrent writes and reads on different registers (both channels busy each cycle):
    reads of an unwritten register keep their value, the written registers end at their last
    write, STATUS reads follow the inputs."""
    tb = await fresh(dut)
    rng = random.Random(7)
    await tb.write(W, 0xABCD_0123)
    values = [rng.getrandbits(32) for _ in range(12)]

    async def writes():
        for v in values:
            await tb.write(H, v)
            await tb.write(CIN, v ^ 0xFFFF)

    async def reads():
        for _ in range(24):
            assert await tb.read(W) == 0xABCD_0123, "W changed by writes to other registers"

    await cocotb.triggers.Combine(cocotb.start_soon(writes()), cocotb.start_soon(reads()))
    await tb.check_model("after interleaved traffic")
    assert tb.model[H] == values[-1]
    tb.cov.hit("unit axil", "interleaved read/write")
    tb.cov.save()
