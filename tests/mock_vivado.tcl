# Stand-in for `vivado -mode batch -source <script> -tclargs <args>` under plain tclsh, for
# tests/test_vivado_tcl.py:
#
#   tclsh tests/mock_vivado.tcl <log.jsonl> <script.tcl> [script args...]
#
# Every Vivado Tcl command scripts/vivado_synth.tcl may call is a proc that checks its arguments
# against the command's documented syntax (table COMMANDS, from UG835 2020.2-2025.2), then
# appends {"cmd": name, "args": [...]} to <log.jsonl>. The rest is an error, as in batch Vivado:
# an unknown command (report_dsp_usage is none), an undocumented option, a missing value or
# positional argument, a value outside its documented set, a report before a design is loaded,
# read_verilog/read_xdc of a missing file. read_xdc checks the constraint file itself in a child
# interpreter with create_clock / set_property / get_ports (UG835 syntax; HD.CLK_SRC needs a
# buffer site name). synth_design checks -top against the modules read and every -generic
# name against that module's parameters.
# MOCK_VIVADO_WNS / MOCK_VIVADO_WHS set the slack get_property SLACK returns (default 0.250 /
# 0.050); MOCK_VIVADO_FAIL=<command> makes that command raise an error.

if {$argc < 2} {
    puts stderr "usage: tclsh mock_vivado.tcl <log.jsonl> <script.tcl> \[args...\]"
    exit 64
}
set ::mock_log    [lindex $argv 0]
set ::mock_script [lindex $argv 1]
set ::mock_sources {}
set ::mock_design ""
set ::mock_routed 0

set ::COMMON {-quiet 0 -verbose 0}
set ::COMMANDS {
    read_verilog {options {-library 1 -sv 0} positional {1 1000}}
    read_xdc {options {-cells 1 -ref 1 -quiet_diff 0 -mode 1 -unmanaged 0 -no_add 0}
              values {-mode {default out_of_context}} positional {1 1}}
    synth_design {options {-name 1 -part 1 -constrset 1 -top 1 -include_dirs 1 -generic 1
                           -verilog_define 1 -flatten_hierarchy 1 -gated_clock_conversion 1
                           -directive 1 -rtl 0 -bufg 1 -no_lc 0 -fanout_limit 1 -shreg_min_size 1
                           -mode 1 -fsm_extraction 1 -keep_equivalent_registers 0
                           -resource_sharing 1 -cascade_dsp 1 -control_set_opt_threshold 1
                           -incremental_mode 1 -max_bram 1 -max_uram 1 -max_dsp 1
                           -max_bram_cascade_height 1 -max_uram_cascade_height 1 -retiming 0
                           -no_srlextract 0 -assert 0 -no_timing_driven 0 -sfcu 0 -debug_log 0}
                  values {-mode {default out_of_context} -flatten_hierarchy {none full rebuilt}
                          -directive {Default RuntimeOptimized AreaOptimized_high
                                      AreaOptimized_medium AlternateRoutability AreaMapLargeShiftRegToBRAM
                                      AreaMultThresholdDSP FewerCarryChains PerformanceOptimized
                                      LogicCompaction PowerOptimized_high PowerOptimized_medium}}
                  required {-top -part} positional {0 0}}
    write_checkpoint {options {-force 0 -cell 1 -encrypt 0 -logic_function_stripped 0
                               -incremental_synth 0} positional {1 1} needs design}
    report_utilization {options {-file 1 -json 1 -append 0 -pblocks 1 -evaluate_pblock 0
                                 -exclude_child_pblocks 0 -exclude_non_assigned 0 -cells 1
                                 -return_string 0 -slr 0 -packthru 0 -name 1 -no_primitives 0
                                 -omit_locs 0 -hierarchical 0 -spreadsheet_file 1
                                 -spreadsheet_table 1 -spreadsheet_depth 1 -hierarchical_depth 1
                                 -hierarchical_percentages 0 -hierarchical_min_primitive_count 1}
                        positional {0 0} needs design}
    report_timing_summary {options {-check_timing_verbose 0 -delay_type 1 -no_detailed_paths 0
                                    -setup 0 -hold 0 -pulse_width 0 -max_paths 1 -nworst 1
                                    -unique_pins 0 -path_type 1 -input_pins 0 -no_header 0
                                    -report_unconstrained 0 -significant_digits 1 -file 1 -append 0
                                    -return_string 0 -warn_on_violation 0 -name 1 -rpx 1
                                    -datasheet 0 -cells 1 -no_check_timing 0 -routable_nets 0
                                    -slack_lesser_than 1 -exclude_cell_delay 0 -no_pr_attribute 0}
                           positional {0 0} needs design}
    report_ram_utilization {options {-append 0 -file 1 -csv 1 -json 1 -return_string 0 -cells 1
                                     -include_path_info 0 -include_lutram 0}
                            positional {0 0} needs design}
    report_power {options {-no_propagation 0 -hier 1 -hierarchical_depth 1 -vid 0 -advisory 0
                           -file 1 -name 1 -format 1 -xpe 1 -l 1 -return_string 0 -append 0 -rpx 1}
                  positional {0 0} needs design}
    opt_design {options {-retarget 0 -propconst 0 -sweep 0 -bram_power_opt 0 -remap 0 -resynth_area 0
                         -resynth_seq_area 0 -directive 1 -muxf_remap 0 -hier_fanout_limit 1
                         -bufg_opt 0 -shift_register_opt 0 -dsp_register_opt 0 -srl_remap_modes 1
                         -control_set_merge 0 -merge_equivalent_drivers 0 -carry_remap 0
                         -aggressive_remap 0 -debug_log 0} positional {0 0} needs design}
    place_design {options {-directive 1 -no_timing_driven 0 -timing_summary 0 -unplace 0
                           -post_place_opt 0 -no_psip 0 -no_bufg_opt 0 -ultrathreads 0 -debug_log 0}
                  positional {0 0} needs design}
    phys_opt_design {options {-fanout_opt 0 -placement_opt 0 -routing_opt 0 -slr_crossing_opt 0
                              -rewire 0 -insert_negative_edge_ffs 0 -critical_cell_opt 0
                              -dsp_register_opt 0 -bram_register_opt 0 -uram_register_opt 0
                              -bram_enable_opt 0 -shift_register_opt 0 -hold_fix 0
                              -aggressive_hold_fix 0 -retime 0 -force_replication_on_nets 1
                              -directive 1 -critical_pin_opt 0 -clock_opt 0 -path_groups 1
                              -tns_cleanup 0 -sll_reg_hold_fix 0} positional {0 0} needs design}
    route_design {options {-unroute 0 -release_memory 0 -nets 1 -physical_nets 0 -pins 1
                           -directive 1 -tns_cleanup 0 -no_timing_driven 0 -preserve 0 -delay 0
                           -auto_delay 0 -max_delay 1 -min_delay 1 -timing_summary 0 -finalize 0
                           -ultrathreads 0 -eco 0} positional {0 0} needs design}
    get_timing_paths {options {-from 1 -rise_from 1 -fall_from 1 -to 1 -rise_to 1 -fall_to 1
                               -through 1 -rise_through 1 -fall_through 1 -delay_type 1 -setup 0
                               -hold 0 -max_paths 1 -nworst 1 -unique_pins 0 -slack_lesser_than 1
                               -slack_greater_than 1 -group 1 -no_report_unconstrained 0
                               -user_ignored 0 -sort_by 1 -filter 1 -regexp 0 -nocase 0 -cell 1}
                      positional {0 0} needs design}
    get_property {options {-min 0 -max 0} positional {2 2}}
}

