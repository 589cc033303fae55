#!/usr/bin/env python3
"""Activity-based dynamic power proxy of the synthesized cores (method and limits: docs/power.md).

For each core x weight format (p4x4): the Yosys xc7 netlist of scripts/netlist_sim.py, built with
Verilator toggle coverage, runs one real-data tile vector set through the regression's cocotb
test_clean in MODE=1 (requantized outputs; checked bit-exact as always). Every net of the netlist
(one bit of a wire) gets its toggle count from coverage.dat and is charged to the cell that drives
it (from Yosys's JSON netlist): energy = sum over nets of toggles x the driver type's weight
(WEIGHTS), plus DSP48E1 internal activity (toggles on its A/B/C/D inputs x DSP_INPUT_WEIGHT), plus
a clock term: cycles x the clock load of every clocked cell (CLOCK_WEIGHTS). I/O buffers and the
clock net itself are left out (I/O is not the core's; the clock is in the clock term).

Printed per core x format: cycles, toggles per output, energy per output pixel (per conv of the
tile) and energy per cycle (dynamic power at one clock), both relative to MULT int8 dense = 1.0, and
the same with every weight 1 and no clock term (raw toggles: how much of a ranking the weights make).
JSON to build/netlist_sim/power.json.

    python scripts/power_proxy.py                               # make power: every core x format
    python scripts/power_proxy.py --cores mult_int8,shift_pot4 --formats dense
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import netlist_sim as ns  # noqa: E402
import synth_yosys as sy  # noqa: E402

REFERENCE = ("mult_int8", "dense")
# Relative energy per toggle of a net, by the type of the cell driving it (a LUT output with its
# share of general routing = 1). Assumed figures, documented with their reasoning in docs/power.md.
WEIGHTS = {
    "LUT": 1.0,      # LUT1..LUT6, INV: output into general routing
    "MUXF": 0.5,     # MUXF7/MUXF8: dedicated slice mux, short local wire
    "CARRY4": 0.5,   # carry chain outputs (O, CO): CO stays in the dedicated chain
    "FF": 1.0,       # FD*: Q into general routing
    "SRL": 1.0,      # SRL16E / SRLC32E output
    "LUTRAM": 1.0,   # RAM32M / RAM64M / RAM*X1D read data
    "BRAM": 1.5,     # RAMB18E1 / RAMB36E1 read data (longer output wires)
    "DSP": 1.0,      # DSP48E1 P / cascade outputs
    "other": 1.0,    # any other cell type (none in the p4x4 netlists; activity lists them)
}
DSP_INPUT_WEIGHT = 2.0   # per toggle on a DSP48E1 A/B/C/D input bit: the multiplier array behind it
# Clock load per clocked cell per cycle (clock pin + its share of the clock tree), same units.
CLOCK_WEIGHTS = {"FF": 0.1, "SRL": 0.2, "LUTRAM": 0.2, "BRAM": 2.0, "DSP": 1.0}
EXCLUDED = {"IBUF", "OBUF", "BUFG", "IOBUF", "OBUFT", "GND", "VCC"}  # I/O and the clock buffer


def kind_of(cell_type: str) -> str | None:
    """The weight class of a cell type; None for excluded cells."""
    if cell_type in EXCLUDED:
        return None
    for pattern, kind in ((r"LUT[1-6]|INV", "LUT"), (r"MUXF[78]", "MUXF"), (r"CARRY4", "CARRY4"),
                          (r"FD[A-Z]*", "FF"), (r"SRL16E|SRLC32E", "SRL"),
                          (r"RAM(32M|64M|32X1D|64X1D|128X1D|32X1S|64X1S|128X1S|256X1S)", "LUTRAM"),
                          (r"RAMB(18|36)E1", "BRAM"), (r"DSP48E1", "DSP")):
        if re.fullmatch(pattern, cell_type):
            return kind
    return "other"  # a type without a class of its own: weight 1, listed in the record


def read_toggles(coverage_dat: Path, top: str) -> dict[tuple[str, int | None], int]:
    """(wire, bit) -> toggles (0->1 plus 1->0) of the top module's nets in a Verilator coverage.dat."""
    counts: dict[tuple[str, int | None], int] = defaultdict(int)
    for line in coverage_dat.read_text(errors="replace").splitlines():
        m = re.match(r"^C '(.*)' (\d+)$", line)
        if not m:
            continue
        fields = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
        if fields.get("t") != "toggle" or fields.get("h") != top:
            continue
        o = re.fullmatch(r"(.*?)(?:\[(\d+)\])?:[01]->[01]", fields.get("o", ""))
        if not o:
            continue
        # Verilator spells an escaped identifier's other characters __0XX (hex): "." is __02e
        name = re.sub(r"__0([0-9a-f]{2})", lambda h: chr(int(h.group(1), 16)), o.group(1))
        name = name.lstrip("\\").rstrip()
        counts[(name, None if o.group(2) is None else int(o.group(2)))] += int(m.group(2))
    return counts


