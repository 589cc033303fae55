# Non-project Vivado synthesis (and optional implementation) of one RTL convolution core,
# out of context (docs/hls.md, "Vivado").
#
#   vivado -mode batch -source scripts/vivado_synth.tcl -tclargs <core> [options]
#
#   <core>            mult | shift | plut            (rtl/conv_engine with ARITH = 0 | 1 | 2)
#   -format F         dense | krp | ikr, default dense (FORMAT = 0 | 1 | 2; IKR_K/IKR_P by -generic)
#   -target T         z7035 | kv260, default z7035   part and clock period: scripts/clock_targets.tcl
#                                                    (the table the HLS flow reads too)
#   -part P           overrides the target's part
#   -period NS        overrides the target's clock period (ns)
#   -generic K=V      any conv_engine parameter, repeatable (e.g. -generic PAR_IN=16
#                     -generic W_BITS=6 -generic EXP1_BITS=2 -generic EXP2_BITS=2)
#   -name N           run name (default <core>_<target>, <core>_<format>_<target> if pruned)
#   -out DIR          parent of the run directory (default build/vivado)
#   -impl             also opt/place/phys_opt/route and report post-route utilization/timing
#
# Reports go to <out>/<name>/: utilization (flat and hierarchical), timing summary, RAM
# utilization (DSPs are in the utilization report), a checkpoint, power after -impl, and
# summary.json (utilization, WNS/WHS, whether timing is met, at which stage). The AXI and
# AXI-Stream ports have no I/O constraints: the core is meant to sit inside a larger design, so
# the flow runs out of context and constrains only the clock, with HD.CLK_SRC naming the global
# buffer that will drive it (UG905) so clock delay is part of the timing.
#
# Exit codes: 0 done and timing met; 1 timing not met (the reports are all written) or a
# Vivado step failed; 2 bad options (one line, before any Vivado command).
# Post-synthesis WNS is an estimate (no placement, wire delays guessed): only -impl gives
# post-route timing a user can sign off on.
# Only Tcl 8.5 features (the Xilinx tools' interpreter).

set script_dir [file dirname [file normalize [info script]]]
set repo_dir   [file dirname $script_dir]
source [file join $script_dir clock_targets.tcl]
set flow_name vivado_synth.tcl
source [file join $script_dir flow_common.tcl]  ;# also the core registry's CORE_ARITHS, CORE_FORMATS
if {![info exists argv]} { set argv {} }


set usage "usage: vivado -mode batch -source scripts/vivado_synth.tcl -tclargs <[join [dict keys $CORE_ARITHS] |]>\
    \[-target [join [dict keys $CLOCK_TARGETS] |]\] \[-part P\] \[-period NS\] \[-generic K=V\]...\
    \[-name N\] \[-out DIR\] \[-impl\]"
if {[llength $argv] < 1 || [lindex $argv 0] in {-h -help}} {
    puts $usage
    exit [expr {[llength $argv] < 1 ? 2 : 0}]
}

set core     [lindex $argv 0]
set format   dense
set target   z7035
set generics {}
set part     ""
set period   ""
set name     ""
set out      ""
set do_impl  0

