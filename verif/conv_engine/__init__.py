"""cocotb verification of the conv3x3 cores (conv_engine: MULT / SHIFT / PLUT x dense / KRP / IKR)."""