proc mock_json_str {s} {
    set map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t]
    return "\"[string map $map $s]\""
}

proc mock_record {name arglist} {
    set items {}
    foreach a $arglist { lappend items [mock_json_str $a] }
    set fh [open $::mock_log a]
    puts $fh "{\"cmd\": [mock_json_str $name], \"args\": \[[join $items {, }]\]}"
    close $fh
    if {[info exists ::env(MOCK_VIVADO_FAIL)] && $::env(MOCK_VIVADO_FAIL) eq $name} {
        error "ERROR: \[Common 17-xx\] mock: $name failed"
    }
}

# Check arglist against the table; return a dict {positional {...} opts {-opt {values...}}}.
proc mock_check {name arglist} {
    set spec [dict get $::COMMANDS $name]
    set options [dict merge [dict get $spec options] $::COMMON]
    set values [expr {[dict exists $spec values] ? [dict get $spec values] : {}}]
    set positional {}
    set opts [dict create]
    for {set i 0} {$i < [llength $arglist]} {incr i} {
        set a [lindex $arglist $i]
        if {[string index $a 0] eq "-" && ![string is double -strict $a]} {
            if {![dict exists $options $a]} {
                error "ERROR: \[Common 17-170\] Unknown option '$a', please type '$name -help' for usage info."
            }
            if {[dict get $options $a]} {
                incr i
                if {$i >= [llength $arglist]} { error "ERROR: \[Common 17-163\] $name: missing value for option '$a'" }
                set v [lindex $arglist $i]
                if {[dict exists $values $a] && [lsearch -exact [dict get $values $a] $v] < 0} {
                    error "ERROR: \[Common 17-161\] $name: invalid option value '$v' specified for '$a'"
                }
                dict lappend opts $a $v
            } else {
                dict set opts $a {}
            }
        } else {
            lappend positional $a
        }
    }
    lassign [dict get $spec positional] lo hi
    if {[llength $positional] < $lo || [llength $positional] > $hi} {
        error "ERROR: \[Common 17-165\] $name: expects $lo..$hi positional argument(s), got: $positional"
    }
    if {[dict exists $spec required]} {
        foreach r [dict get $spec required] {
            if {![dict exists $opts $r]} { error "ERROR: \[Common 17-163\] $name: missing option '$r'" }
        }
    }
    if {[dict exists $spec needs] && $::mock_design eq ""} {
        error "ERROR: \[Common 17-53\] $name: no open design (run synth_design first)"
    }
    return [dict create positional $positional opts $opts]
}

foreach cmd [dict keys $::COMMANDS] {
    proc $cmd {args} "mock_check $cmd \$args; mock_record $cmd \$args"
}

proc read_verilog {args} {
    set c [mock_check read_verilog $args]
    foreach f [dict get $c positional] {
        if {![file isfile $f]} { error "ERROR: \[Vivado 12-172\] File or Directory '$f' does not exist" }
        lappend ::mock_sources $f
    }
    mock_record read_verilog $args
}

