`default_nettype none
// Per-lane activation select of the MULT and SHIFT product units: output lane o, input
// lane i takes candidate sel[o][i] of input lane i (conv_window_select / conv_lane_index).
// With one candidate (dense) it is wiring: every output lane shares the activation.
// Combinational (the units register after their arithmetic).
module conv_lane_select #(
    parameter PAR_IN  = 16,
    parameter PAR_OUT = 16,
    parameter A_BITS  = 8,
    parameter NCAND   = 1,  // candidates per input lane
    parameter SEL_W   = 1   // candidate index bits
) (
    input  wire [NCAND*PAR_IN*A_BITS-1:0]   cand,  // candidate c, lane i at [(c*PAR_IN+i)*A_BITS +: A_BITS]
    input  wire [PAR_OUT*PAR_IN*SEL_W-1:0]  sel,   // lane o*PAR_IN+i at [(o*PAR_IN+i)*SEL_W +: SEL_W]
    output reg  [PAR_OUT*PAR_IN*A_BITS-1:0] act    // lane o*PAR_IN+i at [(o*PAR_IN+i)*A_BITS +: A_BITS]
);

generate
    if (NCAND < 1 || (1 << SEL_W) < NCAND) begin : g_bad_params
        initial begin
            $display("ERROR: conv_lane_select: NCAND=%0d does not fit SEL_W=%0d", NCAND, SEL_W);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (NCAND == 1) begin : g_unused
        wire unused_sel = &{1'b0, sel};
    end
endgenerate

integer o, i, c;
always @* begin
    for (o = 0; o < PAR_OUT; o = o + 1) begin
        for (i = 0; i < PAR_IN; i = i + 1) begin
            act[(o*PAR_IN+i)*A_BITS +: A_BITS] = cand[i*A_BITS +: A_BITS];
            for (c = 1; c < NCAND; c = c + 1) begin
                if (sel[(o*PAR_IN+i)*SEL_W +: SEL_W] == c[SEL_W-1:0]) begin
                    act[(o*PAR_IN+i)*A_BITS +: A_BITS] = cand[(c*PAR_IN+i)*A_BITS +: A_BITS];
                end
            end
        end
    end
end

endmodule
`default_nettype wire
