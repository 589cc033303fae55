# Top-level flow. `make all` sets everything up and runs the main job; `make test` runs the
# whole test suite (what CI runs). Every target uses the project's own virtual environment.

PYTHON_SYS ?= python3.11
# Packages install without byte-compiling (pip would compile all of torch, about a minute); Python
# then caches each module it imports the first time, so the environment must let it write them.
unexport PYTHONDONTWRITEBYTECODE
VENV       ?= .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
VECTORS    ?= build/vectors
JOBS       ?= 2
PYTEST     := $(PY) -m pytest
# SHARD=k/N runs the k-th of N groups of equal recorded duration (pytest-split, durations in
# .test_durations; `make durations` records them): `make test SHARD=1/3` on three machines.
SHARD      ?=
# Functional-coverage closure needs every test's bins: checked unless the run is one shard.
COVERAGE_CHECK := $(if $(SHARD),,--functional-coverage)
SHARD_ARGS := $(if $(SHARD),--splits $(lastword $(subst /, ,$(SHARD))) --group $(firstword $(subst /, ,$(SHARD))) --splitting-algorithm least_duration,)

.PHONY: all first-vectors first-report first-layer help setup contract registry durations vectors report sim sim-full test lint synth headline netlist-sim power bench bench-sim bench-formats vivado vivado-ip hls-csim hls clean distclean

# A newcomer's first result, in minutes: the vectors and the report of the three codes the first
# cores run (refitted, dense / KRP / IKR), then the whole conv8 through one core of each
# arithmetic (each in another weight format, bit-exact against the golden model) and one HLS
# kernel. Everything goes to build/first/ (its layer cache is shared: a later `make vectors`
# reuses the refits). The full export and report are `make vectors report`; the regression is
# `make test`.
FIRST       := build/first
# longest first: PLUT's build and run take about as long as the other two's builds and runs one
# after the other, so with two jobs those two follow each other beside it
FIRST_RUNS  := plut-ios4:ikr mult-int8:dense shift-pot4:krp
FIRST_CODES := --schemes int8 pot4 ios4 --prunings dense krp ikr
all: setup first-vectors first-layer first-report

first-vectors: $(FIRST)/vectors/index.json

