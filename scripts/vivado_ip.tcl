# Package one convolution core as a Vivado IP (IP-XACT, AXI4-Stream / AXI4-Lite interfaces
# inferred, every engine parameter exposed) and, with -bd, drop it into a block design behind two
# AXI DMAs on the target's processing system (Zynq-7035: processing_system7; KV260:
# zynq_ultra_ps_e).
#
#   vivado -mode batch -source scripts/vivado_ip.tcl -tclargs <core> [options]
#
#   <core>            mult | shift | plut            (rtl/conv_engine with ARITH = 0 | 1 | 2)
#   -format F         dense | krp | ikr, default dense (FORMAT = 0 | 1 | 2)
#   -target T         z7035 | kv260, default z7035   part: scripts/clock_targets.tcl
#   -generic K=V      an engine parameter's default in the packaged IP, repeatable
#   -vendor V         IP-XACT vendor (default pot-conv.org); library cnn, version 1.0
#   -out DIR          parent of the output (default build/vivado_ip)
#   -bd               also build the block design <out>/<name>/bd (validated, HDL wrapper written)
#   -bitstream        with -bd: synthesize, implement and write the bitstream (launch_runs)
#
# Block design: DMA "dma_act" moves activations in (MM2S) and outputs back (S2MM), DMA
# "dma_wgt" moves weights in (MM2S only). Each stream passes an axis_dwidth_converter between the
# DMA's data width (the PS high-performance port: 64 bits on Zynq-7, 128 on Zynq UltraScale+) and
# the core's beat width; the core's, the DMAs' AXI4-Lite ports hang off the PS general-purpose
# master, the DMAs' memory ports off an HP slave port, all on one PL clock with its
# proc_sys_reset (the core's reset is active-high: peripheral_reset). Software polls the core's
# STATUS register (docs/engine.md); the DMA interrupts are not wired.
#
# Exit codes: 0 done; 1 a Vivado step failed (one line naming it); 2 bad options (one line,
# before any Vivado command). Only Tcl 8.5 features (the Xilinx tools' interpreter).

set script_dir [file dirname [file normalize [info script]]]
set repo_dir   [file dirname $script_dir]
source [file join $script_dir clock_targets.tcl]
set flow_name vivado_ip.tcl
source [file join $script_dir flow_common.tcl]  ;# also the core registry's CORE_ARITHS, CORE_FORMATS
if {![info exists argv]} { set argv {} }


set usage "usage: vivado -mode batch -source scripts/vivado_ip.tcl -tclargs <[join [dict keys $CORE_ARITHS] |]>\
    \[-format dense|krp|ikr\] \[-target [join [dict keys $CLOCK_TARGETS] |]\] \[-generic K=V\]...\
    \[-vendor V\] \[-out DIR\] \[-bd\] \[-bitstream\]"
if {[llength $argv] < 1 || [lindex $argv 0] in {-h -help}} {
    puts $usage
    exit [expr {[llength $argv] < 1 ? 2 : 0}]
}

