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

set argv0 $::mock_script
set argv  [lrange $argv 2 end]
set argc  [llength $argv]
source $::mock_script