if {![dict exists $CORE_ARITHS $core]} {
    die "core must be [join [dict keys $CORE_ARITHS] {, }] (got '$core'); $usage"
}
for {set i 1} {$i < [llength $argv]} {incr i} {
    set arg [lindex $argv $i]
    if {$arg eq "-impl"} { set do_impl 1; continue }
    if {$arg ni {-format -target -part -period -generic -name -out}} {
        die "unknown option '$arg' (known: -format -target -part -period -generic -name -out -impl)"
    }
    if {[incr i] >= [llength $argv]} { die "option $arg has no value" }
    set value [lindex $argv $i]
    switch -- $arg {
        -format  { set format $value }
        -target  { set target $value }
        -part    { set part $value }
        -period  { set period $value }
        -generic {
            if {![regexp {^[A-Za-z_][A-Za-z0-9_]*=[0-9A-Za-z_'.]+$} $value]} {
                die "-generic: malformed '$value' (expected NAME=VALUE)"
            }
            lappend generics $value
        }
        -name    { set name $value }
        -out     { set out $value }
    }
}
if {![dict exists $CORE_FORMATS $format]} {
    die "-format must be [join [dict keys $CORE_FORMATS] {, }] (got '$format')"
}
if {![dict exists $CLOCK_TARGETS $target]} {
    die "-target must be [join [dict keys $CLOCK_TARGETS] { | }] (got '$target')"
}
if {$part eq ""} { set part [dict get $CLOCK_TARGETS $target part] }
if {$period eq ""} { set period [dict get $CLOCK_TARGETS $target period_ns] }
if {![string is double -strict $period] || $period <= 0} {
    die "-period must be a positive period in ns (got '$period')"
}
if {$name eq ""} { set name [expr {$format eq "dense" ? "${core}_$target" : "${core}_${format}_$target"}] }
if {![regexp {^[A-Za-z0-9_.+-]+$} $name]} { die "-name: '$name' is not a plain directory name" }
# The buffer site of HD.CLK_SRC depends on the device family, so it follows the target's part;
# with another -part it is left to the target's entry only when the family prefix matches.
set clk_src [dict get $CLOCK_TARGETS $target clk_src]
if {[string range $part 0 2] ne [string range [dict get $CLOCK_TARGETS $target part] 0 2]} {
    set clk_src ""
}
# One top for every core: the arithmetic and the weight format are parameters
# (docs/engine.md); user generics come after, so they may override nothing silently.
set top conv_engine
set generics [linsert $generics 0 "ARITH=[dict get $CORE_ARITHS $core id]" \
              "FORMAT=[dict get $CORE_FORMATS $format]"]

if {$out eq ""} { set out [file join $repo_dir build vivado] }
set out_dir [file join [file normalize $out] $name]
file mkdir $out_dir
set stage_label [expr {$do_impl ? "route" : "synth"}]
puts "vivado_synth.tcl: $top part $part period ${period} ns generics {$generics} -> $out_dir"

# Tcl string -> JSON string literal; a number or null.
proc json_str {s} { return "\"[string map [list \\ \\\\ \" \\\" \n \\n \t \\t] $s]\"" }
proc json_num {v} { expr {[string is double -strict $v] ? $v : "null"} }

# "Used" column of the first row whose site type is one of `names` in a report_utilization text.
proc util_used {text names} {
    foreach line [split $text \n] {
        if {[regexp {^\|([^|]+)\|\s*([0-9.]+)\s*\|} $line -> site used]} {
            if {[string trim [string trimright [string trim $site] *]] in $names} { return $used }
        }
    }
    return ""
}

# Worst slack of the setup (or hold) paths, "" if there is none (no constrained path).
proc worst_slack {kind} {
    set paths [get_timing_paths -max_paths 1 -nworst 1 -$kind]
    if {![llength $paths]} { return "" }
    return [get_property SLACK $paths]
}

# ---------------------------------------------------------------------------------------------

# sources: every RTL module (one per file, Verilog-2001)
set sources [lsort [glob -nocomplain [file join $repo_dir rtl *.v]]]
if {![llength $sources]} { die "no RTL sources in [file join $repo_dir rtl]" }
foreach f $sources { step read_verilog read_verilog $f }

# The clock constraint in a generated XDC (the only timing constraint of the core).
set xdc [file join $out_dir clock.xdc]
set fh [open $xdc w]
puts $fh "create_clock -name clk -period $period \[get_ports clk\]"
if {$clk_src ne ""} { puts $fh "set_property HD.CLK_SRC $clk_src \[get_ports clk\]" }
close $fh
step read_xdc read_xdc -mode out_of_context $xdc

set generic_args {}
foreach g $generics { lappend generic_args -generic $g }
step synth_design synth_design -top $top -part $part -mode out_of_context {*}$generic_args \
    -include_dirs [file join $repo_dir rtl] \
    -flatten_hierarchy rebuilt -directive Default

step write_checkpoint write_checkpoint -force [file join $out_dir ${top}_synth.dcp]
step report_utilization report_utilization -file [file join $out_dir utilization_synth.rpt]
step report_utilization report_utilization -hierarchical -hierarchical_depth 4 \
    -file [file join $out_dir utilization_synth_hier.rpt]
step report_timing_summary report_timing_summary -max_paths 20 -file [file join $out_dir timing_synth.rpt]
step report_ram_utilization report_ram_utilization -file [file join $out_dir ram_synth.rpt]

if {$do_impl} {
    step opt_design opt_design
    step place_design place_design
    step phys_opt_design phys_opt_design
    step route_design route_design
    step write_checkpoint write_checkpoint -force [file join $out_dir ${top}_routed.dcp]
    step report_utilization report_utilization -file [file join $out_dir utilization_route.rpt]
    step report_timing_summary report_timing_summary -max_paths 20 -file [file join $out_dir timing_route.rpt]
    step report_power report_power -file [file join $out_dir power_route.rpt]
}

# summary: utilization and timing at the last stage run, one line + summary.json
set util [step report_utilization report_utilization -return_string]
set r [dict create \
    LUT        [util_used $util {{Slice LUTs} {CLB LUTs}}] \
    FF         [util_used $util {{Slice Registers} {CLB Registers}}] \
    BRAM_tiles [util_used $util {{Block RAM Tile}}] \
    URAM       [util_used $util {URAM}] \
    DSP        [util_used $util {DSPs}]]
set wns [step timing worst_slack setup]
set whs [step timing worst_slack hold]
set met [expr {$wns ne "" && $wns >= 0 && ($whs eq "" || $whs >= 0)}]
set estimate [expr {$do_impl ? "" : " (post-synthesis estimate; -impl for post-route timing)"}]

set fields [list "  \"top\": [json_str $top]" "  \"target\": [json_str $target]" \
    "  \"part\": [json_str $part]" "  \"period_ns\": [json_num $period]" \
    "  \"generics\": [json_str $generics]" "  \"stage\": [json_str $stage_label]" \
    "  \"timing_is_estimate\": [expr {$do_impl ? "false" : "true"}]" \
    "  \"wns_ns\": [json_num $wns]" "  \"whs_ns\": [json_num $whs]" \
    "  \"timing_met\": [expr {$met ? "true" : "false"}]"]
dict for {k v} $r { lappend fields "  [json_str $k]: [json_num $v]" }
lappend fields "  \"reports\": [json_str $out_dir]"
set fh [open [file join $out_dir summary.json] w]
puts $fh "\{\n[join $fields ",\n"]\n\}"
close $fh

set line "vivado_synth.tcl: $top $stage_label: WNS [expr {$wns eq "" ? "none" : "$wns ns"}]$estimate,"
dict for {k v} $r { append line " $k [expr {$v eq "" ? "-" : $v}]" }
puts $line
puts "vivado_synth.tcl: summary in [file join $out_dir summary.json]"
if {!$met} {
    puts stderr "vivado_synth.tcl: TIMING NOT MET at $period ns ($stage_label: WNS '$wns', WHS '$whs')"
    exit 1
}
exit 0
