# Stand-in for `vitis_hls -f <script> -tclargs <args>` under plain tclsh, for
# tests/hls/test_vitis_tcl.py:
#
#   tclsh tests/hls/mock_vitis.tcl <log.jsonl> <script.tcl> [script args...]
#
# Every Vitis HLS Tcl command the flow may call is a proc that checks its arguments against the
# command's documented syntax (table COMMANDS, from UG1399 "Vitis HLS Command Reference",
# 2020.2-2024.1), then appends one JSON line {"cmd": name, "args": [...], "cwd": dir} to
# <log.jsonl>. Anything else is an error, as in the tool: an option the command does not
# document, a missing option value or positional argument, a value outside its documented set,
# a command before the project/solution it needs is open (UG1399: set_top/add_files need
# open_project; set_part, create_clock and the *_design commands need open_solution; cosim and
# export need a synthesized solution). Unknown commands fail as in any tclsh.
# argv/argc/argv0 are set as -tclargs sets them, then the script is sourced (so its
# [info script] is its own path). csynth_design writes a small syn/report/csynth.xml into
# <project>/<solution>, as the tool does. MOCK_VITIS_FAIL=<command> makes that command raise a
# Tcl error, as a failing csim does.

if {$argc < 2} {
    puts stderr "usage: tclsh mock_vitis.tcl <log.jsonl> <script.tcl> \[args...\]"
    exit 64
}
set ::mock_log    [lindex $argv 0]
set ::mock_script [lindex $argv 1]
set ::mock_project ""
set ::mock_solution ""

# name -> {options {-opt arity ...} values {-opt {allowed...}} positional {min max} needs project|solution|csynth}
# arity 0: a switch; 1: takes one value. Options may come in any order, as in the tool.
set ::COMMANDS {
    open_project  {options {-reset 0 -upgrade 0} positional {1 1}}
    close_project {options {} positional {0 0}}
    set_top       {options {} positional {1 1} needs project}
    add_files     {options {-blackbox 1 -cflags 1 -csimflags 1 -tb 0} positional {1 1000} needs project}
    open_solution {options {-flow_target 1 -reset 0} values {-flow_target {vitis vivado}}
                   positional {1 1} needs project}
    close_solution {options {} positional {0 0} needs solution}
    set_part      {options {} positional {1 1} needs solution}
    create_clock  {options {-period 1 -name 1} required {-period} positional {0 0} needs solution}
    set_clock_uncertainty {options {} positional {1 2} needs solution}
    csim_design   {options {-O 0 -argv 1 -clean 0 -ldflags 1 -mflags 1 -profile 0 -setup 0}
                   positional {0 0} needs solution}
    csynth_design {options {-dump_cfg 0 -dump_post_cfg 0 -synthesis_check 0} positional {0 0}
                   needs solution}
    cosim_design  {options {-O 0 -argv 1 -compiled_library_dir 1 -coverage 0
                            -disable_deadlock_detection 0 -disable_dependency_check 0
                            -enable_dataflow_profiling 0 -enable_fifo_sizing 0 -ldflags 1 -mflags 1
                            -random_stall 0 -rtl 1 -setup 0 -tool 1 -trace_level 1 -wave_debug 0}
                   values {-rtl {verilog vhdl} -tool {auto vcs modelsim riviera isim xsim ncsim xceligen}
                           -trace_level {none all port port_hier}}
                   positional {0 0} needs csynth}
    export_design {options {-description 1 -display_name 1 -flow 1 -format 1 -ipname 1 -library 1
                            -output 1 -rtl 1 -taxonomy 1 -vendor 1 -version 1}
                   values {-flow {none syn impl} -format {ip_catalog xo syn_dcp sysgen}
                           -rtl {verilog vhdl}}
                   positional {0 0} needs csynth}
}

proc mock_json_str {s} {
    set map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t]
    return "\"[string map $map $s]\""
}

proc mock_record {name arglist} {
    set items {}
    foreach a $arglist { lappend items [mock_json_str $a] }
    set fh [open $::mock_log a]
    puts $fh "{\"cmd\": [mock_json_str $name], \"args\": \[[join $items {, }]\],\
              \"cwd\": [mock_json_str [pwd]]}"
    close $fh
    if {[info exists ::env(MOCK_VITIS_FAIL)] && $::env(MOCK_VITIS_FAIL) eq $name} {
        error "mock: $name failed"
    }
}