set core_kind [lindex $argv 0]
set format    dense
set target    z7035
set generics  {}
set vendor    pot-conv.org
set out       ""
set do_bd     0
set do_bit    0
if {![dict exists $CORE_ARITHS $core_kind]} {
    die "core must be [join [dict keys $CORE_ARITHS] {, }] (got '$core_kind'); $usage"
}
for {set i 1} {$i < [llength $argv]} {incr i} {
    set arg [lindex $argv $i]
    if {$arg eq "-bd"} { set do_bd 1; continue }
    if {$arg eq "-bitstream"} { set do_bit 1; continue }
    if {$arg ni {-format -target -generic -vendor -out}} {
        die "unknown option '$arg' (known: -format -target -generic -vendor -out -bd -bitstream)"
    }
    if {[incr i] >= [llength $argv]} { die "option $arg has no value" }
    set value [lindex $argv $i]
    switch -- $arg {
        -format  { set format $value }
        -target  { set target $value }
        -vendor  { set vendor $value }
        -out     { set out $value }
        -generic {
            if {![regexp {^([A-Z][A-Z0-9_]*)=([0-9]+)$} $value -> k v]} {
                die "-generic: malformed '$value' (expected NAME=<integer>)"
            }
            if {$k in {ARITH FORMAT}} { die "-generic $k: set by <core> and -format" }
            dict set generics $k $v
        }
    }
}
if {![dict exists $CORE_FORMATS $format]} { die "-format must be [join [dict keys $CORE_FORMATS] {, }] (got '$format')" }
if {![dict exists $CLOCK_TARGETS $target]} {
    die "-target must be [join [dict keys $CLOCK_TARGETS] { | }] (got '$target')"
}
if {![regexp {^[a-z0-9][a-z0-9.-]*$} $vendor]} { die "-vendor: '$vendor' is not an IP-XACT vendor name" }
if {$do_bit && !$do_bd} { die "-bitstream needs -bd" }
set part [dict get $CLOCK_TARGETS $target part]
set period [dict get $CLOCK_TARGETS $target period_ns]
set generics [dict merge [dict create ARITH [dict get $CORE_ARITHS $core_kind id] \
                                      FORMAT [dict get $CORE_FORMATS $format]] $generics]

# The engine's parameters and their RTL defaults, read from rtl/conv_engine.v's header, so the
# stream widths below follow the same defaults the IP will carry.
set fh [open [file join $repo_dir rtl conv_engine.v] r]
set rtl_text [read $fh]
close $fh
set header [string range $rtl_text [string first "module conv_engine" $rtl_text] end]
set header [string range $header 0 [string first ") (" $header]]
set params [dict create]
foreach {- k v} [regexp -all -inline {parameter\s+([A-Z_0-9]+)\s*=\s*([0-9]+)} $header] { dict set params $k $v }
dict for {k v} $generics {
    if {![dict exists $params $k]} { die "-generic $k: conv_engine has no such parameter" }
    dict set params $k $v
}
set p_in  [dict get $params PAR_IN]
set p_out [dict get $params PAR_OUT]
set widths [dict create \
    s_axis_act [expr {$p_in * [dict get $params A_BITS]}] \
    s_axis_wgt [expr {$p_in * $p_out * [dict get $params W_BITS]}] \
    m_axis_out [expr {$p_out * 32}]]

set name conv_[expr {$format eq "dense" ? $core_kind : "${core_kind}_$format"}]
if {$out eq ""} { set out [file join $repo_dir build vivado_ip] }
set out_dir [file join [file normalize $out] ${name}_$target]
set ip_dir  [file join $out_dir ip]
set vlnv    "$vendor:cnn:$name:1.0"

# The PS of each target: IP, its master for control, its slave for DMA data, their clock, reset.
set ps_of [dict create \
    z7035 [dict create vlnv xilinx.com:ip:processing_system7:5.5 hp_bits 64 \
              master M_AXI_GP0 slave S_AXI_HP0 clk FCLK_CLK0 resetn FCLK_RESET0_N \
              config {CONFIG.PCW_USE_S_AXI_HP0 1 CONFIG.PCW_S_AXI_HP0_DATA_WIDTH 64 CONFIG.PCW_USE_M_AXI_GP0 1} \
              automation xilinx.com:bd_rule:processing_system7 \
              automation_config {make_external "FIXED_IO, DDR" apply_board_preset "0" Master "Disable" Slave "Disable"}] \
    kv260 [dict create vlnv xilinx.com:ip:zynq_ultra_ps_e:3.5 hp_bits 128 \
              master M_AXI_HPM0_FPD slave S_AXI_HP0_FPD clk pl_clk0 resetn pl_resetn0 \
              config {CONFIG.PSU__USE__S_AXI_GP2 1 CONFIG.PSU__SAXIGP2__DATA_WIDTH 128 CONFIG.PSU__USE__M_AXI_GP0 1 CONFIG.PSU__USE__M_AXI_GP1 0} \
              automation xilinx.com:bd_rule:zynq_ultra_ps_e \
              automation_config {apply_board_preset "1"}]]