# The XDC in a child interpreter with only the constraint commands it may use.
proc mock_xdc_check {file} {
    set x [interp create -safe]
    interp alias $x get_ports {} mock_xdc_get_ports
    interp alias $x create_clock {} mock_xdc_create_clock
    interp alias $x set_property {} mock_xdc_set_property
    set fh [open $file r]
    set text [read $fh]
    close $fh
    if {[catch {$x eval $text} msg]} {
        interp delete $x
        error "ERROR: \[Designutils 20-1307\] $file: $msg"
    }
    interp delete $x
}
proc mock_xdc_get_ports {args} {
    if {[llength $args] != 1 || $args ne "clk"} { error "get_ports: only the port clk exists (got $args)" }
    return port:clk
}
proc mock_xdc_create_clock {args} {
    set period ""; set objects {}
    for {set i 0} {$i < [llength $args]} {incr i} {
        switch -- [lindex $args $i] {
            -period { set period [lindex $args [incr i]] }
            -name - -waveform { incr i }
            -add {}
            default {
                if {[string index [lindex $args $i] 0] eq "-"} { error "create_clock: unknown option [lindex $args $i]" }
                lappend objects [lindex $args $i]
            }
        }
    }
    if {![string is double -strict $period] || $period <= 0} { error "create_clock: -period must be > 0" }
    if {$objects ne {port:clk}} { error "create_clock: needs the clock port as its object" }
}
proc mock_xdc_set_property {args} {
    if {[llength $args] != 3} { error "set_property: expects <name> <value> <objects>" }
    lassign $args name value objects
    switch -- $name {
        HD.CLK_SRC {
            if {![regexp {^BUFG(CTRL|CE|CE_DIV)?_X[0-9]+Y[0-9]+$} $value]} {
                error "set_property HD.CLK_SRC: '$value' is not a global clock buffer site"
            }
        }
        default { error "set_property: the mock knows HD.CLK_SRC only (got $name)" }
    }
    if {$objects ne "port:clk"} { error "set_property: needs \[get_ports clk\]" }
}

proc read_xdc {args} {
    set c [mock_check read_xdc $args]
    set f [lindex [dict get $c positional] 0]
    if {![file isfile $f]} { error "ERROR: \[Vivado 12-172\] File or Directory '$f' does not exist" }
    mock_xdc_check $f
    mock_record read_xdc $args
}

proc synth_design {args} {
    set c [mock_check synth_design $args]
    set opts [dict get $c opts]
    set top [lindex [dict get $opts -top] 0]
    set body ""
    foreach f $::mock_sources {
        set fh [open $f r]; set text [read $fh]; close $fh
        if {[regexp "module\\s+$top\\M" $text]} { set body $text }
    }
    if {$body eq ""} { error "ERROR: \[Synth 8-439\] module '$top' not found" }
    if {[dict exists $opts -generic]} {
        foreach g [dict get $opts -generic] {
            set pname [lindex [split $g =] 0]
            if {![regexp "parameter\\s+(\\w+\\s+)?$pname\\M" $body]} {
                error "ERROR: \[Synth 8-2490\] overwriting non-existent parameter '$pname' of module '$top'"
            }
        }
    }
    mock_record synth_design $args
    set ::mock_design $top
}

proc route_design {args} {
    mock_check route_design $args
    mock_record route_design $args
    set ::mock_routed 1
}

proc write_checkpoint {args} {
    set c [mock_check write_checkpoint $args]
    mock_record write_checkpoint $args
    set fh [open [lindex [dict get $c positional] 0] w]; puts $fh mock; close $fh
}

# A utilization table as Vivado prints it (7-series names; UltraScale+ says CLB).
proc mock_util_text {} {
    return "+-------------------------+------+-------+-----------+-------+
|        Site Type        | Used | Fixed | Available | Util% |
+-------------------------+------+-------+-----------+-------+
| Slice LUTs*             | 5321 |     0 |    171900 |  3.10 |
|   LUT as Logic          | 5000 |     0 |    171900 |  2.91 |
| Slice Registers         | 6789 |     0 |    343800 |  1.97 |
+-------------------------+------+-------+-----------+-------+
| Block RAM Tile          |  4.5 |     0 |       500 |  0.90 |
| DSPs                    |  256 |     0 |       900 | 28.44 |
+-------------------------+------+-------+-----------+-------+"
}

foreach cmd {report_utilization report_timing_summary report_ram_utilization report_power} {
    proc $cmd {args} [string map [list @CMD@ $cmd] {
        set c [mock_check @CMD@ $args]
        mock_record @CMD@ $args
        set opts [dict get $c opts]
        if {[dict exists $opts -file]} {
            set fh [open [lindex [dict get $opts -file] 0] w]; puts $fh "mock @CMD@"; close $fh
        }
        if {[dict exists $opts -return_string]} { return [mock_util_text] }
        return ""
    }]
}

proc get_timing_paths {args} {
    set c [mock_check get_timing_paths $args]
    mock_record get_timing_paths $args
    return [expr {[dict exists [dict get $c opts] -hold] ? "path:hold" : "path:setup"}]
}

proc get_property {args} {
    set c [mock_check get_property $args]
    mock_record get_property $args
    lassign [dict get $c positional] name object
    if {$name ne "SLACK" || $object ni {path:setup path:hold}} {
        error "ERROR: \[Common 17-58\] get_property: the mock knows SLACK of a timing path only"
    }
    if {$object eq "path:setup"} {
        return [expr {[info exists ::env(MOCK_VIVADO_WNS)] ? $::env(MOCK_VIVADO_WNS) : 0.250}]
    }
    return [expr {[info exists ::env(MOCK_VIVADO_WHS)] ? $::env(MOCK_VIVADO_WHS) : 0.050}]
}


# ---------------------------------------------------------------------------------------------
# Project mode, IP packaging (ipx::, UG1118) and IP integrator (bd, UG994) commands, used by
# scripts/vivado_ip.tcl. State is kept as Vivado keeps it: one open project with its files and
# top; the packaged core's parameters, ports and bus interfaces (read from the RTL it packages);
# the IP catalog (Xilinx IP below + cores saved under ip_repo_paths); block-design cells and the
# interface pins connected. Handles are strings ("core:<name>", "/<cell>/<pin>", ...); a get_*
# that finds nothing returns "" and a command given "" fails, as Vivado's do.

namespace eval ipx {}
set ::mock_project ""
set ::mock_repo_cores [dict create]
set ::mock_repo_info [dict create]
set ::XILINX_IP {
    xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.5 xilinx.com:ip:axi_dma:7.1
    xilinx.com:ip:axis_dwidth_converter:1.1 xilinx.com:ip:proc_sys_reset:5.0
    xilinx.com:ip:smartconnect:1.0 xilinx.com:ip:axi_interconnect:2.1
}
set ::BD_RULES {xilinx.com:bd_rule:processing_system7 xilinx.com:bd_rule:zynq_ultra_ps_e
                xilinx.com:bd_rule:axi4 xilinx.com:bd_rule:clkrst}
