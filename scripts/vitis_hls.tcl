# Vitis HLS flow for one HLS convolution kernel (docs/hls.md): C simulation against the golden
# vectors, C synthesis, C/RTL co-simulation, IP export.
#
#   vitis_hls -f scripts/vitis_hls.tcl -tclargs [-option value]...           (Vitis HLS <= 2024.1)
#   CONV_HLS_TCLARGS="[-option value]..." vitis-run --mode hls --tcl scripts/vitis_hls.tcl
#                                              (2024.2 on, where `vitis_hls -f` is deprecated;
#                                               vitis-run documents no -tclargs, so the options
#                                               come in the environment, used when argv is empty)
#
# Every option is a -name value pair and has a default:
#
#   option          values                       default
#   -kernel         mult | shift | plut          shift     top conv_<kernel>, hls/conv_<kernel>.cpp,
#                                                          testbench hls/tb/tb_conv_<kernel>.cpp
#   -format         dense | krp | ikr            dense     -DCONV_FORMAT=0 | 1 | 2
#   -target         z7035 | kv260                z7035     part and clock period: scripts/clock_targets.tcl
#   -clock          period in ns                 (target)  overrides the target's clock period
#   -steps          comma list of                csim,csynth,cosim,export
#                   csim csynth cosim export               always run in that order; cosim and
#                                                          export without csynth reuse the solution
#                                                          of an earlier run (same options!)
#   -defines        "NAME=VALUE ..."             ""        extra macros for design and testbench;
#                                                          override the kernel defaults (KERNELS)
#   -vectors        dir                          build/vectors   root of the vector sets
#   -csim_vectors   dir                          <vectors>/<scheme>-<format>   (whole layer)
#   -cosim_vectors  dir                          <vectors>/<scheme>-<format>-t16x64x6x10 (a tile)
#   -out            dir                          build/hls/vitis  project <kernel>_<format>_<target>
#   -flow           vivado | vitis               vivado    open_solution -flow_target
#   -export_flow    none | syn | impl            none      export also runs Vivado synthesis or
#                                                          implementation of the IP (export_design
#                                                          -flow): post-route timing and resources
#
# <scheme> is the kernel's default weight code (spec/cores.hjson: hls_default). Relative paths
# given on the command line are taken from the current directory; the defaults live under the
# repository root, found from this script's location (so the cwd does not matter).
#
# Bad options or values, and missing vector sets, stop the script with a one-line message and
# exit code 2 before any Vitis command runs; a failing Vitis step exits with code 1.
# After csynth the latency and resources from syn/report/csynth.xml are printed on one line and
# written to <out>/<project>_csynth.json.
#
# Only Tcl 8.5 features (the Xilinx tools' interpreter): no try, lmap or dict map.

if {[info script] eq ""} {
    puts stderr "vitis_hls.tcl: error: run it as a script (vitis_hls -f scripts/vitis_hls.tcl)"
    exit 2
}
set script_dir [file dirname [file normalize [info script]]]
set repo_dir   [file dirname $script_dir]
# -tclargs sets argv; without it some tool versions leave argv undefined. vitis-run has no
# -tclargs: the options then come in CONV_HLS_TCLARGS (a Tcl list, as typed on a command line).
if {![info exists argv]} { set argv {} }
if {![llength $argv] && [info exists ::env(CONV_HLS_TCLARGS)]} {
    if {[catch {llength $::env(CONV_HLS_TCLARGS)}]} {
        puts stderr "vitis_hls.tcl: error: CONV_HLS_TCLARGS is not a well-formed option list"
        exit 2
    }
    set argv $::env(CONV_HLS_TCLARGS)
}

# Targets: part and clock period of each device, from the one table the RTL flow reads too
# (scripts/clock_targets.tcl; -clock overrides the period for one run). Vitis HLS schedules
# with its default clock uncertainty (27% of the period) on top.
source [file join $script_dir clock_targets.tcl]
set TARGETS {}
dict for {name t} $CLOCK_TARGETS {
    dict set TARGETS $name [dict create part [dict get $t part] clock [dict get $t period_ns]]
}

# Per kernel (product unit): default weight scheme (names the vector sets) and its code-width
# macros, and the weight formats, from the core registry (scripts/cores.tcl, generated from
# spec/cores.hjson).
source [file join $script_dir cores.tcl]
set KERNELS {}
dict for {name unit} $CORE_ARITHS {
    dict set KERNELS $name [dict create scheme [dict get $unit scheme] defines [dict get $unit defines]]
}
set FORMATS    $CORE_FORMATS
set STEPS      {csim csynth cosim export}
set FLOWS      {vivado vitis}
set EXPORT_FLOWS {none syn impl}
# RTL co-simulation of the whole layer (3.6 M cycles of a 16x16 core) takes hours: cosim uses this
# small tile export by default (`python -m pymodel export`, docs/vector_format.md).
set COSIM_TILE t16x64x6x10

