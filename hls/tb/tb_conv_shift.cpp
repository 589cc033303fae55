// C-sim testbench of conv_shift (shift-add): pot or apot codes with this build's exponent
// fields, every output bit against the golden vectors. Usage and exit codes: tb_host.h.
#include "conv_shift.h"
#include "tb_host.h"

static std::string accepts(const vio::VectorSet &v) {
    const char *want = CONV_EXP2_BITS ? "apot" : "pot";
    if (v.scheme != want)
        return "scheme '" + v.scheme + "', this conv_shift build runs " + want + " codes (CONV_EXP2_BITS=" +
               std::to_string(CONV_EXP2_BITS) + ")";
    if (v.exp1_bits != CONV_EXP1_BITS || (CONV_EXP2_BITS && v.exp2_bits != CONV_EXP2_BITS))
        return "exponent fields " + std::to_string(v.exp1_bits) + "/" + std::to_string(v.exp2_bits) +
               ", this build has CONV_EXP1_BITS=" + std::to_string(CONV_EXP1_BITS) +
               " CONV_EXP2_BITS=" + std::to_string(CONV_EXP2_BITS);
    return "";
}

int main(int argc, char **argv) {
    return tb::Host<conv_shift_engine>::main(argc, argv, "conv_shift", conv_shift, accepts);
}
