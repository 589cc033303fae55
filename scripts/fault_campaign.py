"""Seeded-fault campaign: single-line faults in scratch copies of rtl/, each run against the tests
that should catch it (CONV_RTL_DIR points the builds at the copy; runner.py gives every copy its
own build directories). Not part of CI: it builds one model per fault and selection.

    .venv/bin/python scripts/fault_campaign.py            # every fault
    .venv/bin/python scripts/fault_campaign.py F01 F07    # some
    .venv/bin/python scripts/fault_campaign.py --list

Prints one row per fault (id, file, what, the selection, caught / SURVIVED, the first failing
check) and writes build/faults/report.json. A fault whose model does not build counts as
"build error", not as caught.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "build" / "faults"

ENGINE = "verif/conv_engine/test_conv_engine.py"
PROD = "verif/conv_prod/test_conv_prod.py"
REQUANT = "verif/conv_requant/test_conv_requant.py"
AXIL = "verif/conv_axil_regs/test_conv_axil_regs.py"
FIFO = "verif/conv_out_fifo/test_conv_out_fifo.py"


@dataclass(frozen=True)
class Fault:
    id: str
    file: str
    old: str
    new: str
    what: str
    tests: str  # pytest file
    select: str  # pytest -k expression


FAULTS = (
    # ---- product units
    Fault("F01", "conv_prod_mult.v", "a_signed = {1'b0, act[(o*PAR_IN+i)*A_BITS +: A_BITS]};",
          "a_signed = {act[(o*PAR_IN+i)*A_BITS + A_BITS - 1], act[(o*PAR_IN+i)*A_BITS +: A_BITS]};",
          "MULT: activation read as signed", PROD, "mult-int8-dense"),
    Fault("F02", "conv_lane_select.v",
          "tree[e*A_BITS +: A_BITS] = cand[(((e < NCAND) ? e : e - PAD)*PAR_IN+i)*A_BITS +: A_BITS];",
          "tree[e*A_BITS +: A_BITS] = cand[(((e < NCAND - 1) ? e : 0)*PAR_IN+i)*A_BITS +: A_BITS];",
          "lane select: the last candidate is never chosen", PROD, "mult-int4-krp"),
    Fault("F03", "conv_prod_shift.v", "assign negative[i] = s1 && (m1 != 4'd0);", "assign negative[i] = s1;",
          "SHIFT: a negative-zero code (s=1, m=0) counted as a negated term", PROD, "shift-pot4e30-dense"),
    Fault("F04", "conv_prod_shift.v", "wire       s2 = code[EXP2_BITS];",
          "wire       s2 = code[EXP2_BITS-1];",
          "SHIFT apot: sign of term 2 read from the wrong bit", PROD, "shift-apot6e22-krp"),
    Fault("F05", "conv_prod_plut.v", "3'd6:    begin odd = 2'd1; tz = 2'd1; end",
          "3'd6:    begin odd = 2'd1; tz = 2'd2; end",
          "PLUT: mantissa 6 (claimed, unused by the format) decoded as 12", PROD, "plut-ios4-l8-dense"),
    Fault("F06", "conv_prod_plut.v",
          "if ({28'd0, levels[e*8 +: 4]} > LEVEL_EXP_MAX) level_exp_too_big = 1'b1;",
          "if ({28'd0, levels[e*8 +: 4]} > LEVEL_EXP_MAX + 1) level_exp_too_big = 1'b1;",
          "PLUT: exponent LEVEL_EXP_MAX+1 not flagged", PROD, "plut-ios4-l8-krp"),
    Fault("F07", "conv_prod_plut.v", "assign lvl_neg[j]                 = levels[j*8 + 7];",
          "assign lvl_neg[j]                 = levels[j*8 + 6];",
          "PLUT: level sign read from a mantissa bit", PROD, "plut-ios4-l4-ikr2"),
    # ---- output stage
    Fault("F08", "conv_requant.v", "shifted  = relu_x2 >> shift1_reg;",
          "shifted  = relu_x2 >> shift1_reg[4:0];",
          "requant: shift truncated to 5 bits (docs: the full 8-bit value)", REQUANT, "acc32"),
    # (an increment at shift 0 too, ((2r + 1) >> 1 == r), is an equivalent mutant: not listed)
    Fault("F09", "conv_requant.v", "(rounded > OUT_MAX) ? OUT_MAX[A_BITS-1:0]",
          "(rounded > (OUT_MAX << 1)) ? OUT_MAX[A_BITS-1:0]", "requant: saturation threshold doubled",
          REQUANT, "acc19"),
    Fault("F10", "conv_requant.v", "relu_x2  = sum1_reg[SUM_W-1] ?", "relu_x2  = sum1_reg[SUM_W-2] ?",
          "requant: ReLU tests the wrong sign bit", REQUANT, "acc32"),
    Fault("F11", "conv_requant.v", "{{(SUM_W-32){lane_bias[31]}}, lane_bias}",
          "{{(SUM_W-32){1'b0}}, lane_bias}",
          "requant: bias zero-extended", REQUANT, "acc19"),
    # ---- register block
    Fault("F12", "conv_axil_regs.v", "REG_MODE: mode_next  = s_axil_wstrb[0] ? s_axil_wdata[0] : mode_reg;",
          "REG_MODE: mode_next  = s_axil_wdata[0];", "regs: MODE ignores the byte strobe", AXIL, "axil"),
    Fault("F13", "conv_axil_regs.v", "apply_strobes[b*8 +: 8] = new_value[b*8 +: 8];",
          "apply_strobes[b*8 +: 8] = new_value[0 +: 8];", "regs: every strobed byte takes byte 0",
          AXIL, "axil"),
    Fault("F14", "conv_axil_regs.v", "REG_CTRL: start_next = s_axil_wstrb[0] && s_axil_wdata[0];",
          "REG_CTRL: start_next = s_axil_wdata[0];", "regs: start without its byte strobe", AXIL, "axil"),
    Fault("F15", "conv_axil_regs.v", "status_index_err, status_level_err,",
          "status_level_err, status_index_err,",
          "regs: STATUS bits 5 and 6 swapped", ENGINE, "plut-ios4-krp-p4x4 and control"),
    # ---- buffers, stores
    Fault("F16", "conv_out_fifo.v", "assign m_valid = (wr_ptr_reg != rd_ptr_reg);",
          "assign m_valid = (wr_ptr_reg[PTR_W-1:0] != rd_ptr_reg[PTR_W-1:0]);",
          "out FIFO: a full FIFO looks empty", ENGINE, "mult-int8-dense-p4x4 and stalls"),
    Fault("F17", "conv_line_buffer.v", "if (s_axis_act_tlast != map_end) begin",
          "if (s_axis_act_tlast && !map_end) begin", "line buffer: a missing act tlast not flagged",
          ENGINE, "mult-int8-dense-p4x4 and control"),
    Fault("F18", "conv_wgt_buffer.v", "if (s_axis_wgt_tlast != last_beat) begin",
          "if (s_axis_wgt_tlast && !last_beat) begin", "weight buffer: a missing wgt tlast not flagged",
          ENGINE, "mult-int8-dense-p4x4 and control"),
    Fault("F19", "conv_adder_tree.v", "node_reg <= {left[W_IN-1], left};", "node_reg <= {1'b0, left};",
          "adder tree: an odd node passed up zero-extended", ENGINE, "shift-pot4-dense-p4x4 and clean"),
    Fault("F25", "conv_out_fifo.v", "assign count   = wr_ptr_reg - rd_ptr_reg;",
          "assign count   = {1'b0, wr_ptr_reg[PTR_W-1:0] - rd_ptr_reg[PTR_W-1:0]};",
          "out FIFO: count reads 0 when full", FIFO, "d8"),
    Fault("F26", "conv_out_fifo.v", "assign m_valid = (wr_ptr_reg != rd_ptr_reg);",
          "assign m_valid = (wr_ptr_reg[PTR_W-1:0] != rd_ptr_reg[PTR_W-1:0]);",
          "out FIFO: a full FIFO looks empty (as F16, against the unit)", FIFO, "d2"),
    # ---- engine control
    Fault("F20", "conv_engine.v", "wire cfg_ok = (host_h != 32'd0) && (host_h <= H_MAX_32) &&",
          "wire cfg_ok = (host_h <= H_MAX_32) &&", "engine: H=0 accepted", ENGINE,
          "mult-int8-dense-p4x4 and control"),
    Fault("F21", "conv_engine.v", "(host_cout <= COUT_MAX_32) && (host_cout[LOG2_PAR_OUT-1:0] == 0);",
          "(host_cout <= COUT_MAX_32);", "engine: Cout not a multiple of PAR_OUT accepted", ENGINE,
          "mult-int8-dense-p4x4 and control"),
    Fault("F22", "conv_engine.v", "end else if (s2_valid_reg && prod_err) begin",
          "end else if (1'b0 && prod_err) begin", "engine: PLUT level error never raised", ENGINE,
          "plut-ios4-krp-p4x4 and control"),
    Fault("F23", "conv_lane_index.v", "bad[l] = (idx[l*2 +: 2] == 2'd3);", "bad[l] = 1'b0;",
          "lane index: KRP row 3 not flagged", ENGINE, "mult-int8-krp-p4x4 and control"),
    Fault("F27", "conv_lane_index.v",
          "malformed[p] = !kept_before[NPOS*CNT_W] && !kept_before[NPOS*CNT_W + IKR_K];",
          "malformed[p] = 1'b0;",
          "lane index: a malformed IKR library mask not flagged", ENGINE, "mult-int4-ikr-p4x4 and control"),
    Fault("F28", "conv_prod_shift.v", "assign negative[i] = s1 && (m1 != 4'd0);", "assign negative[i] = s1;",
          "F03 against the engine: only the stress sets hold negative-zero pot codes", ENGINE,
          "shift-pot4-dense-p4x4 and clean"),
    Fault("F24", "conv_engine.v", "            if (running_reg) begin\n                cycles_reg",
          "            if (running_reg || done_reg) begin\n                cycles_reg",
          "engine: CYCLES keeps counting after done", ENGINE, "mult-int8-dense-p4x4 and clean"),
)


def apply(fault: Fault, rtl_copy: Path) -> None:
    path = rtl_copy / fault.file
    text = path.read_text()
    if text.count(fault.old) != 1:
        raise SystemExit(f"error: {fault.id}: the line to change occurs {text.count(fault.old)} times in "
                         f"rtl/{fault.file} (the RTL changed; update scripts/fault_campaign.py)")
    path.write_text(text.replace(fault.old, fault.new))


def first_failure(output: str) -> str:
    for pattern in (r"AssertionError: (.+)", r"E\s+(AssertionError.+)"):
        m = re.search(pattern, output)
        if m:
            return m.group(1).strip()[:160]
    return ""


def run(fault: Fault) -> dict:
    rtl_copy = WORK / fault.id / "rtl"
    if rtl_copy.exists():
        shutil.rmtree(rtl_copy)
    shutil.copytree(REPO / "rtl", rtl_copy)
    apply(fault, rtl_copy)
    env = dict(os.environ, CONV_RTL_DIR=str(rtl_copy))
    cmd = [sys.executable, "-m", "pytest", fault.tests, "-p", "no:xdist", "-q", "-x", "-k", fault.select]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    failed = re.findall(r"FAILED (\S+)", out)
    if "Command failed with return code" in out:
        verdict = "build error"
    elif proc.returncode == 1 and failed:
        verdict = "caught"
    elif proc.returncode == 0 and "passed" in out:
        verdict = "SURVIVED"
    else:
        verdict = f"error (pytest exit {proc.returncode})"
    (WORK / fault.id / "pytest.log").write_text(out)
    # the cocotb test that failed, from the run's sim log
    names = sorted(set(re.findall(r"cocotb tests failed: \[([^\]]*)\]", out)))
    return {"id": fault.id, "file": fault.file, "what": fault.what, "tests": fault.tests,
            "select": fault.select, "verdict": verdict, "failed": failed[:1], "cocotb": names[:1],
            "first_failure": first_failure(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="fault ids (default: all)")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    args = parser.parse_args(argv)
    known = {f.id: f for f in FAULTS}
    unknown = [i for i in args.ids if i not in known]
    if unknown:
        print(f"error: unknown fault ids {unknown} (see --list)", file=sys.stderr)
        return 2
    chosen = [known[i] for i in args.ids] if args.ids else list(FAULTS)
    if args.list:
        for f in chosen:
            print(f"{f.id}  rtl/{f.file:20s} {f.what}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    report_path = WORK / "report.json"
    for fault in chosen:
        row = run(fault)
        # re-read before writing: several campaigns may share the report
        results = json.loads(report_path.read_text()) if report_path.exists() else {}
        results[fault.id] = row
        report_path.write_text(json.dumps(results, indent=1, sort_keys=True))
        print(f"{row['id']}  rtl/{row['file']:20s} {row['verdict']:10s} {row['what']}  "
              f"[{row['select']}] {'; '.join(row['cocotb'])} {row['first_failure'][:100]}", flush=True)
    results = json.loads(report_path.read_text()) if report_path.exists() else {}
    survived = [r for r in results.values() if r["verdict"] != "caught"]
    print(f"{len(results) - len(survived)} of {len(results)} faults caught (build/faults/report.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
