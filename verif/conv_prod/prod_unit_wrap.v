`default_nettype none
// Unit-test wrapper of the product units (conv_prod_unit: conv_prod_mult / _shift / _plut by ARITH): derives
// NCAND, SEL_W, N_LEAVES, LEAF_W and the latency from conv_prod_info.vh exactly as
// conv_engine does, and shows them on constant ports so the testbench reads the facts
// instead of restating them.
module prod_unit_wrap #(
    parameter ARITH         = 0,
    parameter FORMAT        = 0,
    parameter IKR_K         = 4,
    parameter PAR_IN        = 4,
    parameter PAR_OUT       = 2,
    parameter A_BITS        = 8,
    parameter W_BITS        = 8,
    parameter EXP1_BITS     = 3,
    parameter EXP2_BITS     = 0,
    parameter LEVEL_EXP_MAX = 8,
    parameter PLUT_SYM      = 0
) (clk, cand, sel, codes, levels, leaves, err, info_n_leaves, info_leaf_w, info_latency, info_ncand,
     info_reads_levels);

`include "conv_prod_info.vh"

localparam NCAND    = fmt_ncand(FORMAT, IKR_K);
localparam SEL_W    = fmt_sel_w(FORMAT, IKR_K);
localparam N_LEAVES = prod_n_leaves(ARITH, EXP2_BITS, PAR_IN);
localparam LEAF_W   = prod_leaf_w(ARITH, A_BITS, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX, PAR_IN);

// non-ANSI ports: their widths come from the included functions
input  wire                                clk;
input  wire [NCAND*PAR_IN*A_BITS-1:0]      cand;
input  wire [PAR_OUT*PAR_IN*SEL_W-1:0]     sel;
input  wire [PAR_OUT*PAR_IN*W_BITS-1:0]    codes;
input  wire [16*8-1:0]                     levels;
output wire [PAR_OUT*N_LEAVES*LEAF_W-1:0]  leaves;
output wire                                err;
output wire [31:0]                         info_n_leaves;
output wire [31:0]                         info_leaf_w;
output wire [31:0]                         info_latency;
output wire [31:0]                         info_ncand;
output wire [31:0]                         info_reads_levels;

assign info_n_leaves = N_LEAVES;
assign info_leaf_w   = LEAF_W;
assign info_latency  = prod_latency(ARITH);
assign info_ncand    = NCAND;
assign info_reads_levels = prod_reads_levels(ARITH);

conv_prod_unit #(
    .ARITH(ARITH), .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
    .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
    .NCAND(NCAND), .SEL_W(SEL_W), .N_LEAVES(N_LEAVES), .LEAF_W(LEAF_W), .SYM(PLUT_SYM)
) u_prod (.clk(clk), .cand(cand), .sel(sel), .codes(codes), .levels(levels), .leaves(leaves), .err(err));

endmodule
`default_nettype wire
