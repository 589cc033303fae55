`default_nettype none
// The product unit of every lane, selected by ARITH: the one place the units are instantiated
// and their parameters checked (conv_engine and the unit testbench's prod_unit_wrap both use
// it). ARITH values and units are the core registry's (spec/cores.hjson, `arithmetics`); the
// port contract shared by every conv_prod_* unit is in docs/engine.md, its facts
// (N_LEAVES, LEAF_W, latency) in conv_prod_info.vh.
module conv_prod_unit #(
    parameter ARITH         = 0,    // 0 MULT, 1 SHIFT, 2 PLUT
    parameter PAR_IN        = 16,
    parameter PAR_OUT       = 16,
    parameter A_BITS        = 8,
    parameter W_BITS        = 8,
    parameter EXP1_BITS     = 3,
    parameter EXP2_BITS     = 0,
    parameter LEVEL_EXP_MAX = 8,
    parameter NCAND         = 1,
    parameter SEL_W         = 1,
    parameter N_LEAVES      = PAR_IN,
    parameter LEAF_W        = A_BITS + W_BITS + 1,
    parameter PACK          = 0,    // MULT: two products per multiplier (dense only)
    parameter SYM           = 0     // PLUT: 1 = sign-symmetric codebook (8-magnitude bank)
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

generate
    if (ARITH == 0 && (W_BITS < `CONV_MULT_W_BITS_MIN || W_BITS > `CONV_MULT_W_BITS_MAX ||
                       PACK < 0 || PACK > 1)) begin : g_bad_mult
        initial begin
            $display("ERROR: conv_prod_unit: MULT needs W_BITS in 2..8 and PACK 0 or 1, got %0d, %0d", W_BITS, PACK);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == 1 && (EXP1_BITS < `CONV_EXP1_BITS_MIN || EXP1_BITS > `CONV_EXP1_BITS_MAX ||
        EXP2_BITS < `CONV_EXP2_BITS_MIN || EXP2_BITS > `CONV_EXP2_BITS_MAX ||
        W_BITS != ((EXP2_BITS > 0) ? 2 + EXP1_BITS + EXP2_BITS : 1 + EXP1_BITS))) begin : g_bad_shift
        initial begin
            $display("ERROR: conv_prod_unit: SHIFT needs W_BITS = 1+EXP1_BITS (+1+EXP2_BITS), got W_BITS=%0d EXP1_BITS=%0d EXP2_BITS=%0d",
                     W_BITS, EXP1_BITS, EXP2_BITS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == 2 && (W_BITS != 4 || LEVEL_EXP_MAX < `CONV_LEVEL_EXP_MAX_MIN ||
                       LEVEL_EXP_MAX > `CONV_LEVEL_EXP_MAX_MAX || SYM < `CONV_PLUT_SYM_MIN || SYM > `CONV_PLUT_SYM_MAX)) begin : g_bad_plut
        initial begin
            $display("ERROR: conv_prod_unit: PLUT needs W_BITS = 4, LEVEL_EXP_MAX in 0..15 and SYM 0 or 1, got %0d, %0d, %0d",
                     W_BITS, LEVEL_EXP_MAX, SYM);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == 0) begin : g_mult
        conv_prod_mult #(
            .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
            .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
            .NCAND(NCAND), .SEL_W(SEL_W), .N_LEAVES(N_LEAVES), .LEAF_W(LEAF_W),
            .PACK(PACK)
        ) u_unit (
            .clk(clk), .cand(cand), .sel(sel), .codes(codes), .levels(levels), .leaves(leaves), .err(err)
        );
    end else if (ARITH == 1) begin : g_shift
        conv_prod_shift #(
            .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
            .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
            .NCAND(NCAND), .SEL_W(SEL_W), .N_LEAVES(N_LEAVES), .LEAF_W(LEAF_W)
        ) u_unit (
            .clk(clk), .cand(cand), .sel(sel), .codes(codes), .levels(levels), .leaves(leaves), .err(err)
        );
    end else if (ARITH == 2) begin : g_plut
        conv_prod_plut #(
            .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
            .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
            .NCAND(NCAND), .SEL_W(SEL_W), .SYM(SYM), .N_LEAVES(N_LEAVES), .LEAF_W(LEAF_W)
        ) u_unit (
            .clk(clk), .cand(cand), .sel(sel), .codes(codes), .levels(levels), .leaves(leaves), .err(err)
        );
    end else begin : g_bad_arith
        initial begin
            $display("ERROR: conv_prod_unit: ARITH must be 0 (MULT), 1 (SHIFT) or 2 (PLUT), got %0d", ARITH);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

endmodule
`default_nettype wire
