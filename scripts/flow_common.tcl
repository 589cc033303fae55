# What every Xilinx-tool flow script here does the same way. Set ::flow_name (the script's
# file name) before sourcing this file. Only Tcl 8.5 features.

# Bad options: one line naming the problem, exit 2, before any tool command.
proc die {msg} {
    puts stderr "$::flow_name: error: $msg"
    exit 2
}

# Run one tool step; an error ends the run with one line naming the step and exit code 1.
proc step {what args} {
    if {[catch {uplevel #0 $args} msg]} {
        puts stderr "$::flow_name: $what failed: [lindex [split $msg \n] 0]"
        exit 1
    }
    return $msg
}

# The product units (ARITH) and weight formats (FORMAT) of conv_engine: the core registry's
# (spec/cores.hjson), through its generated Tcl view next to this file.
source [file join [file dirname [file normalize [info script]]] cores.tcl]