set ps [dict get $ps_of $target]
set dma_bits [dict get $ps hp_bits]
if {$do_bd} {
    # axis_dwidth_converter needs whole bytes and one width a multiple of the other
    dict for {port bits} $widths {
        if {$bits % 8 || ($bits % $dma_bits && $dma_bits % $bits)} {
            die "-bd: $port is $bits bits wide, not a multiple or divisor of the $dma_bits-bit DMA stream"
        }
        if {$bits > 4096} { die "-bd: $port is $bits bits wide; axis_dwidth_converter takes at most 4096" }
    }
}
file mkdir $out_dir
puts "vivado_ip.tcl: $vlnv ($target, $part) generics {$generics} -> $out_dir"

# ------------------------------------------------------------------------------ IP packaging
set sources [lsort [glob -nocomplain [file join $repo_dir rtl *.v]]]
if {![llength $sources]} { die "no RTL sources in [file join $repo_dir rtl]" }
step create_project create_project -force -part $part ${name}_pkg [file join $out_dir pkg]
set headers [lsort [glob -nocomplain [file join $repo_dir rtl *.vh]]]
step add_files add_files -norecurse [concat $sources $headers]
foreach h $headers { step set_property set_property file_type {Verilog Header} [get_files [file tail $h]] }
step set_property set_property top conv_engine [current_fileset]
step update_compile_order update_compile_order -fileset sources_1
step ipx::package_project ipx::package_project -root_dir $ip_dir -vendor $vendor -library cnn \
    -taxonomy /UserIP -import_files -set_current true
set core [step ipx::current_core ipx::current_core]
step set_property set_property -dict [list name $name version 1.0 display_name "conv8 engine ($core_kind, $format)" \
    description "VGG16 conv8 engine, [dict get $CORE_ARITHS $core_kind description]\
 lanes, $format weights (docs/engine.md)" vendor_display_name pot-conv] $core

# Interfaces: the streams and the register port by name (s_axis_act_*, s_axis_wgt_*,
# m_axis_out_*, s_axil_*), then the clock and the active-high reset they belong to.
step infer_axis ipx::infer_bus_interfaces xilinx.com:interface:axis_rtl:1.0 $core
step infer_aximm ipx::infer_bus_interfaces xilinx.com:interface:aximm_rtl:1.0 $core
step infer_clock ipx::infer_bus_interface clk xilinx.com:signal:clock_rtl:1.0 $core
step infer_reset ipx::infer_bus_interface rst xilinx.com:signal:reset_rtl:1.0 $core
set rst_if [step get_bus_interfaces ipx::get_bus_interfaces rst -of_objects $core]
step add_bus_parameter ipx::add_bus_parameter POLARITY $rst_if
step set_property set_property value ACTIVE_HIGH [ipx::get_bus_parameters POLARITY -of_objects $rst_if]
foreach busif {s_axil s_axis_act s_axis_wgt m_axis_out} {
    if {[step get_bus_interfaces ipx::get_bus_interfaces $busif -of_objects $core] eq ""} {
        puts stderr "vivado_ip.tcl: interface inference failed: no bus interface $busif"
        exit 1
    }
    step associate_bus_interfaces ipx::associate_bus_interfaces -busif $busif -clock clk $core
}
step associate_bus_interfaces ipx::associate_bus_interfaces -clock clk -reset rst $core

