#!/usr/bin/env bash
# Driver of `make hls`: scripts/vitis_hls.tcl for every kernel x weight format x target, stopping
# at the first failure, then a table of the csynth summaries (<out>/<project>_csynth.json).
# Without vitis_hls on PATH it prints one line and exits 0 (the flow is optional).
#
# Environment (all optional):
#   HLS_TARGETS  z7035               space-separated: z7035 kv260
#   HLS_STEPS    csim,csynth         -steps of vitis_hls.tcl; add cosim,export to opt in
#   HLS_KERNELS  "mult shift plut"
#   HLS_FORMATS  "dense krp ikr"
#   HLS_DEFINES  ""                  -defines, e.g. "CONV_PAR_IN=8 CONV_PAR_OUT=8"
#   HLS_OUT      build/hls/vitis     projects, one log per project, the csynth JSON files
#   VECTORS      build/vectors       root of the golden vector sets (as in the Makefile)
#   PYTHON       python3             prints the table
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! command -v vitis_hls >/dev/null 2>&1; then
    echo "hls: skipped: vitis_hls not on PATH (install Vitis HLS and source its settings64.sh)"
    exit 0
fi

targets=${HLS_TARGETS:-z7035}
steps=${HLS_STEPS:-csim,csynth}
kernels=${HLS_KERNELS:-mult shift plut}
formats=${HLS_FORMATS:-dense krp ikr}
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

jsons=()
for target in $targets; do
    for kernel in $kernels; do
        for format in $formats; do
            proj=${kernel}_${format}_${target}
            log=$out/$proj.log
            json=$out/${proj}_csynth.json
            rm -f "$json"   # the table shows this run's results only
            echo "hls: $proj ($steps), log $log"
            if ! vitis_hls -f "$repo/scripts/vitis_hls.tcl" -tclargs \
                    -kernel "$kernel" -format "$format" -target "$target" -steps "$steps" \
                    -vectors "$vectors" -out "$out" "${extra[@]}" >"$log" 2>&1; then
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