def net_bits(netnames: dict, name: str, bit: int | None):
    """The JSON bit id of wire `name`, Verilog index `bit` (None: a one-bit wire); None if constant."""
    info = netnames.get(name)
    if info is None:
        return None
    bits = info["bits"]
    if bit is None:
        pos = 0
    else:
        offset = int(info.get("offset", 0))
        pos = (len(bits) - 1 - (bit - offset)) if info.get("upto") else bit - offset
    if not 0 <= pos < len(bits):
        return None
    b = bits[pos]
    return b if isinstance(b, int) else None


def activity(netlist: dict, toggles: dict, top: str) -> dict:
    """Toggles per driver class, DSP input toggles, clocked cells per class, unmatched nets."""
    module = netlist["modules"][top]
    driver: dict[int, str] = {}
    dsp_inputs: set[int] = set()
    clocked: dict[str, int] = defaultdict(int)
    cells: dict[str, int] = defaultdict(int)
    for cell in module["cells"].values():
        kind = kind_of(cell["type"])
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            ints = [b for b in bits if isinstance(b, int)]
            if dirs.get(port) == "output":
                for b in ints:
                    driver[b] = kind or "excluded"
            elif kind == "DSP" and port in ("A", "B", "C", "D"):
                dsp_inputs.update(ints)
        if kind:
            cells[kind] += 1
            if kind in CLOCK_WEIGHTS:
                clocked[kind] += 1
    per_bit: dict[int, int] = {}
    constant = 0
    others = sorted({c["type"] for c in module["cells"].values() if kind_of(c["type"]) == "other"})
    for (name, bit), count in toggles.items():
        b = net_bits(module["netnames"], name, bit)
        if b is None:  # a constant bit (or a name the JSON netlist lacks): no driver to charge
            constant += count
            continue
        per_bit[b] = max(per_bit.get(b, 0), count)   # aliases of one net: count it once
    by_kind: dict[str, int] = defaultdict(int)
    for b, count in per_bit.items():
        by_kind[driver.get(b, "input port")] += count
    return {"toggles": dict(by_kind), "dsp_input_toggles": sum(per_bit.get(b, 0) for b in dsp_inputs),
            "clocked_cells": dict(clocked), "cells": dict(cells), "nets": len(per_bit),
            "uncharged_toggles": constant, "other_cell_types": others}


def sim_cycles(run_dir: Path) -> int:
    """Clock cycles of the run (simulated time of its tests / the testbench clock)."""
    from conv_engine.tb import CLOCK_NS
    root = ET.parse(run_dir / "results.xml").getroot()
    ns_total = sum(float(p.get("value")) for p in root.iter("property")
                   if p.get("name") == "sim_time_duration")
    return round(ns_total / CLOCK_NS)


def core_cycles(run_dir: Path) -> int | None:
    """The engine's own CYCLES register of the layer (the test logs it)."""
    m = re.search(r"CYCLES (\d+)", (run_dir / "sim.log").read_text(errors="replace"))
    return int(m.group(1)) if m else None


def energy(act: dict, cycles: int, weights=WEIGHTS, clock=CLOCK_WEIGHTS, dsp_in=DSP_INPUT_WEIGHT) -> float:
    data = sum(weights.get(k, 0.0) * n for k, n in act["toggles"].items())
    return data + dsp_in * act["dsp_input_toggles"] + cycles * sum(clock.get(k, 0.0) * n
                                                                   for k, n in act["clocked_cells"].items())


