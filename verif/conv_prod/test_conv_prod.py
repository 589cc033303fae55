"""pytest runner of the product-unit testbench: one build per ProdCase (common/unit_bins.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from common.unit_bins import PROD_CASES
from common.unit_runner import run_unit

from conv_prod import __file__ as _pkg
from pymodel import registry

pytestmark = pytest.mark.sim

WRAPPER = Path(_pkg).parent / "prod_unit_wrap.v"
# every product unit of the registry (spec/cores.hjson), and the lane select the pruned formats use
RTL = ([Path(unit.rtl).name for unit in registry.arithmetics().values()]
       + ["conv_prod_unit.v", "conv_lane_select.v"])


@pytest.mark.parametrize("case", PROD_CASES, ids=lambda c: c.name)
def test_conv_prod(case):
    run_unit(case.name, "prod_unit_wrap", RTL, case.hdl_parameters(), "conv_prod.cocotb_conv_prod",
             config={"case": case.as_dict(), "seed": 1}, extra_sources=[WRAPPER])
