#!/usr/bin/env bash
# Driver of `make hls`: scripts/vitis_hls.tcl for every kernel x weight format x target, stopping
# at the first failure, then a table of the csynth summaries (<out>/<project>_csynth.json).
# Runs the Tcl flow with `vitis_hls -f ... -tclargs ...` (Vitis HLS up to 2024.x), or with
# `vitis-run --mode hls --tcl ...` and the options in CONV_HLS_TCLARGS (2024.2 on, where
# vitis_hls is deprecated). Without either on PATH it prints one skip line and exits 0 (the flow
# is optional for users); under CI (CI set) the skip is a loud warning on stderr, and
# HLS_REQUIRE=1 turns it into a failure (exit 1).
#
# Environment (all optional):
#   HLS_TOOL     auto                auto | vitis_hls | vitis-run (auto: vitis_hls, else vitis-run)
#   HLS_TARGETS  z7035               space-separated: z7035 kv260
#   HLS_STEPS    csim,csynth         -steps of vitis_hls.tcl; add cosim,export to opt in
#   HLS_KERNELS  every product unit (spec/cores.hjson), e.g. "mult shift plut"
#   HLS_FORMATS  every weight format (spec/cores.hjson), e.g. "dense krp ikr"
#   HLS_DEFINES  ""                  -defines, e.g. "CONV_PAR_IN=8 CONV_PAR_OUT=8"
#   HLS_OUT      build/hls/vitis     projects, one log per project, the csynth JSON files
#   VECTORS      build/vectors       root of the golden vector sets (as in the Makefile)
#   PYTHON       python3             prints the table
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

tool=${HLS_TOOL:-auto}
case $tool in
    auto)
        if command -v vitis_hls >/dev/null 2>&1; then tool=vitis_hls
        elif command -v vitis-run >/dev/null 2>&1; then tool=vitis-run
        else tool=""
        fi ;;
    vitis_hls | vitis-run)
        command -v "$tool" >/dev/null 2>&1 || { echo "hls: error: HLS_TOOL=$tool is not on PATH" >&2; exit 2; } ;;
    *)
        echo "hls: error: HLS_TOOL must be auto, vitis_hls or vitis-run (got '$tool')" >&2; exit 2 ;;
esac
if [[ -z $tool ]]; then
    echo "hls: skipped: vitis_hls not on PATH (install Vitis HLS and source its settings64.sh)"
    if [[ ${HLS_REQUIRE:-0} == 1 ]]; then
        echo "hls: error: HLS_REQUIRE=1 but neither vitis_hls nor vitis-run is on PATH" >&2
        exit 1
    fi
    if [[ -n ${CI:-} ]]; then
        echo "hls: WARNING: the Vitis HLS flow did NOT run in this CI job (no vitis_hls or vitis-run);" \
             "scripts/vitis_hls.tcl was only tested against tests/hls/mock_vitis.tcl" >&2
    fi
    exit 0
fi

targets=${HLS_TARGETS:-z7035}
steps=${HLS_STEPS:-csim,csynth}
# default kernels and formats: every product unit and weight format of the core registry, read
# from its generated Tcl (scripts/cores.tcl, one "    <unit> {id ..." line per unit)
registry_tcl=$repo/scripts/cores.tcl
kernels=${HLS_KERNELS:-$(sed -n 's/^    \([a-z][a-z0-9]*\) {id .*/\1/p' "$registry_tcl" | xargs)}
formats=${HLS_FORMATS:-$(sed -n 's/^set CORE_FORMATS {\(.*\)}$/\1/p' "$registry_tcl" | xargs -n2 | cut -d' ' -f1 | xargs)}
defines=${HLS_DEFINES:-}
python=${PYTHON:-python3}

# Relative paths are taken from where make/the user runs us.
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
out=$(abspath "${HLS_OUT:-$repo/build/hls/vitis}")
vectors=$(abspath "${VECTORS:-$repo/build/vectors}")
mkdir -p "$out"
# vitis_hls writes vitis_hls.log and .Xil/ into its cwd: keep them out of the repo root.
cd "$out"

extra=()
if [[ -n $defines ]]; then extra=(-defines "$defines"); fi

# One run of the Tcl flow with the tool found above; "$@" are the script's options.
run_flow() {
    if [[ $tool == vitis_hls ]]; then
        vitis_hls -f "$repo/scripts/vitis_hls.tcl" -tclargs "$@"
    else
        # vitis-run has no -tclargs: the options travel as one Tcl list (no value has spaces
        # except -defines, which is braced).
        local list="" a
        for a in "$@"; do list+=" {$a}"; done
        CONV_HLS_TCLARGS=$list vitis-run --mode hls --tcl "$repo/scripts/vitis_hls.tcl"
    fi
}

jsons=()
for target in $targets; do
    for kernel in $kernels; do
        for format in $formats; do
            proj=${kernel}_${format}_${target}
            log=$out/$proj.log
            json=$out/${proj}_csynth.json
            rm -f "$json"   # the table shows this run's results only
            echo "hls: $proj ($steps), log $log"
            # ${extra[@]+...}: an empty array under set -u is an error before bash 4.4.
            if ! run_flow -kernel "$kernel" -format "$format" -target "$target" -steps "$steps" \
                    -vectors "$vectors" -out "$out" ${extra[@]+"${extra[@]}"} >"$log" 2>&1; then
                echo "hls: FAILED: $proj; last lines of $log:"
                tail -n 25 "$log"
                exit 1
            fi
            grep -E '^vitis_hls.tcl: (csynth |summary)' "$log" || true
            if [[ -f $json ]]; then jsons+=("$json"); fi
        done
    done
done

if [[ ${#jsons[@]} -eq 0 ]]; then
    echo "hls: done; no csynth summaries (HLS_STEPS=$steps)"
    exit 0
fi
echo "hls: csynth summary (estimates of Vitis HLS, before Vivado synthesis):"
"$python" - "${jsons[@]}" <<'EOF'
import json
import sys

cols = ["project", "clock_ns", "estimated_clock_ns", "latency_worst", "interval_max",
        "BRAM_18K", "DSP", "FF", "LUT"]
rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        data = json.load(f)
    rows.append(["-" if data.get(c) is None else str(data[c]) for c in cols])
widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
for r in [cols, ["-" * w for w in widths], *rows]:
    print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))
EOF
