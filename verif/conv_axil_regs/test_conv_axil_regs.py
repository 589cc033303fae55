"""pytest runner of the conv_axil_regs testbench (INFO fields from two parameter sets)."""

from __future__ import annotations

import pytest
from common.unit_bins import AXIL_CASES
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", AXIL_CASES, ids=lambda p: f"axil-p{p['PAR_IN']}x{p['PAR_OUT']}")
def test_conv_axil_regs(params):
    run_unit(f"axil-p{params['PAR_IN']}x{params['PAR_OUT']}", "conv_axil_regs", ["conv_axil_regs.v"],
             params, "conv_axil_regs.cocotb_conv_axil_regs")