set ::AXIL_SIGNALS {awaddr awvalid awready wdata wstrb wvalid wready bresp bvalid bready
                    araddr arvalid arready rdata rresp rvalid rready}

dict set ::COMMANDS create_project {options {-part 1 -force 0 -in_memory 0 -ip 0 -rtl_kernel 0} positional {0 2}}
dict set ::COMMANDS close_project {options {-delete 0} positional {0 0}}
dict set ::COMMANDS current_project {options {} positional {0 1}}
dict set ::COMMANDS current_fileset {options {-constrset 0 -simset 0 -blockset 0} positional {0 1}}
dict set ::COMMANDS add_files {options {-fileset 1 -norecurse 0 -scan_for_includes 0 -copy_to 1 -force 0} positional {1 1000}}
dict set ::COMMANDS get_files {options {-compile_order 1 -used_in 1 -references 0 -of_objects 1 -filter 1
                                        -regexp 0 -nocase 0 -all 0} positional {0 1}}
dict set ::COMMANDS set_property {options {-dict 1} positional {1 3}}
dict set ::COMMANDS update_compile_order {options {-fileset 1} positional {0 0}}
dict set ::COMMANDS update_ip_catalog {options {-rebuild 0 -scan_changes 0 -repo_path 1 -add_ip 1 -delete_ip 1
                                                -disable_ip 1 -enable_ip 1 -add_interface 1 -create_index 0}
                                       positional {0 0}}
dict set ::COMMANDS ipx::package_project {options {-root_dir 1 -vendor 1 -library 1 -name 1 -version 1 -taxonomy 1
                                                   -import_files 0 -set_current 1 -force 0 -module 1
                                                   -force_update_compile_order 0 -archive_source_project 1
                                                   -generated_files 0} positional {0 0}}
dict set ::COMMANDS ipx::current_core {options {} positional {0 1}}
dict set ::COMMANDS ipx::infer_bus_interfaces {options {} positional {2 2}}
dict set ::COMMANDS ipx::infer_bus_interface {options {-name 1} positional {3 3}}
dict set ::COMMANDS ipx::get_bus_interfaces {options {-of_objects 1 -filter 1 -regexp 0 -nocase 0} positional {0 1}}
dict set ::COMMANDS ipx::add_bus_parameter {options {} positional {2 2}}
dict set ::COMMANDS ipx::get_bus_parameters {options {-of_objects 1 -filter 1} positional {0 1}}
dict set ::COMMANDS ipx::associate_bus_interfaces {options {-busif 1 -clock 1 -reset 1 -remove 0 -clear 0} positional {1 1}}
dict set ::COMMANDS ipx::add_memory_map {options {} positional {2 2}}
dict set ::COMMANDS ipx::get_memory_maps {options {-of_objects 1 -filter 1} positional {0 1}}
dict set ::COMMANDS ipx::add_address_block {options {} positional {2 2}}
dict set ::COMMANDS ipx::get_address_blocks {options {-of_objects 1 -filter 1} positional {0 1}}
dict set ::COMMANDS ipx::get_user_parameters {options {-of_objects 1 -filter 1} positional {0 1}}
foreach c {create_xgui_files update_checksums save_core} {
    dict set ::COMMANDS ipx::$c {options {} positional {1 1}}
}
dict set ::COMMANDS ipx::check_integrity {options {-kernel 0 -xrt 0 -return_bool 0} positional {1 1}}
dict set ::COMMANDS create_bd_design {options {-dir 1 -cell 1 -mode 1 -bdsource 1} positional {1 1}}
dict set ::COMMANDS create_bd_cell {options {-type 1 -vlnv 1 -reference 1}
                                    values {-type {ip module hier container}} required {-type} positional {1 1}}
dict set ::COMMANDS apply_bd_automation {options {-rule 1 -config 1 -dict 1 -opts 1} required {-rule} positional {1 1}}
dict set ::COMMANDS connect_bd_intf_net {options {-boundary_type 1 -intf_net 1} positional {2 2}}
dict set ::COMMANDS connect_bd_net {options {-net 1 -boundary_type 1} positional {2 1000}}
foreach c {get_bd_cells get_bd_pins get_bd_intf_pins} {
    dict set ::COMMANDS $c {options {-hierarchical 0 -filter 1 -of_objects 1 -regexp 0 -nocase 0} positional {0 1}}
}
dict set ::COMMANDS assign_bd_address {options {-target_address_space 1 -offset 1 -range 1 -export_to_file 1
                                                -import_from_file 1 -external 0 -dict 1 -force 0 -boundary 0
                                                -combine_segments 0} positional {0 1}}
dict set ::COMMANDS validate_bd_design {options {-force 0 -design 1} positional {0 0}}
dict set ::COMMANDS save_bd_design {options {-ignore_comments 0} positional {0 1}}
dict set ::COMMANDS generate_target {options {-force 0} positional {2 2}}
dict set ::COMMANDS make_wrapper {options {-files 1 -top 0 -testbench 0 -inst_template 0 -fileset 1 -import 0 -force 0}
                                  required {-files} positional {0 0}}
dict set ::COMMANDS launch_runs {options {-jobs 1 -to_step 1 -next_step 0 -scripts_only 0 -dir 1 -force 0}
                                 values {-to_step {opt_design power_opt_design place_design phys_opt_design
                                                   route_design write_bitstream}} positional {1 100}}
dict set ::COMMANDS wait_on_run {options {-timeout 1} positional {1 1}}
dict set ::COMMANDS get_runs {options {-filter 1 -regexp 0 -nocase 0} positional {0 1}}
dict set ::COMMANDS get_property {options {-min 0 -max 0} positional {2 2}}

