"""pytest runner of the conv_lane_index testbench (KRP, and IKR with a library size that is not a
power of two, so pattern ids >= IKR_P exist)."""

from __future__ import annotations

import pytest
from common.unit_bins import LANE_INDEX_CASES, lane_index_name
from common.unit_runner import run_unit

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("params", LANE_INDEX_CASES, ids=lane_index_name)
def test_conv_lane_index(params):
    run_unit(lane_index_name(params), "conv_lane_index", ["conv_lane_index.v"], params,
             "conv_lane_index.cocotb_conv_lane_index")