# The register map: one 256-byte block (8-bit AXI4-Lite address, docs/engine.md).
step add_memory_map ipx::add_memory_map s_axil $core
step set_property set_property slave_memory_map_ref s_axil [ipx::get_bus_interfaces s_axil -of_objects $core]
step add_address_block ipx::add_address_block regs [ipx::get_memory_maps s_axil -of_objects $core]
step set_property set_property -dict {range 256 width 32 usage register} \
    [ipx::get_address_blocks regs -of_objects [ipx::get_memory_maps s_axil -of_objects $core]]

# Parameters: each one's default from -generic / <core> / -format, the enumerations as lists;
# the elaboration checks in the RTL stay the authority on legal combinations.
dict for {k v} $params {
    set up [step get_user_parameters ipx::get_user_parameters $k -of_objects $core]
    if {$up eq ""} {
        puts stderr "vivado_ip.tcl: packaging failed: parameter $k not exposed"
        exit 1
    }
    step set_property set_property value $v $up
}
foreach {k list} {ARITH {0 1 2} FORMAT {0 1 2} A_BITS {4 5 6 7 8}} {
    set up [ipx::get_user_parameters $k -of_objects $core]
    step set_property set_property -dict [list value_validation_type list value_validation_list $list] $up
}
step create_xgui_files ipx::create_xgui_files $core
step update_checksums ipx::update_checksums $core
step check_integrity ipx::check_integrity $core
step save_core ipx::save_core $core
step close_project close_project
puts "vivado_ip.tcl: packaged $vlnv in $ip_dir"
if {!$do_bd} { exit 0 }

# ------------------------------------------------------------------------------ block design
set bd_name conv_system
step create_project create_project -force -part $part ${name}_bd [file join $out_dir bd]
step set_property set_property ip_repo_paths [list $ip_dir] [current_project]
step update_ip_catalog update_ip_catalog
step create_bd_design create_bd_design $bd_name

set ps_cell [step create_bd_cell create_bd_cell -type ip -vlnv [dict get $ps vlnv] ps]
step apply_bd_automation apply_bd_automation -rule [dict get $ps automation] \
    -config [dict get $ps automation_config] $ps_cell
step set_property set_property -dict [dict get $ps config] $ps_cell

set conv [step create_bd_cell create_bd_cell -type ip -vlnv $vlnv conv]
set cfg {}
dict for {k v} $params { lappend cfg CONFIG.$k $v }
step set_property set_property -dict $cfg $conv

# dma_act: activations in, outputs back; dma_wgt: weights in. Simple (non-SG) mode, 26-bit length.
set dma_act [step create_bd_cell create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 dma_act]
step set_property set_property -dict [list CONFIG.c_include_sg 0 CONFIG.c_sg_length_width 26 \
    CONFIG.c_include_mm2s 1 CONFIG.c_include_s2mm 1 CONFIG.c_m_axi_mm2s_data_width $dma_bits \
    CONFIG.c_m_axis_mm2s_tdata_width $dma_bits CONFIG.c_m_axi_s2mm_data_width $dma_bits \
    CONFIG.c_s_axis_s2mm_tdata_width $dma_bits CONFIG.c_mm2s_burst_size 64 CONFIG.c_s2mm_burst_size 64] $dma_act
set dma_wgt [step create_bd_cell create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 dma_wgt]
step set_property set_property -dict [list CONFIG.c_include_sg 0 CONFIG.c_sg_length_width 26 \
    CONFIG.c_include_mm2s 1 CONFIG.c_include_s2mm 0 CONFIG.c_m_axi_mm2s_data_width $dma_bits \
    CONFIG.c_m_axis_mm2s_tdata_width $dma_bits CONFIG.c_mm2s_burst_size 64] $dma_wgt

