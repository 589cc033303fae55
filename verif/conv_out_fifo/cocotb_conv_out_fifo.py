"""cocotb tests of conv_out_fifo: fill to DEPTH, wrap many times, back-pressure, release in push
order, count = pushed - popped at every cycle (the engine's contract: it never pushes into a
full FIFO, so the testbench does not either)."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge
from common.coverage import collector

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
PARAMS = CONFIG.get("parameters", {})
NAME = CONFIG.get("name", "fifo")


async def reset(dut):
    Clock(dut.clk, 10, unit="ns").start()
    dut.push.value = 0
    dut.m_ready.value = 0
    dut.push_data.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run(dut, model: list[int], cycles: int, push_p: float, pop_p: float, seed: int) -> dict:
    """Random pushes (never when full) and pops; checks order, count, m_valid every cycle against
    `model` (the entries in the FIFO, oldest first; updated)."""
    depth, width = PARAMS["DEPTH"], PARAMS["DATA_W"]
    rng = random.Random(seed)
    seen = {"full": 0, "empty with ready": 0, "wraps": 0, "push and pop": 0}
    pushed = 0
    for cycle in range(cycles):
        await FallingEdge(dut.clk)
        # outputs of the state after the last edge
        count, valid = int(dut.count.value), int(dut.m_valid.value)
        assert count == len(model), f"cycle {cycle}: count {count}, model holds {len(model)}"
        assert valid == bool(model), f"cycle {cycle}: m_valid {valid} with {len(model)} entries"
        if model:
            assert dut.m_data.value.to_unsigned() == model[0], f"cycle {cycle}: head is not the oldest entry"
        push = len(model) < depth and rng.random() < push_p
        ready = rng.random() < pop_p
        data = rng.getrandbits(width)
        dut.push.value, dut.push_data.value, dut.m_ready.value = int(push), data, int(ready)
        seen["full"] += len(model) == depth
        seen["empty with ready"] += (not model) and ready
        seen["push and pop"] += push and ready and bool(model)
        if ready and model:
            model.pop(0)
        if push:
            model.append(data)
            pushed += 1
    seen["wraps"] = pushed // depth
    return seen


@cocotb.test()
async def test_fill_wrap_backpressure(dut):
    """Phases: fill under full back-pressure, drain, then random traffic wrapping the pointers many
    times, with simultaneous push and pop, pops of an empty FIFO and a full FIFO held."""
    await reset(dut)
    cov = collector()
    depth = PARAMS["DEPTH"]
    totals, model = {}, []
    for seed, (cycles, push_p, pop_p) in enumerate(((3 * depth, 1.0, 0.0), (3 * depth, 0.0, 1.0),
                                                    (400, 0.6, 0.5), (400, 0.9, 0.2), (400, 0.3, 0.9))):
        seen = await run(dut, model, cycles, push_p, pop_p, seed)
        for key, value in seen.items():
            totals[key] = totals.get(key, 0) + value
    assert totals["wraps"] >= 8, f"the pointers wrapped only {totals['wraps']} times"
    for key, value in totals.items():
        assert value, f"the traffic never reached '{key}'"
        cov.hit("unit out fifo", f"{NAME} {key}")
    cov.save()