def main(argv: list[str] | None = None) -> int:
    prog = "power_proxy"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ns.add_matrix_options(ap)
    args = ap.parse_args(argv)
    try:
        runs = ns.matrix(args, prog)
    except ns.UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    why = ns.tools_missing()
    if why:
        print(f"{prog}: {why}", file=sys.stderr)
        return 1
    out = args.out.resolve()
    from common.vector_sets import dims, load_set

    def add_power(r: dict) -> None:
        if "error" in r or not r["bit_exact"]:
            return
        try:
            run_dir = Path(r["toggle_run_dir"])
            netlist = json.loads((out / r["run"] / "netlist.json").read_text())
            act = activity(netlist, read_toggles(run_dir / "coverage.dat", sy.TOP), sy.TOP)
        except (OSError, ValueError, KeyError) as exc:
            r["power_error"] = str(exc)
            return
        cin, cout, h, w = dims(load_set(r["tile_sets"][0]))
        cycles = sim_cycles(run_dir)
        e = energy(act, cycles)
        raw = sum(n for k, n in act["toggles"].items() if k in WEIGHTS or k == "other")
        r |= {"activity": act, "cycles": cycles, "layer_cycles": core_cycles(run_dir),
              "outputs": cout * h * w, "macs": cin * cout * h * w * 9,
              "energy": e, "energy_per_output": e / (cout * h * w), "power": e / cycles,
              "raw_toggles_per_output": raw / (cout * h * w), "raw_toggles_per_cycle": raw / cycles}

    t_start = time.time()
    results = ns.run_matrix(runs, out, toggle=True, on_result=add_power)
    ref = next((r for r in results if (r["core"], r["format"]) == REFERENCE and "energy" in r), None)
    for r in results:
        if ref and "energy" in r:
            r["relative_energy_per_conv"] = r["energy_per_output"] / ref["energy_per_output"]
            r["relative_power"] = r["power"] / ref["power"]
            r["relative_raw_toggles_per_conv"] = r["raw_toggles_per_output"] / ref["raw_toggles_per_output"]
            r["relative_raw_toggles_per_cycle"] = r["raw_toggles_per_cycle"] / ref["raw_toggles_per_cycle"]
    wall = round(time.time() - t_start, 1)
    (out / "power.json").write_text(json.dumps(
        {"method": "docs/power.md", "reference": "-".join(REFERENCE), "weights": WEIGHTS,
         "dsp_input_weight": DSP_INPUT_WEIGHT, "clock_weights": CLOCK_WEIGHTS, "excluded": sorted(EXCLUDED),
         "wall_seconds": wall, "runs": results}, indent=2))
    print(f"\nRelative dynamic power proxy (MODE=1, one tile; reference {'-'.join(REFERENCE)} = 1.00; "
          "raw: unweighted toggles, no clock)")
    hdr = (f"{'core':16s} {'format':6s} {'tile':24s} {'cycles':>7s} {'energy/conv':>11s} {'power':>6s} "
           f"{'raw/conv':>8s} {'raw pwr':>7s} {'clock%':>6s} {'DSP%':>5s} {'BRAM%':>5s}")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        if "relative_power" not in r:
            print(f"{r['core']:16s} {r['format']:6s} (no figure: {r.get('error') or r.get('failure')})")
            continue
        act = r["activity"]
        clock = r["cycles"] * sum(CLOCK_WEIGHTS.get(k, 0) * n for k, n in act["clocked_cells"].items())
        dsp = WEIGHTS["DSP"] * act["toggles"].get("DSP", 0) + DSP_INPUT_WEIGHT * act["dsp_input_toggles"]
        bram = WEIGHTS["BRAM"] * act["toggles"].get("BRAM", 0) + \
            r["cycles"] * CLOCK_WEIGHTS["BRAM"] * act["clocked_cells"].get("BRAM", 0)
        print(f"{r['core']:16s} {r['format']:6s} {r['tile_sets'][0]:24s} {r['cycles']:7d} "
              f"{r['relative_energy_per_conv']:11.2f} {r['relative_power']:6.2f} "
              f"{r['relative_raw_toggles_per_conv']:8.2f} {r['relative_raw_toggles_per_cycle']:7.2f} "
              f"{100 * clock / r['energy']:6.1f} {100 * dsp / r['energy']:5.1f} "
              f"{100 * bram / r['energy']:5.1f}")
    print(f"\nwrote {out / 'power.json'} (wall {wall:.0f}s)")
    return 0 if all("relative_power" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
