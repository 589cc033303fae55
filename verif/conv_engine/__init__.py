"""cocotb verification of the conv3x3 cores (conv_mult, conv_shift, conv_plut)."""