proc mock_need {what value} {
    if {$value eq ""} { error "ERROR: \[Common 17-55\] '$what' expects at least one object." }
}
proc mock_need_project {name} {
    if {$::mock_project eq ""} { error "ERROR: \[Common 17-53\] $name: no open project" }
}

proc create_project {args} {
    set c [mock_check create_project $args]
    mock_record create_project $args
    lassign [dict get $c positional] ::mock_project ::mock_project_dir
    if {$::mock_project_dir eq ""} { set ::mock_project_dir [pwd] }
    file mkdir $::mock_project_dir
    set ::mock_files {}
    set ::mock_top ""
    set ::mock_repo_paths {}
    set ::mock_catalog $::XILINX_IP
    set ::mock_bd ""
    set ::mock_cells [dict create]
    set ::mock_connected {}
    set ::mock_run_top ""
    return project:$::mock_project
}
proc close_project {args} {
    mock_check close_project $args
    mock_need_project close_project
    mock_record close_project $args
    set ::mock_project ""
}
proc current_project {args} { mock_check current_project $args; mock_need_project current_project; return project:$::mock_project }
proc current_fileset {args} { mock_check current_fileset $args; mock_need_project current_fileset; return fileset:sources_1 }
proc update_compile_order {args} {
    mock_check update_compile_order $args
    mock_need_project update_compile_order
    mock_record update_compile_order $args
}

proc add_files {args} {
    set c [mock_check add_files $args]
    mock_need_project add_files
    foreach f [concat {*}[dict get $c positional]] {
        if {![file isfile $f]} { error "ERROR: \[Vivado 12-172\] File or Directory '$f' does not exist" }
        lappend ::mock_files [file normalize $f]
    }
    mock_record add_files $args
}
proc get_files {args} {
    set c [mock_check get_files $args]
    mock_need_project get_files
    set pattern [lindex [dict get $c positional] 0]
    set found {}
    foreach f $::mock_files { if {[string match $pattern [file tail $f]]} { lappend found $f } }
    return $found
}

# The top module's header in the added sources: {params {name default ...} ports {name dir ...}}.
proc mock_module {top} {
    foreach f $::mock_files {
        if {[file extension $f] ne ".v"} { continue }
        set fh [open $f r]; set text [read $fh]; close $fh
        set at [string first "module $top " $text]
        if {$at < 0} { set at [string first "module $top\n" $text] }
        if {$at < 0} { continue }
        set text [string range $text $at end]
        set head [string range $text 0 [string first ");" $text]]
        set params [dict create]
        foreach {- k v} [regexp -all -inline {parameter\s+(\w+)\s*=\s*(\d+)} $head] { dict set params $k $v }
        set ports [dict create]
        foreach {- d n} [regexp -all -inline {(input|output)\s+wire\s+(?:\[[^\]]*\]\s*)?(\w+)} $head] {
            dict set ports $n $d
        }
        return [dict create params $params ports $ports]
    }
    error "ERROR: \[filemgmt 56-10\] top module '$top' not found in the project's sources"
}

