"""pytest runner of the conv_wgt_buffer testbench (with and without index beats)."""

from __future__ import annotations

import pytest
from common.unit_bins import WGT_BUFFER_CASES, wgt_buffer_name
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", WGT_BUFFER_CASES, ids=wgt_buffer_name)
def test_conv_wgt_buffer(params):
    run_unit(wgt_buffer_name(params), "conv_wgt_buffer", ["conv_wgt_buffer.v", "conv_sdp_ram.v"], params,
             "conv_wgt_buffer.cocotb_conv_wgt_buffer")
