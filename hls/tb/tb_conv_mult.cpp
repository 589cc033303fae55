// C-sim testbench of conv_mult (multiplier baseline): int codes, every output bit against the
// golden vectors. Usage and exit codes: tb_host.h.
#include "conv_mult.h"
#include "tb_host.h"

static std::string accepts(const vio::VectorSet &v) {
    if (v.scheme != "int") return "scheme '" + v.scheme + "', conv_mult runs two's-complement int codes";
    return "";
}

int main(int argc, char **argv) {
    return tb::Host<conv_mult_engine>::main(argc, argv, "conv_mult", conv_mult, accepts);
}
