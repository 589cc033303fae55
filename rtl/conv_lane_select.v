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

// a binary mux tree, one sel bit a level. A sel >= NCAND never occurs (conv_lane_index
// emits 0..NCAND-1): those entries repeat candidates 2^SEL_W - NCAND lower, so the top sel
// bit chooses between a 2^(SEL_W-1):1 and a small select (6:1 = 4:1 + 2:1: two LUTs a bit,
// where the compare chain took three; issue 22)
localparam ENTRIES = 1 << SEL_W;
localparam PAD     = ENTRIES - NCAND;
reg [ENTRIES*A_BITS-1:0] tree;
integer o, i, e, lvl;
always @* begin
    for (o = 0; o < PAR_OUT; o = o + 1) begin
        for (i = 0; i < PAR_IN; i = i + 1) begin
            for (e = 0; e < ENTRIES; e = e + 1) begin
                tree[e*A_BITS +: A_BITS] = cand[(((e < NCAND) ? e : e - PAD)*PAR_IN+i)*A_BITS +: A_BITS];
            end
            for (lvl = 0; lvl < SEL_W; lvl = lvl + 1) begin
                for (e = 0; e < (ENTRIES >> (lvl + 1)); e = e + 1) begin
                    tree[e*A_BITS +: A_BITS] = sel[(o*PAR_IN+i)*SEL_W + lvl] ? tree[(2*e+1)*A_BITS +: A_BITS]
                                                                            : tree[(2*e)*A_BITS +: A_BITS];
                end
            end
            act[(o*PAR_IN+i)*A_BITS +: A_BITS] = tree[0 +: A_BITS];
        end
    end
end

endmodule
`default_nettype wire
