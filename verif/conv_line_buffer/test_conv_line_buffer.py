"""pytest runner of the conv_line_buffer testbench."""

from __future__ import annotations

import pytest
from common.unit_bins import LINE_BUFFER_CASES, line_buffer_name
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", LINE_BUFFER_CASES, ids=line_buffer_name)
def test_conv_line_buffer(params):
    run_unit(line_buffer_name(params), "conv_line_buffer", ["conv_line_buffer.v", "conv_sdp_ram.v"], params,
             "conv_line_buffer.cocotb_conv_line_buffer")