# IP catalog identity (VLNV = vendor:library:conv_<kernel>:version).
set IP_VENDOR  potconv
set IP_LIBRARY hls
set IP_VERSION 1.0

# ---------------------------------------------------------------------------------------------

proc die {msg} {
    puts stderr "vitis_hls.tcl: error: $msg"
    exit 2
}

# argv -> dict of options, every value checked; unknown options and missing values are errors.
proc parse_args {argv} {
    global TARGETS KERNELS FORMATS STEPS FLOWS EXPORT_FLOWS
    set opt [dict create kernel shift format dense target z7035 clock "" \
                 steps [join $STEPS ,] defines "" vectors "" csim_vectors "" cosim_vectors "" \
                 out "" flow vivado export_flow none]
    if {[lindex $argv 0] in {-h -help}} {
        puts "usage: vitis_hls -f scripts/vitis_hls.tcl -tclargs \[-kernel [join [dict keys $KERNELS] |]\]\
              \[-format dense|krp|ikr\] \[-target z7035|kv260\] \[-clock NS\]\
              \[-steps csim,csynth,cosim,export\] \[-defines \"NAME=VALUE ...\"\]\
              \[-vectors DIR\] \[-csim_vectors DIR\] \[-cosim_vectors DIR\] \[-out DIR\]\
              \[-flow vivado|vitis\] \[-export_flow none|syn|impl\]"
        puts "   or: CONV_HLS_TCLARGS=\"-kernel ... \" vitis-run --mode hls --tcl scripts/vitis_hls.tcl"
        exit 0
    }
    if {[llength $argv] % 2} {
        die "option [lindex $argv end] has no value (options are -name value pairs)"
    }
    foreach {name value} $argv {
        set key [string range $name 1 end]
        if {[string index $name 0] ne "-" || ![dict exists $opt $key]} {
            die "unknown option $name (known: -[join [dict keys $opt] { -}])"
        }
        dict set opt $key $value
    }
    set checks [list kernel [dict keys $KERNELS] format [dict keys $FORMATS] \
                    target [dict keys $TARGETS] flow $FLOWS export_flow $EXPORT_FLOWS]
    foreach {key allowed} $checks {
        if {[lsearch -exact $allowed [dict get $opt $key]] < 0} {
            die "-$key must be [join $allowed { | }] (got '[dict get $opt $key]')"
        }
    }
    set clock [dict get $opt clock]
    if {$clock ne "" && (![string is double -strict $clock] || $clock <= 0)} {
        die "-clock must be a positive period in ns (got '$clock')"
    }
    dict set opt steps [parse_steps [dict get $opt steps]]
    dict set opt defines [parse_defines [dict get $opt defines]]
    return $opt
}

# "csynth,csim" -> {csim csynth}: known steps only, run in the canonical order.
proc parse_steps {text} {
    global STEPS
    set wanted {}
    foreach s [split $text ,] {
        set s [string trim $s]
        if {[lsearch -exact $STEPS $s] < 0} {
            die "-steps: unknown step '$s' (known: [join $STEPS ,])"
        }
        lappend wanted $s
    }
    set steps {}
    foreach s $STEPS {
        if {[lsearch -exact $wanted $s] >= 0} { lappend steps $s }
    }
    if {![llength $steps]} { die "-steps is empty (known: [join $STEPS ,])" }
    return $steps
}

# "A=1 B=2" -> dict; a name is a C identifier, a value a plain token (no quotes, spaces or
# shell/Tcl specials), because it lands in a -cflags string that the tool splits on spaces.
proc parse_defines {text} {
    set defs [dict create]
    foreach item [regexp -all -inline {\S+} $text] {
        if {![regexp {^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9_.+-]+)$} $item -> name value]} {
            die "-defines: malformed '$item' (expected NAME=VALUE, VALUE a number or identifier)"
        }
        if {$name eq "CONV_FORMAT"} {
            die "-defines: CONV_FORMAT is set by -format"
        }
        dict set defs $name $value
    }
    return $defs
}

# A vector set is a directory with manifest.json (docs/vector_format.md); the testbench gets
# it as an absolute path because csim and cosim run from inside the solution directory.
proc check_vector_dir {what dir} {
    set dir [file normalize $dir]
    if {![file isdirectory $dir]} {
        die "$what: vector set $dir does not exist (run 'make vectors' or pass $what DIR)"
    }
    if {![file isfile [file join $dir manifest.json]]} {
        die "$what: $dir has no manifest.json (not a vector set)"
    }
    if {[regexp {\s} $dir]} {
        die "$what: path '$dir' contains whitespace (the testbench -argv string is split on spaces)"
    }
    return $dir
}