# One width converter per stream: DMA width <-> the core's beat width (tlast passed through).
foreach {cell from_bits to_bits src dst} [list \
        cvt_act $dma_bits [dict get $widths s_axis_act] dma_act/M_AXIS_MM2S conv/s_axis_act \
        cvt_wgt $dma_bits [dict get $widths s_axis_wgt] dma_wgt/M_AXIS_MM2S conv/s_axis_wgt \
        cvt_out [dict get $widths m_axis_out] $dma_bits conv/m_axis_out dma_act/S_AXIS_S2MM] {
    set c [step create_bd_cell create_bd_cell -type ip -vlnv xilinx.com:ip:axis_dwidth_converter:1.1 $cell]
    step set_property set_property -dict [list CONFIG.S_TDATA_NUM_BYTES [expr {$from_bits / 8}] \
        CONFIG.M_TDATA_NUM_BYTES [expr {$to_bits / 8}] CONFIG.HAS_TLAST 1 CONFIG.HAS_TKEEP 1] $c
    step connect_bd_intf_net connect_bd_intf_net [get_bd_intf_pins $src] [get_bd_intf_pins $cell/S_AXIS]
    step connect_bd_intf_net connect_bd_intf_net [get_bd_intf_pins $cell/M_AXIS] [get_bd_intf_pins $dst]
}

# Control and data paths by the AXI automation (interconnects, clocks, resets), then the core's
# and the converters' clock and reset on the same PL clock.
set clk "/ps/[dict get $ps clk]"
foreach slave {conv/s_axil dma_act/S_AXI_LITE dma_wgt/S_AXI_LITE} {
    step apply_bd_automation apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
        -config [list Clk_master $clk Clk_slave $clk Clk_xbar $clk Master /ps/[dict get $ps master] \
                 Slave /$slave intc_ip {New AXI SmartConnect}] [get_bd_intf_pins $slave]
}
foreach master {dma_act/M_AXI_MM2S dma_act/M_AXI_S2MM dma_wgt/M_AXI_MM2S} {
    step apply_bd_automation apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
        -config [list Clk_master $clk Clk_slave $clk Clk_xbar $clk Master /$master \
                 Slave /ps/[dict get $ps slave] intc_ip {New AXI SmartConnect}] \
        [get_bd_intf_pins ps/[dict get $ps slave]]
}
set rst_cell [step create_bd_cell create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 rst_conv]
step connect_bd_net connect_bd_net [get_bd_pins ps/[dict get $ps clk]] [get_bd_pins rst_conv/slowest_sync_clk] \
    [get_bd_pins conv/clk] [get_bd_pins cvt_act/aclk] [get_bd_pins cvt_wgt/aclk] [get_bd_pins cvt_out/aclk]
step connect_bd_net connect_bd_net [get_bd_pins ps/[dict get $ps resetn]] [get_bd_pins rst_conv/ext_reset_in]
step connect_bd_net connect_bd_net [get_bd_pins rst_conv/peripheral_reset] [get_bd_pins conv/rst]
step connect_bd_net connect_bd_net [get_bd_pins rst_conv/peripheral_aresetn] [get_bd_pins cvt_act/aresetn] \
    [get_bd_pins cvt_wgt/aresetn] [get_bd_pins cvt_out/aresetn]

step assign_bd_address assign_bd_address
step validate_bd_design validate_bd_design
step save_bd_design save_bd_design
set bd_file [step get_files get_files $bd_name.bd]
step generate_target generate_target all $bd_file
set wrapper [step make_wrapper make_wrapper -files $bd_file -top]
step add_files add_files -norecurse $wrapper
step set_property set_property top ${bd_name}_wrapper [current_fileset]
puts "vivado_ip.tcl: block design $bd_name validated, wrapper $wrapper"
if {$do_bit} {
    step launch_runs launch_runs impl_1 -to_step write_bitstream -jobs 2
    step wait_on_run wait_on_run impl_1
    set status [step get_property get_property STATUS [get_runs impl_1]]
    if {![string match "*write_bitstream Complete*" $status]} {
        puts stderr "vivado_ip.tcl: implementation failed: impl_1 status '$status'"
        exit 1
    }
    puts "vivado_ip.tcl: bitstream written (impl_1: $status)"
}
step close_project close_project
exit 0
