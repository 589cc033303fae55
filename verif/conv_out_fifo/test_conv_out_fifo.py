"""pytest runner of the conv_out_fifo testbench (two depths)."""

from __future__ import annotations

import pytest
from common.unit_bins import FIFO_CASES, fifo_name
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", FIFO_CASES, ids=fifo_name)
def test_conv_out_fifo(params):
    run_unit(fifo_name(params), "conv_out_fifo", ["conv_out_fifo.v"], params,
             "conv_out_fifo.cocotb_conv_out_fifo")