# Tcl string -> JSON string literal.
proc json_str {s} {
    set map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t]
    return "\"[string map $map $s]\""
}

# A csynth.xml value -> JSON number, or null for "undef"/absent (data-dependent loop bounds).
proc json_num {v} {
    if {[string is double -strict $v]} { return $v }
    return null
}

# First <tag>value</tag> inside xml, or "".
proc xml_value {xml tag} {
    if {[regexp "<$tag>(\[^<\]*)</$tag>" $xml -> v]} { return [string trim $v] }
    return ""
}

# Latency and resources of the top from syn/report/csynth.xml -> one line + <out>/<proj>_csynth.json.
proc csynth_summary {sol_dir json_file info} {
    set rpt [file join $sol_dir syn report conv_[dict get $info kernel]_csynth.rpt]
    set xml_file [file join $sol_dir syn report csynth.xml]
    puts "vitis_hls.tcl: csynth report: $rpt"
    if {![file isfile $xml_file]} {
        puts "vitis_hls.tcl: no $xml_file, no summary"
        return
    }
    set fh [open $xml_file r]
    set xml [read $fh]
    close $fh
    set lat ""
    set res ""
    regexp {<SummaryOfOverallLatency>(.*?)</SummaryOfOverallLatency>} $xml -> lat
    regexp {<AreaEstimates>.*?<Resources>(.*?)</Resources>} $xml -> res
    set r [dict create \
        latency_best  [xml_value $lat Best-caseLatency] \
        latency_worst [xml_value $lat Worst-caseLatency] \
        interval_min  [xml_value $lat Interval-min] \
        interval_max  [xml_value $lat Interval-max] \
        estimated_clock_ns [xml_value $xml EstimatedClockPeriod] \
        BRAM_18K [xml_value $res BRAM_18K] \
        DSP      [xml_value $res DSP] \
        FF       [xml_value $res FF] \
        LUT      [xml_value $res LUT] \
        URAM     [xml_value $res URAM]]
    # Vitis HLS before 2021 names the DSP column DSP48E.
    if {[dict get $r DSP] eq ""} { dict set r DSP [xml_value $res DSP48E] }

    set line "vitis_hls.tcl: csynth [dict get $info project]: latency\
        [dict get $r latency_best]..[dict get $r latency_worst] cycles, clock\
        [dict get $info clock_ns] ns (estimated [dict get $r estimated_clock_ns]),"
    foreach k {BRAM_18K DSP FF LUT URAM} { append line " $k [dict get $r $k]" }
    puts $line

    set fields {}
    foreach k [dict keys $info] {
        set v [dict get $info $k]
        lappend fields "  [json_str $k]: [expr {$k eq "clock_ns" ? [json_num $v] : [json_str $v]}]"
    }
    foreach k [dict keys $r] {
        lappend fields "  [json_str $k]: [json_num [dict get $r $k]]"
    }
    lappend fields "  \"report\": [json_str $rpt]"
    set fh [open $json_file w]
    puts $fh "\{\n[join $fields ",\n"]\n\}"
    close $fh
    puts "vitis_hls.tcl: summary in $json_file"
}

