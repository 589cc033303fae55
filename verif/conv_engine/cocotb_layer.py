"""Whole-layer cocotb run of conv_harness: Python starts the clock, resets and waits for `done`.

Everything per-cycle happens in the harness; the result (cycles, wall time) goes to the JSON file
named by CONV_LAYER_RESULT, the output beats to the harness's +out file.
"""

from __future__ import annotations

import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout

CLOCK_NS = 10


@cocotb.test()
async def test_layer(dut):
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 5)
    dut.rst.value = 0
    start_wall, start_ns = time.perf_counter(), get_sim_time("ns")
    timeout_cycles = int(os.environ.get("CONV_LAYER_TIMEOUT_CYCLES", "20000000"))
    await with_timeout(RisingEdge(dut.done), timeout_cycles * CLOCK_NS, "ns")
    wall = time.perf_counter() - start_wall
    sim_cycles = (get_sim_time("ns") - start_ns) / CLOCK_NS
    result = {"cycles": int(dut.cycles.value), "error": int(dut.error.value), "wall_s": wall,
              "sim_cycles": sim_cycles, "sim_cycles_per_s": sim_cycles / wall}
    with open(os.environ["CONV_LAYER_RESULT"], "w") as f:
        json.dump(result, f)
    assert not result["error"], f"harness error (misplaced tlast, STATUS error or timeout): {result}"
