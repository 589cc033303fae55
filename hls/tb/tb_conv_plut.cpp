// C-sim testbench of conv_plut (product look-up): ios codes indexing 16 run-time levels, every
// output bit against the golden vectors. Usage and exit codes: tb_host.h.
#include "conv_plut.h"
#include "tb_host.h"

static std::string accepts(const vio::VectorSet &v) {
    if (v.scheme != "ios") return "scheme '" + v.scheme + "', conv_plut runs ios level-index codes";
    conv::level_table lv;
    for (int j = 0; j < conv::n_levels; ++j) lv.set(j, v.level_desc[j]);
    if (!conv_plut_product::levels_ok(lv))
        return "a level exponent exceeds CONV_LEVEL_EXP_MAX=" + std::to_string(CONV_LEVEL_EXP_MAX);
    return "";
}

int main(int argc, char **argv) {
    return tb::Host<conv_plut_engine>::main(argc, argv, "conv_plut", conv_plut, accepts);
}