# Check arglist against the table; return the positional arguments. Errors read like the tool's.
proc mock_check {name arglist} {
    set spec [dict get $::COMMANDS $name]
    set options [dict get $spec options]
    set values [expr {[dict exists $spec values] ? [dict get $spec values] : {}}]
    set positional {}
    set seen {}
    for {set i 0} {$i < [llength $arglist]} {incr i} {
        set a [lindex $arglist $i]
        if {[string index $a 0] eq "-" && ![string is double -strict $a]} {
            if {![dict exists $options $a]} {
                error "ERROR: \[HLS 200-xxx\] $name: unknown option '$a' (documented: [dict keys $options])"
            }
            if {[dict get $options $a]} {
                incr i
                if {$i >= [llength $arglist]} { error "ERROR: $name: option '$a' needs a value" }
                set v [lindex $arglist $i]
                if {[dict exists $values $a] && [lsearch -exact [dict get $values $a] $v] < 0} {
                    error "ERROR: $name: '$a $v' is not one of [dict get $values $a]"
                }
            }
            lappend seen $a
        } else {
            lappend positional $a
        }
    }
    lassign [dict get $spec positional] lo hi
    if {[llength $positional] < $lo || [llength $positional] > $hi} {
        error "ERROR: $name: expects $lo..$hi positional argument(s), got [llength $positional]: $positional"
    }
    if {[dict exists $spec required]} {
        foreach r [dict get $spec required] {
            if {$r ni $seen} { error "ERROR: $name: option $r is required" }
        }
    }
    if {[dict exists $spec needs]} {
        switch -- [dict get $spec needs] {
            project  { if {$::mock_project eq ""} { error "ERROR: $name: no open project" } }
            solution { if {$::mock_solution eq ""} { error "ERROR: $name: no open solution" } }
            csynth {
                if {$::mock_solution eq ""} { error "ERROR: $name: no open solution" }
                set xml [file join $::mock_project $::mock_solution syn report csynth.xml]
                if {![file isfile $xml]} { error "ERROR: $name: the solution is not synthesized" }
            }
        }
    }
    return $positional
}

dict for {cmd spec} $::COMMANDS {
    proc $cmd {args} "mock_check $cmd \$args; mock_record $cmd \$args"
}

proc open_project {args} {
    set pos [mock_check open_project $args]
    mock_record open_project $args
    set ::mock_project [lindex $pos 0]
    file mkdir $::mock_project
}

proc close_project {args} {
    mock_check close_project $args
    mock_record close_project $args
    set ::mock_project ""
    set ::mock_solution ""
}

proc add_files {args} {
    set pos [mock_check add_files $args]
    foreach f $pos {
        if {![file isfile $f]} { error "ERROR: \[HLS 200-70\] Cannot find source file $f" }
    }
    mock_record add_files $args
}

proc open_solution {args} {
    set pos [mock_check open_solution $args]
    mock_record open_solution $args
    set ::mock_solution [lindex $pos 0]
    if {"-reset" in $args} { file delete -force [file join $::mock_project $::mock_solution] }
    file mkdir [file join $::mock_project $::mock_solution]
}

proc set_part {args} {
    set pos [mock_check set_part $args]
    if {[info exists ::env(MOCK_VITIS_NO_PART)] && [lindex $pos 0] eq $::env(MOCK_VITIS_NO_PART)} {
        error "ERROR: \[HLS 200-1611\] Part '[lindex $pos 0]' is not installed"
    }
    mock_record set_part $args
}

proc create_clock {args} {
    mock_check create_clock $args
    set i [lsearch -exact $args -period]
    set period [lindex $args [expr {$i + 1}]]
    if {![string is double -strict $period] || $period <= 0} {
        error "ERROR: create_clock: -period must be a positive number of ns (got '$period')"
    }
    mock_record create_clock $args
}

proc csynth_design {args} {
    mock_check csynth_design $args
    mock_record csynth_design $args
    set dir [file join $::mock_project $::mock_solution syn report]
    file mkdir $dir
    set fh [open [file join $dir csynth.xml] w]
    puts $fh {<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <UserAssignments><TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.912</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit>
      <Best-caseLatency>1234</Best-caseLatency>
      <Average-caseLatency>undef</Average-caseLatency>
      <Worst-caseLatency>5678</Worst-caseLatency>
      <Interval-min>1235</Interval-min>
      <Interval-max>undef</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>12</BRAM_18K><DSP>0</DSP><FF>3456</FF><LUT>7890</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>1000</BRAM_18K><DSP>900</DSP><FF>343800</FF><LUT>171900</LUT><URAM>0</URAM></AvailableResources>
  </AreaEstimates>
</profile>}
    close $fh
}

set argv0 $::mock_script
set argv  [lrange $argv 2 end]
set argc  [llength $argv]
source $::mock_script
