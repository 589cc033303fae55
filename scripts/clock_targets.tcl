# The ONE table of devices and clock targets, shared by the RTL flow (scripts/vivado_synth.tcl)
# and the HLS flow (scripts/vitis_hls.tcl); docs/hls.md, "Clock targets".
#
#   target  part                    period_ns  clk_src (HD.CLK_SRC of the out-of-context clock)
#   z7035   Zynq-7035 -2 (the papers we compare with)          4.0 ns = 250 MHz
#   kv260   Kria K26 SOM, Zynq UltraScale+ -2LV                3.333 ns = 300 MHz
#
# Both flows use the same period: the HLS schedule is asked for what the RTL is asked for, so
# the two are compared at one clock. -clock (HLS) / -period (Vivado) override it for one run.
# clk_src is a global clock buffer site of the part: UG905 asks out-of-context runs to name the
# buffer that will drive the clock, so the router accounts for the clock insertion delay.
# Plain Tcl 8.5, no commands: sourced by both tools and by tclsh in the tests.
set CLOCK_TARGETS {
    z7035 {part xc7z035ffg676-2     period_ns 4.0   clk_src BUFGCTRL_X0Y0}
    kv260 {part xck26-sfvc784-2LV-c period_ns 3.333 clk_src BUFGCE_X0Y0}
}
