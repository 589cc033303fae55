# Stand-in for `vitis_hls -f <script> -tclargs <args>` under plain tclsh, for
# tests/hls/test_vitis_tcl.py:
#
#   tclsh tests/hls/mock_vitis.tcl <log.jsonl> <script.tcl> [script args...]
#
# Every Vitis HLS Tcl command the flow may call is a proc that appends one JSON line
# {"cmd": name, "args": [...], "cwd": dir} to <log.jsonl>; argv/argc/argv0 are set as -tclargs
# sets them, then the script is sourced (so its [info script] is its own path).
# csynth_design also writes a small syn/report/csynth.xml into <project>/<solution>, as the tool
# does. MOCK_VITIS_FAIL=<command> makes that command raise a Tcl error, as a failing csim does.

if {$argc < 2} {
    puts stderr "usage: tclsh mock_vitis.tcl <log.jsonl> <script.tcl> \[args...\]"
    exit 64
}
set ::mock_log    [lindex $argv 0]
set ::mock_script [lindex $argv 1]
set ::mock_project ""
set ::mock_solution ""

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

# The last word that is not an option: the project/solution name.
proc mock_name {arglist} {
    set name ""
    foreach a $arglist {
        if {[string index $a 0] ne "-"} { set name $a }
    }
    return $name
}

foreach cmd {
    add_files close_project close_solution config_array_partition config_compile config_dataflow
    config_export config_interface config_rtl config_schedule cosim_design create_clock
    csim_design delete_project delete_solution export_design set_clock_uncertainty
    set_directive_interface set_directive_pipeline set_directive_unroll set_part set_top
} {
    proc $cmd {args} "mock_record $cmd \$args"
}

proc open_project {args} {
    mock_record open_project $args
    set ::mock_project [mock_name $args]
    file mkdir $::mock_project
}

proc open_solution {args} {
    mock_record open_solution $args
    set ::mock_solution [mock_name $args]
    file mkdir [file join $::mock_project $::mock_solution]
}

proc csynth_design {args} {
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
