`default_nettype none
// SHIFT product unit: power-of-two (one term) or additive power-of-two (two terms)
// weights. Each term of each lane is a << (m-1), or nothing when m == 0; no multiplier.
// The lane's activation is chosen by conv_lane_select (port contract shared by every
// conv_prod_* unit, docs/engine.md; facts in conv_prod_info.vh).
// A negative term is emitted as its one's complement (~x = -x-1), and the number of
// negative terms of an output lane is emitted once as a correction leaf that the adder
// tree adds at its root, so no lane needs a full negation (carry chain).
// Latency 1. Output lane o has N_TERMS*PAR_IN term leaves at
// leaves[(o*N_LEAVES + k)*LEAF_W +: LEAF_W] (k = term*PAR_IN + i) and its correction as
// leaf k = N_LEAVES-1.
module conv_prod_shift #(
    parameter PAR_IN        = 16,   // input lanes
    parameter PAR_OUT       = 16,   // output lanes
    parameter A_BITS        = 8,    // unsigned activation width
    parameter W_BITS        = 4,    // code width: 1+EXP1_BITS, or 2+EXP1_BITS+EXP2_BITS
    parameter EXP1_BITS     = 3,    // exponent field of term 1
    parameter EXP2_BITS     = 0,    // exponent field of term 2 (0 = one-term pot)
    parameter LEVEL_EXP_MAX = 8,    // (PLUT only)
    parameter NCAND         = 1,    // candidate activations per input lane
    parameter SEL_W         = 1,    // candidate index bits per lane
    parameter N_LEAVES      = PAR_IN + 1,
    parameter LEAF_W        = 16    // signed leaf width
) (
    input  wire                                 clk,
    input  wire [NCAND*PAR_IN*A_BITS-1:0]       cand,
    input  wire [PAR_OUT*PAR_IN*SEL_W-1:0]      sel,
    input  wire [PAR_OUT*PAR_IN*W_BITS-1:0]     codes,
    input  wire [16*8-1:0]                      levels,
    output wire [PAR_OUT*N_LEAVES*LEAF_W-1:0]   leaves,
    output wire                                 err
);

`include "conv_prod_info.vh"

localparam N_TERMS  = prod_n_terms(1, EXP2_BITS);
localparam CNT_W    = $clog2(N_TERMS*PAR_IN + 1);
localparam SH1_MAX  = (1 << EXP1_BITS) - 2;
localparam SH2_MAX  = (EXP2_BITS > 0) ? (1 << EXP2_BITS) - 2 : 0;
localparam MAG_W    = A_BITS + ((SH1_MAX > SH2_MAX) ? SH1_MAX : SH2_MAX);

// one term: magnitude a << (m-1) (0 when m == 0), one's complement when negative. The
// shift amount m-1 keeps the exponent field's width e (m == 0 zeroes the activation, not
// the wide result, and its wrapped amount then shifts a zero); the negation is one XOR.
function [LEAF_W-1:0] term_leaf;
    input [A_BITS-1:0] a;
    input              sign;
    input [3:0]        m;
    input integer      e;       // exponent field width (a constant at every call)
    reg   [3:0]        sh;
    reg   [A_BITS-1:0] kept;
    begin
        sh   = (m - 4'd1) & ((4'd1 << e) - 4'd1);
        kept = (m == 4'd0) ? {A_BITS{1'b0}} : a;
        term_leaf = ({{(LEAF_W-A_BITS){1'b0}}, kept} << sh) ^ {LEAF_W{sign && (m != 4'd0)}};
    end
endfunction

wire unused_levels = &{1'b0, levels};
assign err = 1'b0;

wire [PAR_OUT*PAR_IN*A_BITS-1:0] act;

conv_lane_select #(
    .PAR_IN (PAR_IN),
    .PAR_OUT(PAR_OUT),
    .A_BITS (A_BITS),
    .NCAND  (NCAND),
    .SEL_W  (SEL_W)
) u_lane_select (
    .cand(cand),
    .sel (sel),
    .act (act)
);

genvar o, i;
generate
    if (N_LEAVES != prod_n_leaves(1, EXP2_BITS, PAR_IN) ||
        LEAF_W != prod_leaf_w(1, A_BITS, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX, PAR_IN) ||
        LEAF_W < MAG_W + 1 || EXP1_BITS < 1 || EXP1_BITS > 4 || EXP2_BITS < 0 || EXP2_BITS > 4 ||
        W_BITS != ((EXP2_BITS > 0) ? 2 + EXP1_BITS + EXP2_BITS : 1 + EXP1_BITS)) begin : g_bad_params
        initial begin
            $display("ERROR: conv_prod_shift: illegal parameters (LEAF_W=%0d W_BITS=%0d)", LEAF_W, W_BITS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
        wire [N_TERMS*PAR_IN-1:0] negative;
        for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
            wire [A_BITS-1:0] a    = act[(o*PAR_IN+i)*A_BITS +: A_BITS];
            wire [W_BITS-1:0] code = codes[(o*PAR_IN+i)*W_BITS +: W_BITS];
            // term 1 sits in the top 1+EXP1_BITS bits of the code
            wire              s1   = code[W_BITS-1];
            wire [3:0]        m1   = {{(4-EXP1_BITS){1'b0}}, code[W_BITS-2 -: EXP1_BITS]};
            reg  [LEAF_W-1:0] leaf1_reg;
            assign negative[i] = s1 && (m1 != 4'd0);
            always @(posedge clk) begin
                leaf1_reg <= term_leaf(a, s1, m1, EXP1_BITS);
            end
            assign leaves[(o*N_LEAVES + i)*LEAF_W +: LEAF_W] = leaf1_reg;
            if (N_TERMS == 2) begin : g_term2
                wire       s2 = code[EXP2_BITS];
                wire [3:0] m2 = {{(4-EXP2_BITS){1'b0}}, code[EXP2_BITS-1:0]};
                reg  [LEAF_W-1:0] leaf2_reg;
                assign negative[PAR_IN + i] = s2 && (m2 != 4'd0);
                always @(posedge clk) begin
                    leaf2_reg <= term_leaf(a, s2, m2, EXP2_BITS);
                end
                assign leaves[(o*N_LEAVES + PAR_IN + i)*LEAF_W +: LEAF_W] = leaf2_reg;
            end
        end
        // correction leaf: the number of one's-complemented terms
        reg [CNT_W-1:0] count;
        integer k;
        always @* begin
            count = {CNT_W{1'b0}};
            for (k = 0; k < N_TERMS*PAR_IN; k = k + 1) begin
                count = count + {{(CNT_W-1){1'b0}}, negative[k]};
            end
        end
        reg [CNT_W-1:0] count_reg;
        always @(posedge clk) begin
            count_reg <= count;
        end
        assign leaves[(o*N_LEAVES + N_LEAVES-1)*LEAF_W +: LEAF_W] =
            {{(LEAF_W-CNT_W){1'b0}}, count_reg};
    end
endgenerate

endmodule
`default_nettype wire
