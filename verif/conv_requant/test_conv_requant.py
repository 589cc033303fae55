"""pytest runner of the conv_requant testbench, swept over accumulator and output widths."""

from __future__ import annotations

import pytest
from common.unit_bins import REQUANT_CASES, requant_name
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", REQUANT_CASES, ids=lambda p: f"acc{p['ACC_BITS']}-a{p['A_BITS']}")
def test_conv_requant(params):
    run_unit(requant_name(params), "conv_requant", ["conv_requant.v"], params,
             "conv_requant.cocotb_conv_requant")