# (the refitted sets only: the *-dense-norefit baselines are the full export's)
$(FIRST)/vectors/index.json: $(STAMP) $(wildcard pymodel/*.py)
	$(PY) -m pymodel export --out $(FIRST)/vectors $(FIRST_CODES) --no-baselines --no-tiles --no-stress

# (its cycles figure shows first-layer's runs when they are there)
first-report: first-vectors
	$(PY) -m pymodel report $(FIRST_CODES) --variants refit --json $(FIRST)/report.json
	$(PY) -m pymodel.report_html --report $(FIRST)/report.json --bench $(FIRST)/first_layer.json \
	    --out $(FIRST)/report

# (tried: running the HLS run and the report's table beside the RTL runs made make all slower,
# 519 s against 482 s: the three then share the two cores the RTL builds already use)
first-layer: first-vectors
	CONV_VECTOR_DIR=$(FIRST)/vectors $(PY) scripts/bench_formats.py --runs $(FIRST_RUNS) --jobs $(JOBS) \
	    --json $(FIRST)/first_layer.json
	$(PY) scripts/hls_csim.py --vectors $(FIRST)/vectors --kernel shift --format dense --modes 1 pot4-dense

help:
	@echo "all        setup, first-vectors, first-layer, first-report: a first result in minutes (build/first/)"
	@echo "first-vectors  vectors of the first cores' codes (int8, pot4, ios4 x dense, KRP, IKR; refitted)"
	@echo "first-report   the report of those layers: table + page build/first/report/index.html"
	@echo "first-layer  whole conv8 through one RTL core per arithmetic (bare Verilator) and one HLS kernel"
	@echo "setup      the project's virtual environment .venv with every dependency"
	@echo "contract   regenerate the contract's Verilog/Python/C++ constants and doc tables from spec/conv_engine.hjson"
	@echo "registry   regenerate scripts/cores.tcl and conv_engine.core from spec/cores.hjson (and rtl/)"
	@echo "vectors    golden vector sets in $(VECTORS) (python -m pymodel export)"
	@echo "report     accuracy / storage / op-count table of every scheme x pruning (build/report.json) + page build/report/index.html"
	@echo "lint       Verilog lint and ruff"
	@echo "sim        the RTL regression on the tile vectors (Verilator + cocotb)"
	@echo "sim-full   the whole conv8 layer through every RTL core x weight format"
	@echo "test       every test, as CI runs it (SHARD=k/N: the k-th of N equal-duration groups)"
	@echo "durations  re-record the per-test durations SHARD=k/N splits by (.test_durations)"
	@echo "synth      Yosys synthesis of the cores (SHARD=k/N: one of N equal-cost groups of runs)"
	@echo "headline   the cores at the Zynq-7035 / KV260 budgets beside the papers' claims (after synth)"
	@echo "netlist-sim  Yosys netlists of every core x format (p4x4) through the cocotb testbench: bit-exact?"
	@echo "power      toggle-activity power proxy of the netlists (relative to MULT int8 dense)"
	@echo "bench      time the warm export and the three accumulator arithmetics"
	@echo "bench-sim  RTL simulation speed, cocotb vs bare Verilator"
	@echo "bench-formats  whole conv8 per core x dense/KRP/IKR: cycles, efficiency, speedups"
	@echo "hls-csim   HLS C-simulation with g++: tiles, stress sets, whole layer"
	@echo "hls        Vitis HLS csim + csynth (skipped without vitis_hls)"
	@echo "vivado     Vivado synthesis (skipped without vivado)"
	@echo "vivado-ip  Vivado IP packaging + block design behind AXI DMAs (skipped without vivado)"
	@echo "clean      remove build outputs and caches; distclean: also .venv"

setup: $(STAMP)

# The hardware contract (spec/conv_engine.hjson) -> rtl/conv_contract.vh, pymodel/contract.py,
# hls/include/conv_contract.h and the generated tables in docs/ (tests/test_contract.py: not stale).
contract: $(STAMP)
	$(PY) scripts/gen_contract.py

# Torch is pinned through constraints.txt (an unpinned torch pulls GBs of CUDA wheels).
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON_SYS) >/dev/null || { echo "error: $(PYTHON_SYS) not found (Python 3.11 is required)"; exit 1; }
	$(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -c constraints.txt -e '.[sim,dev,hls]'
	@command -v yosys >/dev/null || echo "note: yosys not found; 'make synth' needs it (apt-get install yosys)"
	@touch $@

# Golden vectors for every scheme x pruning (whole layer) plus the small tiles the RTL tests use.
vectors: $(VECTORS)/index.json

$(VECTORS)/index.json: $(STAMP) $(wildcard pymodel/*.py)
	$(PY) -m pymodel export --out $(VECTORS)

# the table and build/report.json, then the page build/report/index.html + report.md with its figures
# (synth / bench-formats / headline figures when those targets have run, else a placeholder)
report: $(STAMP)
	$(PY) -m pymodel report --json build/report.json
	$(PY) -m pymodel.report_html --report build/report.json --out build/report

# The Tcl flows read the core registry through scripts/cores.tcl, FuseSoC the RTL file list through
# conv_engine.core (both generated; tests/test_registry.py and `make lint` fail when one is stale).
registry: $(STAMP)
	$(PY) -m pymodel.registry tcl
	$(PY) -m pymodel.registry core

lint: $(STAMP)
	$(PY) -m pymodel.registry tcl --check
	$(PY) -m pymodel.registry core --check
	PYTHON=$(PY) bash scripts/lint.sh
	$(PY) -m ruff check pymodel tests verif scripts

# The RTL regression: every core x scheme x parameter set x seed on tile vectors (< 20 min on 2 cores);
# fails on an empty functional-coverage bin. COVERAGE=1: Verilator line + toggle coverage as well.
sim: $(STAMP) vectors
	$(PYTEST) verif -n $(JOBS) -m "not slow" $(COVERAGE_CHECK) $(SHARD_ARGS)
	@if [ "$(COVERAGE)" = "1" ]; then $(PY) scripts/coverage_report.py; fi

# The whole conv8 layer through every arithmetic x weight format (both output modes), printing cycles and efficiency.
sim-full: $(STAMP) vectors
	CONV_LAYER_MODES=all $(PYTEST) verif -m slow -rA -s

test: $(STAMP) vectors lint
	$(PYTEST) tests verif -n $(JOBS) $(COVERAGE_CHECK) $(SHARD_ARGS)

# Re-record the per-test durations SHARD splits by, with the workers a shard runs with (-n
# $(JOBS)): each figure is one test's time as it runs beside the others, builds included.
durations: $(STAMP) vectors
	$(PYTEST) tests verif -n $(JOBS) --store-durations --durations-path .test_durations

# SHARD=k/N: the k-th of N groups of runs of about equal cost (each run an independent yosys job)
# into build/synth-shard-k; `python scripts/synth_yosys.py --merge <their dirs>` joins them.
synth: $(STAMP)
	$(PY) scripts/synth_yosys.py $(if $(SHARD),--shard $(SHARD) --out build/synth-shard-$(firstword $(subst /, ,$(SHARD))),)

# reads build/synth/synth.json (make synth); KRP/IKR rows need a synth run with --formats
headline: $(STAMP)
	$(PY) scripts/headline.py

# Post-synthesis simulation: each core's Yosys xc7 netlist (p4x4) + cell models under Verilator,
# the regression's test_clean on a tile set, both modes (build/netlist_sim/netlist_sim.json).
netlist-sim: $(STAMP) vectors
	$(PY) scripts/netlist_sim.py

# Toggle counts of the same netlists on a real tile (MODE=1), weighted per cell type (docs/power.md).
power: $(STAMP) vectors
	$(PY) scripts/power_proxy.py

bench: $(STAMP) vectors
	$(PY) -m pymodel bench

bench-sim: $(STAMP) vectors
	$(PY) scripts/bench_sim.py

# The whole conv8 per arithmetic x weight format (bare Verilator): cycles, efficiency, KRP/IKR speedups.
bench-formats: $(STAMP) vectors
	$(PY) scripts/bench_formats.py

# HLS C-simulation with g++ (no Xilinx tools): every kernel x format x unroll on the tile and
# stress sets, bad-input checks, then the whole conv8 per kernel with a table of figures.
hls-csim: $(STAMP) vectors
	$(PYTEST) tests/hls/test_hls_csim.py -n $(JOBS) -m "not slow"
	$(PY) scripts/hls_csim.py --layer

# Vitis HLS csim + csynth of every kernel x format (knobs: scripts/hls_vitis.sh); skips without vitis_hls.
hls:
	VECTORS=$(VECTORS) bash scripts/hls_vitis.sh

# Out-of-context Vivado synthesis of one RTL core; VIVADO_ARGS are the script's -tclargs
# (e.g. VIVADO_ARGS="plut -target kv260 -impl"; options: scripts/vivado_synth.tcl).
VIVADO_ARGS ?= shift
vivado:
ifeq ($(shell command -v vivado 2>/dev/null),)
	@echo "vivado: skipped: vivado not on PATH (install Xilinx Vivado to run scripts/vivado_synth.tcl)"
else
	vivado -mode batch -source scripts/vivado_synth.tcl -tclargs $(VIVADO_ARGS)
endif

# IP packaging of one core (+ -bd: the block design); VIVADO_IP_ARGS are scripts/vivado_ip.tcl's -tclargs.
VIVADO_IP_ARGS ?= shift -generic W_BITS=4 -bd
vivado-ip:
ifeq ($(shell command -v vivado 2>/dev/null),)
	@echo "vivado-ip: skipped: vivado not on PATH (install Xilinx Vivado to run scripts/vivado_ip.tcl)"
else
	vivado -mode batch -source scripts/vivado_ip.tcl -tclargs $(VIVADO_IP_ARGS)
endif

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