# Run one Vitis step; a Tcl error from the tool (e.g. the testbench returned non-zero) ends the
# run with exit code 1 and one line naming the step, after closing the project cleanly.
proc run_step {step args} {
    puts "vitis_hls.tcl: --- $step"
    if {[catch {uplevel #0 $args} msg]} {
        puts stderr "vitis_hls.tcl: $step failed: [lindex [split $msg \n] 0]"
        catch close_project
        exit 1
    }
}

# ---------------------------------------------------------------------------------------------
# options

set opt    [parse_args $argv]
set kernel [dict get $opt kernel]
set format [dict get $opt format]
set target [dict get $opt target]
set flow   [dict get $opt flow]
set steps  [dict get $opt steps]
set part   [dict get $TARGETS $target part]
set clock  [dict get $opt clock]
if {$clock eq ""} { set clock [dict get $TARGETS $target clock] }
set scheme [dict get $KERNELS $kernel scheme]
set top    conv_$kernel

if {[regexp {\s} $repo_dir]} {
    die "repository path '$repo_dir' contains whitespace (the -I flags are split on spaces)"
}
set src [file join $repo_dir hls $top.cpp]
set tb  [file join $repo_dir hls tb tb_$top.cpp]
foreach f [list $src $tb] {
    if {![file isfile $f]} { die "source $f does not exist" }
}

# Vector sets: explicit ones are always checked, defaults only when their step runs.
set vectors [dict get $opt vectors]
if {$vectors eq ""} { set vectors [file join $repo_dir build vectors] }
set csim_vectors  [dict get $opt csim_vectors]
set cosim_vectors [dict get $opt cosim_vectors]
if {$csim_vectors ne "" || "csim" in $steps} {
    if {$csim_vectors eq ""} { set csim_vectors [file join $vectors $scheme-$format] }
    set csim_vectors [check_vector_dir -csim_vectors $csim_vectors]
}
if {$cosim_vectors ne "" || "cosim" in $steps} {
    if {$cosim_vectors eq ""} { set cosim_vectors [file join $vectors $scheme-$format-$COSIM_TILE] }
    set cosim_vectors [check_vector_dir -cosim_vectors $cosim_vectors]
}

# Macros: the format, the kernel's scheme defaults, then -defines (which override defaults).
set defines [dict merge [dict get $KERNELS $kernel defines] [dict get $opt defines]]
set dflags  [list -DCONV_FORMAT=[dict get $FORMATS $format]]
dict for {name value} $defines { lappend dflags -D$name=$value }
set inc     [file join $repo_dir hls include]
set design_cflags [join [concat [list -I$inc] $dflags]]
# The testbench includes conv_<kernel>.h from hls/ and its helpers from hls/tb (as
# scripts/hls_csim.py compiles it; tests/hls/test_vitis_tcl.py feeds these flags to g++).
set tb_cflags     [join [concat [list -I$inc -I[file join $repo_dir hls] -I[file join $repo_dir hls tb]] $dflags]]

set out [dict get $opt out]
if {$out eq ""} { set out [file join $repo_dir build hls vitis] }
set out [file normalize $out]
set project  ${kernel}_${format}_${target}
# One solution per flow target so Vivado-IP and Vitis-kernel results can sit side by side.
set solution sol_$flow
set sol_dir  [file join $out $project $solution]

# cosim and export work on the RTL of csynth: without csynth in this run it must already exist.
if {"csynth" ni $steps && ("cosim" in $steps || "export" in $steps)} {
    if {![file isfile [file join $sol_dir syn report csynth.xml]]} {
        die "-steps [join $steps ,] needs csynth: no synthesized solution in $sol_dir"
    }
}

# ---------------------------------------------------------------------------------------------
# project

file mkdir $out
cd $out
puts "vitis_hls.tcl: $project: $top part $part clock ${clock} ns flow $flow steps [join $steps ,]"
puts "vitis_hls.tcl: cflags $design_cflags"

# Every tool command below runs inside run_step: a Tcl error (an unknown part, a bad source) ends
# the run with one line naming the step and exit code 1, not an uncaught Tcl trace.
# -reset drops the previous file list and cflags (so changed -defines take effect) but keeps
# the solution directories, which a cosim/export-only run needs.
run_step project open_project -reset $project
run_step project set_top $top
run_step project add_files $src -cflags $design_cflags
run_step project add_files -tb $tb -cflags $tb_cflags

# A run that synthesizes starts from a clean solution; one that only reuses it must not reset.
if {"csynth" in $steps} {
    run_step solution open_solution -flow_target $flow -reset $solution
} else {
    run_step solution open_solution -flow_target $flow $solution
}
run_step solution set_part $part
run_step solution create_clock -period $clock -name default

foreach step $steps {
    switch -- $step {
        csim {
            # -O: the whole layer is ~0.9 G multiply-adds on ap_int types; -clean: the cflags
            # may have changed since the last incremental build.
            run_step csim csim_design -clean -O -argv $csim_vectors
        }
        csynth {
            run_step csynth csynth_design
            set info [dict create project $project kernel $kernel format $format target $target \
                          part $part clock_ns $clock flow $flow defines [join [lrange $dflags 1 end]]]
            csynth_summary $sol_dir [file join $out ${project}_csynth.json] $info
        }
        cosim {
            run_step cosim cosim_design -rtl verilog -argv $cosim_vectors
        }
        export {
            # The Vivado IP flow packages for the IP catalog; a Vitis-kernel solution exports
            # the .xo that v++ links.
            # -export_flow syn|impl: Vivado synthesizes / places and routes the exported RTL out
            # of context and reports its timing and resources (export_design -flow).
            set fmt [expr {$flow eq "vivado" ? "ip_catalog" : "xo"}]
            set eflow [dict get $opt export_flow]
            set flow_args [expr {$eflow eq "none" ? {} : [list -flow $eflow]}]
            run_step export export_design {*}$flow_args -format $fmt -rtl verilog \
                -vendor $IP_VENDOR -library $IP_LIBRARY -version $IP_VERSION \
                -description "pot-conv $top, $format weights, [join [lrange $dflags 1 end]]" \
                -display_name "$top ($format)"
            puts "vitis_hls.tcl: exported to [file join $sol_dir impl]"
            if {$eflow ne "none"} {
                puts "vitis_hls.tcl: Vivado $eflow reports in [file join $sol_dir impl report verilog]"
            }
        }
    }
}

run_step close close_project
puts "vitis_hls.tcl: $project: done ([join $steps ,])"
exit 0
