`default_nettype none
// MULT product unit: per lane (o, i) the activation chosen by conv_lane_select times the
// two's complement code, with two registers per product (MREG and PREG of a DSP48E1, so
// synthesis maps each product onto one DSP slice). Port contract shared by every
// conv_prod_* unit (docs/engine.md); facts in conv_prod_info.vh. Latency 2.
// Leaves of output lane o: the PAR_IN signed products at leaves[(o*PAR_IN+i)*LEAF_W +: LEAF_W].
// PACK = 1 (dense only: there every output lane multiplies input lane i's one activation):
// output lanes 2k and 2k+1 share one multiplier per input lane, P = (w1*2^S + w0) * a with
// S = A_BITS + W_BITS (any w0*a fits S bits signed), one DSP48E1 for two products (int8 x u8:
// a 25-bit packed weight, w1 = -128 with a negative w0 included; int4 x u8: 17 bits).
// p0 = P[S-1:0] as signed; p1 = (P >>> S) + P[S-1]: the sign correction, since a negative
// low product borrows one from the high one. Same latency and leaves. The packed weight is
// built as {w1 - [w0 < 0], w0 in S bits}, without an add in front of the multiplier.
(* use_dsp = "yes" *)
module conv_prod_mult #(
    parameter PAR_IN        = 16,   // input lanes
    parameter PAR_OUT       = 16,   // output lanes
    parameter A_BITS        = 8,    // unsigned activation width
    parameter W_BITS        = 8,    // two's complement code width
    parameter EXP1_BITS     = 3,    // (SHIFT only)
    parameter EXP2_BITS     = 0,    // (SHIFT only)
    parameter LEVEL_EXP_MAX = 8,    // (PLUT only)
    parameter NCAND         = 1,    // candidate activations per input lane
    parameter SEL_W         = 1,    // candidate index bits per lane
    parameter N_LEAVES      = PAR_IN,
    parameter LEAF_W        = A_BITS + W_BITS + 1,
    parameter PACK          = 0     // 1: two products per multiplier (dense; see above)
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

genvar o, i;
generate
    if (N_LEAVES != prod_n_leaves(0, EXP2_BITS, PAR_IN) ||
        LEAF_W != prod_leaf_w(0, A_BITS, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX, PAR_IN) ||
        W_BITS < 2 || W_BITS > 8 || PACK < 0 || PACK > 1 || (PACK == 1 && NCAND != 1)) begin : g_bad_params
        initial begin
            $display("ERROR: conv_prod_mult: illegal N_LEAVES=%0d LEAF_W=%0d W_BITS=%0d PACK=%0d (dense only) NCAND=%0d",
                     N_LEAVES, LEAF_W, W_BITS, PACK, NCAND);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

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

localparam S  = A_BITS + W_BITS;             // packing distance: w0*a fits S bits signed
localparam PW = W_BITS + S + 1;              // packed weight width (w1*2^S + w0, w1 = -2^(W-1))
localparam PP = PW + A_BITS + 1;             // packed product width

generate
    if (PACK == 0) begin : g_single
        for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
            for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
                wire signed [A_BITS:0]   a_signed = {1'b0, act[(o*PAR_IN+i)*A_BITS +: A_BITS]};
                wire signed [W_BITS-1:0] w_signed = codes[(o*PAR_IN+i)*W_BITS +: W_BITS];
                reg  signed [LEAF_W-1:0] mul_reg;
                reg  signed [LEAF_W-1:0] prod_reg;
                always @(posedge clk) begin
                    mul_reg  <= a_signed * w_signed;
                    prod_reg <= mul_reg;
                end
                assign leaves[(o*PAR_IN+i)*LEAF_W +: LEAF_W] = prod_reg;
            end
        end
    end else begin : g_packed
        for (o = 0; o < PAR_OUT; o = o + 2) begin : g_pair
            for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
                // dense: every lane of input i sees the same activation (the pair's lane 0)
                wire signed [A_BITS:0]   a_signed = {1'b0, act[(o*PAR_IN+i)*A_BITS +: A_BITS]};
                wire signed [W_BITS-1:0] w0 = codes[(o*PAR_IN+i)*W_BITS +: W_BITS];
                wire signed [W_BITS-1:0] w1 = codes[((o+1)*PAR_IN+i)*W_BITS +: W_BITS];
                // w1*2^S + w0 = (w1 - [w0 < 0])*2^S + (w0 mod 2^S): a concatenation, not an add
                // into the multiplier (Yosys 0.23 maps such an add into the DSP48E1 pre-adder with
                // its narrower operands zero-extended: wrong for negative weights at int4)
                wire signed [W_BITS:0]   w1_borrow = {w1[W_BITS-1], w1} - {{W_BITS{1'b0}}, w0[W_BITS-1]};
                wire signed [PW-1:0]     w_packed  = {w1_borrow, {(S-W_BITS){w0[W_BITS-1]}}, w0};
                reg  signed [PP-1:0]     mul_reg;
                reg  signed [PP-1:0]     prod_reg;
                always @(posedge clk) begin
                    mul_reg  <= a_signed * w_packed;
                    prod_reg <= mul_reg;
                end
                wire [LEAF_W-1:0] p0 = {{(LEAF_W-S){prod_reg[S-1]}}, prod_reg[S-1:0]};
                wire [LEAF_W-1:0] p1 = prod_reg[S +: LEAF_W] + {{(LEAF_W-1){1'b0}}, prod_reg[S-1]};
                assign leaves[(o*PAR_IN+i)*LEAF_W +: LEAF_W]     = p0;
                assign leaves[((o+1)*PAR_IN+i)*LEAF_W +: LEAF_W] = p1;
                if (PP > S + LEAF_W) begin : g_unused_top
                    wire unused_top = &{1'b0, prod_reg[PP-1:S+LEAF_W]};
                end
            end
        end
        // the odd lanes' activations equal the even lanes' (dense): unread
        wire unused_act = &{1'b0, act};
    end
endgenerate

endmodule
`default_nettype wire
