# Non-project Vivado synthesis (and optional implementation) of one convolution core.
#
#   vivado -mode batch -source scripts/vivado_synth.tcl -tclargs <core> [options]
#
#   <core>            mult | shift | plut            (wrapper conv_<core>)
#   -generic K=V      any wrapper parameter, repeatable (e.g. -generic PAR_IN=16
#                     -generic W_BITS=6 -generic EXP1_BITS=2 -generic EXP2_BITS=2)
#   -part P           default xc7z035ffg676-2
#   -period NS        clock period in ns, default 4.0 (250 MHz)
#   -name N           output directory name under build/vivado/ (default <core>)
#   -impl             also run opt/place/route and report post-route utilization/timing
#
# Reports go to build/vivado/<name>/: utilization (hierarchical too), timing summary,
# DSP/RAM usage and a post-synthesis checkpoint. The AXI and AXI-Stream ports have no
# I/O constraints: the core is meant to sit inside a larger design, so the flow runs
# out-of-context (-mode out_of_context) and only the clock is constrained.

set script_dir [file dirname [file normalize [info script]]]
set repo_dir   [file dirname $script_dir]

if {[llength $argv] < 1} {
    puts "usage: vivado -mode batch -source scripts/vivado_synth.tcl -tclargs <mult|shift|plut> \[-generic K=V\]... \[-part P\] \[-period NS\] \[-name N\] \[-impl\]"
    exit 1
}

set core     [lindex $argv 0]
set generics {}
set part     xc7z035ffg676-2
set period   4.0
set name     $core
set do_impl  0

for {set i 1} {$i < [llength $argv]} {incr i} {
    set arg [lindex $argv $i]
    switch -- $arg {
        -generic { incr i; lappend generics [lindex $argv $i] }
        -part    { incr i; set part   [lindex $argv $i] }
        -period  { incr i; set period [lindex $argv $i] }
        -name    { incr i; set name   [lindex $argv $i] }
        -impl    { set do_impl 1 }
        default  { puts "ERROR: unknown option $arg"; exit 1 }
    }
}

if {[lsearch -exact {mult shift plut} $core] < 0} {
    puts "ERROR: core must be mult, shift or plut (got $core)"
    exit 1
}
set top conv_$core

set out_dir [file join $repo_dir build vivado $name]
file mkdir $out_dir

# sources: every RTL module (one per file, Verilog-2001)
foreach f [lsort [glob [file join $repo_dir rtl *.v]]] {
    read_verilog $f
}

set generic_args {}
foreach g $generics {
    lappend generic_args -generic $g
}

# clock constraint in a generated XDC (the only timing constraint of the core)
set xdc [file join $out_dir clock.xdc]
set fh [open $xdc w]
puts $fh "create_clock -name clk -period $period \[get_ports clk\]"
close $fh
read_xdc -mode out_of_context $xdc

synth_design -top $top -part $part -mode out_of_context {*}$generic_args \
    -flatten_hierarchy rebuilt -directive Default

write_checkpoint -force [file join $out_dir ${top}_synth.dcp]
report_utilization    -file [file join $out_dir utilization_synth.rpt]
report_utilization    -hierarchical -hierarchical_depth 4 \
                      -file [file join $out_dir utilization_synth_hier.rpt]
report_timing_summary -max_paths 20 -file [file join $out_dir timing_synth.rpt]
report_dsp_usage      -file [file join $out_dir dsp_synth.rpt] -quiet
report_ram_utilization -file [file join $out_dir ram_synth.rpt] -quiet

if {$do_impl} {
    opt_design
    place_design
    phys_opt_design
    route_design
    write_checkpoint -force [file join $out_dir ${top}_routed.dcp]
    report_utilization    -file [file join $out_dir utilization_route.rpt]
    report_timing_summary -max_paths 20 -file [file join $out_dir timing_route.rpt]
    report_power          -file [file join $out_dir power_route.rpt]
}

# one-line summary for scripts
set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]
puts "vivado_synth: $top $generics part=$part period=${period}ns WNS=$wns reports in $out_dir"