proc set_property {args} {
    set c [mock_check set_property $args]
    set pos [dict get $c positional]
    set opts [dict get $c opts]
    if {[dict exists $opts -dict]} {
        if {[llength $pos] != 1} { error "ERROR: \[Common 17-165\] set_property -dict: expects <objects>" }
        set pairs [lindex [dict get $opts -dict] 0]
        if {[llength $pairs] % 2} { error "ERROR: \[Common 17-161\] set_property -dict: odd name/value list" }
        set objects [lindex $pos 0]
    } else {
        if {[llength $pos] != 3} { error "ERROR: \[Common 17-165\] set_property: expects <name> <value> <objects>" }
        set pairs [lrange $pos 0 1]
        set objects [lindex $pos 2]
    }
    mock_need set_property $objects
    foreach object $objects {
        foreach {name value} $pairs { mock_set $object $name $value }
    }
    mock_record set_property $args
}
proc mock_set {object name value} {
    if {$object in $::mock_files} {
        if {$name ne "file_type" || $value ni {Verilog {Verilog Header} SystemVerilog VHDL}} {
            error "ERROR: \[Common 17-58\] mock: file property '$name' = '$value'"
        }
        return
    }
    switch -glob -- $object {
        fileset:* {
            if {$name ne "top"} { error "ERROR: \[Common 17-58\] mock: fileset property '$name'" }
            mock_module $value
            set ::mock_top $value
        }
        project:* {
            if {$name ne "ip_repo_paths"} { error "ERROR: \[Common 17-58\] mock: project property '$name'" }
            foreach d $value { if {![file isdirectory $d]} { error "ERROR: \[Vivado 12-172\] '$d' does not exist" } }
            set ::mock_repo_paths $value
        }
        core:* {
            if {$name ni {name version display_name description vendor_display_name company_url}} {
                error "ERROR: \[Common 17-58\] '$name' is not a property of an ipx core"
            }
            dict set ::mock_core props $name $value
        }
        userparam:* {
            if {$name ni {value value_validation_type value_validation_list value_validation_range_minimum
                          value_validation_range_maximum display_name}} {
                error "ERROR: \[Common 17-58\] '$name' is not a property of a user parameter"
            }
            if {$name eq "value_validation_type" && $value ni {none list range_long pairs}} {
                error "ERROR: \[IP_Flow 19-...\] value_validation_type '$value'"
            }
            dict set ::mock_core uparams [string range $object 10 end] $name $value
        }
        busif:* {
            if {$name ne "slave_memory_map_ref"} { error "ERROR: \[Common 17-58\] mock: bus interface property '$name'" }
            if {![dict exists $::mock_core mmaps $value]} { error "ERROR: \[IP_Flow\] no memory map '$value'" }
        }
        busparam:* - addrblock:* {}
        /* {
            # CONFIG.<param> of a block-design cell: of the packaged core, one of its parameters
            set cell [string range $object 1 end]
            set vlnv [dict get $::mock_cells $cell]
            if {![string match CONFIG.* $name]} { error "ERROR: \[BD 41-xx\] '$name' is not a cell property" }
            if {[dict exists $::mock_repo_cores $vlnv]} {
                set p [string range $name 7 end]
                if {![dict exists $::mock_repo_cores $vlnv $p]} {
                    error "ERROR: \[BD 41-1276\] $cell: IP $vlnv has no parameter $p"
                }
            }
        }
        default { error "ERROR: \[Common 17-58\] mock: set_property on '$object'" }
    }
}

proc ipx::package_project {args} {
    set c [mock_check ipx::package_project $args]
    mock_need_project ipx::package_project
    if {$::mock_top eq ""} { error "ERROR: \[IP_Flow 19-1\] no top module set" }
    set opts [dict get $c opts]
    foreach r {-root_dir -vendor -library} {
        if {![dict exists $opts $r]} { error "ERROR: \[Common 17-163\] ipx::package_project: missing option '$r'" }
    }
    set m [mock_module $::mock_top]
    set ::mock_core [dict create name $::mock_top root [lindex [dict get $opts -root_dir] 0] \
        vendor [lindex [dict get $opts -vendor] 0] library [lindex [dict get $opts -library] 0] \
        params [dict get $m params] ports [dict get $m ports] busifs [dict create] mmaps [dict create] \
        uparams [dict create] props [dict create] steps {}]
    dict for {k v} [dict get $m params] { dict set ::mock_core uparams $k value $v }
    file mkdir [dict get $::mock_core root]
    mock_record ipx::package_project $args
}
proc mock_core_handle {cmd h} {
    mock_need $cmd $h
    if {![info exists ::mock_core] || $h ne "core:[dict get $::mock_core name]"} {
        error "ERROR: \[IP_Flow 19-3\] $cmd: '$h' is not the current core"
    }
}
proc ipx::current_core {args} {
    mock_check ipx::current_core $args
    if {![info exists ::mock_core]} { error "ERROR: \[IP_Flow 19-2\] no current core" }
    return core:[dict get $::mock_core name]
}
proc ipx::infer_bus_interfaces {args} {
    set c [mock_check ipx::infer_bus_interfaces $args]
    lassign [dict get $c positional] vlnv core
    mock_core_handle ipx::infer_bus_interfaces $core
    set ports [dict keys [dict get $::mock_core ports]]
    switch -- $vlnv {
        xilinx.com:interface:axis_rtl:1.0 {
            foreach p $ports {
                if {[regexp {^(.*)_tdata$} $p -> pre] && "${pre}_tvalid" in $ports} {
                    set mode [expr {[dict get $::mock_core ports $p] eq "input" ? "slave" : "master"}]
                    dict set ::mock_core busifs $pre [dict create kind axis mode $mode]
                }
            }
        }
        xilinx.com:interface:aximm_rtl:1.0 {
            foreach p $ports {
                if {[regexp {^(.*)_awaddr$} $p -> pre]} {
                    foreach sig $::AXIL_SIGNALS {
                        if {"${pre}_$sig" ni $ports} { error "ERROR: \[IP_Flow 19-4\] $pre: no ${pre}_$sig" }
                    }
                    dict set ::mock_core busifs $pre [dict create kind aximm mode slave]
                }
            }
        }
        default { error "ERROR: \[IP_Flow 19-5\] unknown bus definition '$vlnv'" }
    }
    mock_record ipx::infer_bus_interfaces $args
}
proc ipx::infer_bus_interface {args} {
    set c [mock_check ipx::infer_bus_interface $args]
    lassign [dict get $c positional] port vlnv core
    mock_core_handle ipx::infer_bus_interface $core
    if {![dict exists $::mock_core ports $port]} { error "ERROR: \[IP_Flow 19-6\] no port '$port'" }
    set kind [dict get {xilinx.com:signal:clock_rtl:1.0 clock xilinx.com:signal:reset_rtl:1.0 reset} $vlnv]
    dict set ::mock_core busifs $port [dict create kind $kind mode slave]
    mock_record ipx::infer_bus_interface $args
}
proc mock_of {cmd c} {
    set opts [dict get $c opts]
    if {![dict exists $opts -of_objects]} { error "ERROR: \[Common 17-163\] $cmd: missing option '-of_objects'" }
    set o [lindex [dict get $opts -of_objects] 0]
    mock_need "$cmd -of_objects" $o
    return $o
}
proc ipx::get_bus_interfaces {args} {
    set c [mock_check ipx::get_bus_interfaces $args]
    mock_core_handle ipx::get_bus_interfaces [mock_of ipx::get_bus_interfaces $c]
    set n [lindex [dict get $c positional] 0]
    return [expr {[dict exists $::mock_core busifs $n] ? "busif:$n" : ""}]
}
proc ipx::add_bus_parameter {args} {
    set c [mock_check ipx::add_bus_parameter $args]
    lassign [dict get $c positional] name busif
    mock_need ipx::add_bus_parameter $busif
    dict set ::mock_core busparams $busif $name {}
    mock_record ipx::add_bus_parameter $args
    return busparam:$busif:$name
}
proc ipx::get_bus_parameters {args} {
    set c [mock_check ipx::get_bus_parameters $args]
    set busif [mock_of ipx::get_bus_parameters $c]
    set n [lindex [dict get $c positional] 0]
    return [expr {[dict exists $::mock_core busparams $busif $n] ? "busparam:$busif:$n" : ""}]
}
proc ipx::associate_bus_interfaces {args} {
    set c [mock_check ipx::associate_bus_interfaces $args]
    mock_core_handle ipx::associate_bus_interfaces [lindex [dict get $c positional] 0]
    set opts [dict get $c opts]
    foreach {opt kind} {-busif {} -clock clock -reset reset} {
        if {![dict exists $opts $opt]} { continue }
        set n [lindex [dict get $opts $opt] 0]
        if {![dict exists $::mock_core busifs $n]} { error "ERROR: \[IP_Flow 19-7\] no bus interface '$n'" }
        if {$kind ne "" && [dict get $::mock_core busifs $n kind] ne $kind} {
            error "ERROR: \[IP_Flow 19-8\] '$n' is not a $kind interface"
        }
    }
    if {![dict exists $opts -clock]} { error "ERROR: \[IP_Flow 19-9\] associate_bus_interfaces needs -clock" }
    mock_record ipx::associate_bus_interfaces $args
}
proc ipx::add_memory_map {args} {
    set c [mock_check ipx::add_memory_map $args]
    lassign [dict get $c positional] name core
    mock_core_handle ipx::add_memory_map $core
    dict set ::mock_core mmaps $name {}
    mock_record ipx::add_memory_map $args
    return mmap:$name
}
proc ipx::get_memory_maps {args} {
    set c [mock_check ipx::get_memory_maps $args]
    mock_core_handle ipx::get_memory_maps [mock_of ipx::get_memory_maps $c]
    set n [lindex [dict get $c positional] 0]
    return [expr {[dict exists $::mock_core mmaps $n] ? "mmap:$n" : ""}]
}
proc ipx::add_address_block {args} {
    set c [mock_check ipx::add_address_block $args]
    lassign [dict get $c positional] name mmap
    mock_need ipx::add_address_block $mmap
    dict set ::mock_core mmaps [string range $mmap 5 end] $name
    mock_record ipx::add_address_block $args
    return addrblock:$name
}
proc ipx::get_address_blocks {args} {
    set c [mock_check ipx::get_address_blocks $args]
    set mmap [mock_of ipx::get_address_blocks $c]
    set n [lindex [dict get $c positional] 0]
    return [expr {[dict get $::mock_core mmaps [string range $mmap 5 end]] eq $n ? "addrblock:$n" : ""}]
}
proc ipx::get_user_parameters {args} {
    set c [mock_check ipx::get_user_parameters $args]
    mock_core_handle ipx::get_user_parameters [mock_of ipx::get_user_parameters $c]
    set n [lindex [dict get $c positional] 0]
    return [expr {[dict exists $::mock_core params $n] ? "userparam:$n" : ""}]
}
foreach step {create_xgui_files update_checksums check_integrity} {
    proc ipx::$step {args} [string map [list @S@ $step] {
        set c [mock_check ipx::@S@ $args]
        mock_core_handle ipx::@S@ [lindex [dict get $c positional] end]
        dict lappend ::mock_core steps @S@
        mock_record ipx::@S@ $args
    }]
}
# save_core writes component.xml, the catalog entry update_ip_catalog finds: IP-XACT in Vivado;
# here the VLNV and the parameters, after the xgui files and checksums exist, as IP_Flow requires.
proc ipx::save_core {args} {
    set c [mock_check ipx::save_core $args]
    mock_core_handle ipx::save_core [lindex [dict get $c positional] 0]
    foreach s {create_xgui_files update_checksums} {
        if {$s ni [dict get $::mock_core steps]} { error "ERROR: \[IP_Flow 19-10\] save_core before ipx::$s" }
    }
    set props [dict get $::mock_core props]
    set name [expr {[dict exists $props name] ? [dict get $props name] : [dict get $::mock_core name]}]
    set version [expr {[dict exists $props version] ? [dict get $props version] : "1.0"}]
    set vlnv "[dict get $::mock_core vendor]:[dict get $::mock_core library]:$name:$version"
    set fh [open [file join [dict get $::mock_core root] component.xml] w]
    puts $fh [list vlnv $vlnv uparams [dict get $::mock_core uparams] busifs [dict get $::mock_core busifs] \
              ports [dict get $::mock_core ports]]
    close $fh
    mock_record ipx::save_core $args
}

proc update_ip_catalog {args} {
    mock_check update_ip_catalog $args
    mock_need_project update_ip_catalog
    set ::mock_repo_cores [dict create]
    set ::mock_repo_info [dict create]
    foreach d $::mock_repo_paths {
        foreach f [glob -nocomplain -directory $d component.xml */component.xml] {
            set fh [open $f r]; set info [read $fh]; close $fh
            dict set ::mock_repo_cores [dict get $info vlnv] [dict get $info uparams]
            dict set ::mock_repo_info [dict get $info vlnv] $info
            lappend ::mock_catalog [dict get $info vlnv]
        }
    }
    mock_record update_ip_catalog $args
}
proc create_bd_design {args} {
    set c [mock_check create_bd_design $args]
    mock_need_project create_bd_design
    set ::mock_bd [lindex [dict get $c positional] 0]
    mock_record create_bd_design $args
}
proc create_bd_cell {args} {
    set c [mock_check create_bd_cell $args]
    if {$::mock_bd eq ""} { error "ERROR: \[BD 5-1\] create_bd_cell: no open block design" }
    set opts [dict get $c opts]
    set vlnv [lindex [dict get $opts -vlnv] 0]
    if {$vlnv ni $::mock_catalog} { error "ERROR: \[BD 5-390\] IP definition not found for VLNV: $vlnv" }
    set name [lindex [dict get $c positional] 0]
    dict set ::mock_cells $name $vlnv
    mock_record create_bd_cell $args
    return /$name
}
proc get_bd_cells {args} {
    set c [mock_check get_bd_cells $args]
    set n [string trimleft [lindex [dict get $c positional] 0] /]
    return [expr {[dict exists $::mock_cells $n] ? "/$n" : ""}]
}
# A pin of a cell of the packaged core must be one of its ports (pins) or bus interfaces
# (interface pins); Xilinx IP pins are taken on trust.
proc mock_bd_pin {cmd kind path} {
    set path [string trimleft $path /]
    lassign [split $path /] cell pin
    if {![dict exists $::mock_cells $cell]} { return "" }
    set vlnv [dict get $::mock_cells $cell]
    if {[dict exists $::mock_repo_info $vlnv]} {
        set info [dict get $::mock_repo_info $vlnv]
        if {![dict exists $info $kind $pin]} { return "" }
    }
    return /$path
}
proc get_bd_pins {args} {
    set c [mock_check get_bd_pins $args]
    return [mock_bd_pin get_bd_pins ports [lindex [dict get $c positional] 0]]
}
proc get_bd_intf_pins {args} {
    set c [mock_check get_bd_intf_pins $args]
    return [mock_bd_pin get_bd_intf_pins busifs [lindex [dict get $c positional] 0]]
}
proc connect_bd_intf_net {args} {
    set c [mock_check connect_bd_intf_net $args]
    foreach p [dict get $c positional] {
        mock_need connect_bd_intf_net $p
        if {$p in $::mock_connected} { error "ERROR: \[BD 5-106\] $p is already connected" }
        lappend ::mock_connected $p
    }
    mock_record connect_bd_intf_net $args
}
proc connect_bd_net {args} {
    set c [mock_check connect_bd_net $args]
    foreach p [dict get $c positional] { mock_need connect_bd_net $p; lappend ::mock_connected $p }
    mock_record connect_bd_net $args
}
proc apply_bd_automation {args} {
    set c [mock_check apply_bd_automation $args]
    set rule [lindex [dict get [dict get $c opts] -rule] 0]
    if {$rule ni $::BD_RULES} { error "ERROR: \[BD 5-xx\] unknown automation rule '$rule'" }
    set object [lindex [dict get $c positional] 0]
    mock_need apply_bd_automation $object
    if {$rule eq "xilinx.com:bd_rule:axi4" && [dict exists [dict get $c opts] -config]} {
        set cfg [lindex [dict get [dict get $c opts] -config] 0]
        foreach k {Master Slave} {
            if {[dict exists $cfg $k]} { lappend ::mock_connected [dict get $cfg $k] }
        }
    }
    mock_record apply_bd_automation $args
}
# validate_bd_design: every port and bus interface of each packaged-core cell is connected.
proc validate_bd_design {args} {
    mock_check validate_bd_design $args
    dict for {cell vlnv} $::mock_cells {
        if {![dict exists $::mock_repo_info $vlnv]} { continue }
        set info [dict get $::mock_repo_info $vlnv]
        dict for {busif d} [dict get $info busifs] {
            set path /$cell/$busif
            if {$path ni $::mock_connected} { error "ERROR: \[BD 41-759\] $path is not connected" }
        }
    }
    mock_record validate_bd_design $args
}
proc make_wrapper {args} {
    set c [mock_check make_wrapper $args]
    set f [lindex [dict get [dict get $c opts] -files] 0]
    mock_need make_wrapper $f
    set w [file join [file dirname $f] hdl [file rootname [file tail $f]]_wrapper.v]
    file mkdir [file dirname $w]
    set fh [open $w w]; puts $fh "module [file rootname [file tail $f]]_wrapper ();\nendmodule"; close $fh
    mock_record make_wrapper $args
    return $w
}
proc save_bd_design {args} {
    mock_check save_bd_design $args
    if {$::mock_bd eq ""} { error "ERROR: \[BD 5-1\] save_bd_design: no open block design" }
    # the .bd file Vivado writes under <project>.srcs/sources_1/bd/<name>/
    set f [file join $::mock_project_dir $::mock_project.srcs sources_1 bd $::mock_bd $::mock_bd.bd]
    file mkdir [file dirname $f]
    set fh [open $f w]; puts $fh "mock bd"; close $fh
    if {$f ni $::mock_files} { lappend ::mock_files $f }
    mock_record save_bd_design $args
}
proc generate_target {args} {
    set c [mock_check generate_target $args]
    mock_need generate_target [lindex [dict get $c positional] 1]
    mock_record generate_target $args
}
proc get_runs {args} {
    set c [mock_check get_runs $args]
    set n [lindex [dict get $c positional] 0]
    return [expr {$n in {synth_1 impl_1} ? "run:$n" : ""}]
}
proc launch_runs {args} {
    set c [mock_check launch_runs $args]
    mock_need_project launch_runs
    if {![string match *_wrapper $::mock_top]} { error "ERROR: \[Vivado 12-xx\] launch_runs: top is not the BD wrapper" }
    mock_record launch_runs $args
}
proc wait_on_run {args} { mock_check wait_on_run $args; mock_record wait_on_run $args }
proc assign_bd_address {args} {
    mock_check assign_bd_address $args
    if {$::mock_bd eq ""} { error "ERROR: \[BD 5-1\] assign_bd_address: no open block design" }
    mock_record assign_bd_address $args
}
rename get_property mock_timing_get_property
proc get_property {args} {
    set c [mock_check get_property $args]
    lassign [dict get $c positional] name object
    if {[string match run:* $object]} {
        mock_record get_property $args
        if {$name ne "STATUS"} { error "ERROR: \[Common 17-58\] mock: run property '$name'" }
        return [expr {[info exists ::env(MOCK_VIVADO_RUN_STATUS)] ? $::env(MOCK_VIVADO_RUN_STATUS)
                      : "write_bitstream Complete!"}]
    }
    return [mock_timing_get_property {*}$args]
}

set argv0 $::mock_script
set argv  [lrange $argv 2 end]
set argc  [llength $argv]
source $::mock_script
