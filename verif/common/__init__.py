"""Shared glue for the cocotb/Verilator testbenches: tool environment, builds, vector streams."""
