`default_nettype none
// PLUT product unit for codebook (ios) weights: 16 levels L[j] = (-1)^neg * mant * 2^exp
// shared by the layer. Compute the few products once per activation, lanes only index.
// Port contract shared by every conv_prod_* unit (docs/engine.md; conv_prod_info.vh).
//
// Pruned formats (KRP, IKR): the lanes of one input channel may want different window
// positions, which breaks the bank's sharing; see g_lane_path below: each lane selects
// its activation and forms its one product from the shared level decode.
//
// Dense, stage 1, one product bank per input channel i: the odd multiples a, 3a = a+2a,
// 5a = a+4a, 7a = 8a-a by shift-add, then per level j the unsigned magnitude
// |a*L[j]| = odd(mant)*a << (tz(mant) + exp), built as a 4:1 odd-multiple select, a 4:1
// shift by 0..3 and a shift by a multiple of 4 (or zero for mant == 0). The per-level
// decode (which odd multiple, total shift, zero) is shared by all channels. A negative
// level's magnitude is stored as its one's complement (~m = -m-1); that XOR sits in the
// last shift LUT, so no carry chain is needed for the sign.
// Stage 2, per lane (o,i): a 16:1 selection of bank[i] by the 4-bit code plus the level's
// sign bit (no multiplier, shifter or negator per lane). The number of negative leaves
// of an output lane is emitted once as a correction leaf that the adder tree adds at its
// root, so sum(leaves) = sum(a * L).
// Latency 2 (the correction leaf is combinational from the registered sign bits and
// meets the other leaves at the tree's first register). Output lane o has PAR_IN product
// leaves at leaves[(o*(PAR_IN+1) + i)*LEAF_W +: LEAF_W] and its correction as leaf PAR_IN.
// Mantissas 0..7 are all supported (the format uses 0,1,3,5,7); exponents above
// LEVEL_EXP_MAX do not fit MAG_W and their products are not valid: `err` flags them
// (combinational from `levels`; the engine sets STATUS bit5).
//
// SYM = 1, a sign-symmetric codebook (pymodel scheme ios4s): code = {sign, magnitude index},
// levels L[m] = M[m] >= 0 and L[8+m] = -M[m]. The bank holds only the 8 magnitudes (built
// from descriptors 0..7, no one's complement), a lane is an 8:1 select plus its code's sign
// bit; the one's complement by that bit rides in the select's last LUT level (a 2:1 of two
// 4:1 halves has inputs to spare), so no lane has a negator of its own. `err` also flags
// descriptors that are not symmetric (a negative one among 0..7, or desc[8+m] != desc[m] |
// 0x80), since this bank ignores descriptors 8..15.
module conv_prod_plut #(
    parameter PAR_IN        = 16,   // input lanes
    parameter PAR_OUT       = 16,   // output lanes
    parameter A_BITS        = 8,    // unsigned activation width
    parameter W_BITS        = 4,    // code width: a 4-bit level index
    parameter EXP1_BITS     = 3,    // (SHIFT only)
    parameter EXP2_BITS     = 0,    // (SHIFT only)
    parameter LEVEL_EXP_MAX = 8,    // largest level exponent the product bank holds
    parameter NCAND         = 1,    // candidate activations per input lane
    parameter SEL_W         = 1,    // candidate index bits per lane
    parameter SYM           = 0,    // 1: sign-symmetric codebook, 8-magnitude bank
    parameter N_LEAVES      = PAR_IN + 1,
    parameter LEAF_W        = A_BITS + 3 + LEVEL_EXP_MAX + 1   // signed leaf width
) (
    input  wire                                 clk,
    input  wire [NCAND*PAR_IN*A_BITS-1:0]       cand,
    input  wire [PAR_OUT*PAR_IN*SEL_W-1:0]      sel,
    input  wire [PAR_OUT*PAR_IN*W_BITS-1:0]     codes,
    input  wire [16*8-1:0]                      levels,     // descriptor j at [j*8 +: 8]
    output wire [PAR_OUT*N_LEAVES*LEAF_W-1:0]   leaves,
    output wire                                 err
);

`include "conv_prod_info.vh"

localparam ODD_W    = A_BITS + 3;                   // 7*a fits
localparam MAG_W    = A_BITS + 3 + LEVEL_EXP_MAX;   // |a*L| for exp <= LEVEL_EXP_MAX
localparam SH_MAX   = LEVEL_EXP_MAX + 2;            // exp + trailing zeros of mant
localparam NB       = (SH_MAX >> 2) + 1;            // shifts by 0, 4, .. 4*(NB-1)
localparam CB_W     = $clog2(NB + 1);               // coarse code; NB means zero
localparam FP_W     = (ODD_W + 3 < MAG_W) ? ODD_W + 3 : MAG_W;  // odd multiple << 0..3
localparam CNT_W    = $clog2(PAR_IN + 1);

// 16:1 word select written as a case so synthesis builds a plain LUT/MUXF mux per bit
// (a variable part-select becomes a wide generic shifter in Yosys); the symmetric bank's 8:1
// select is this one with the upper half and the index's top bit constant zero
function [MAG_W-1:0] select_level;
    input [16*MAG_W-1:0] bank;
    input [3:0]          index;
    begin
        case (index)
            4'd0:  select_level = bank[ 0*MAG_W +: MAG_W];
            4'd1:  select_level = bank[ 1*MAG_W +: MAG_W];
            4'd2:  select_level = bank[ 2*MAG_W +: MAG_W];
            4'd3:  select_level = bank[ 3*MAG_W +: MAG_W];
            4'd4:  select_level = bank[ 4*MAG_W +: MAG_W];
            4'd5:  select_level = bank[ 5*MAG_W +: MAG_W];
            4'd6:  select_level = bank[ 6*MAG_W +: MAG_W];
            4'd7:  select_level = bank[ 7*MAG_W +: MAG_W];
            4'd8:  select_level = bank[ 8*MAG_W +: MAG_W];
            4'd9:  select_level = bank[ 9*MAG_W +: MAG_W];
            4'd10: select_level = bank[10*MAG_W +: MAG_W];
            4'd11: select_level = bank[11*MAG_W +: MAG_W];
            4'd12: select_level = bank[12*MAG_W +: MAG_W];
            4'd13: select_level = bank[13*MAG_W +: MAG_W];
            4'd14: select_level = bank[14*MAG_W +: MAG_W];
            default: select_level = bank[15*MAG_W +: MAG_W];
        endcase
    end
endfunction

// |a*L| from the odd multiple odd(mant)*a: shift by 0..3 (fine), then by 4*coarse (coarse
// == NB is the zero level); bits beyond MAG_W are zero for valid levels
function [MAG_W-1:0] level_magnitude;
    input [ODD_W-1:0] odd_product;
    input [1:0]       fine;
    input [CB_W-1:0]  coarse;
    reg   [FP_W-1:0]  fine_product;
    integer k, b;
    begin
        fine_product = {FP_W{1'b0}};
        for (k = 0; k < 4; k = k + 1) begin
            if (fine == k[1:0]) begin
                for (b = k; b < FP_W && b - k < ODD_W; b = b + 1) begin
                    fine_product[b] = odd_product[b - k];
                end
            end
        end
        level_magnitude = {MAG_W{1'b0}};
        for (k = 0; k < NB; k = k + 1) begin
            if (coarse == k[CB_W-1:0]) begin
                for (b = 4 * k; b < MAG_W && b - 4 * k < FP_W; b = b + 1) begin
                    level_magnitude[b] = fine_product[b - 4 * k];
                end
            end
        end
    end
endfunction

// odd multiple a, 3a = a+2a, 5a = a+4a or 7a = 8a-a
function [ODD_W-1:0] odd_multiple;
    input [A_BITS-1:0] a;
    input [1:0]        odd;
    reg   [ODD_W-1:0]  a1;
    begin
        a1 = {3'b000, a};
        case (odd)
            2'd0:    odd_multiple = a1;
            2'd1:    odd_multiple = a1 + (a1 << 1);
            2'd2:    odd_multiple = a1 + (a1 << 2);
            default: odd_multiple = (a1 << 3) - a1;
        endcase
    end
endfunction

genvar i, j, o;
generate
    if (N_LEAVES != prod_n_leaves(2, EXP2_BITS, PAR_IN) ||
        LEAF_W != prod_leaf_w(2, A_BITS, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX, PAR_IN) ||
        LEAF_W != MAG_W + 1 || LEAF_W < CNT_W + 1 || LEVEL_EXP_MAX < 0 || LEVEL_EXP_MAX > 15 ||
        W_BITS != 4 || PAR_IN < 1 || PAR_OUT < 1 || NCAND < 1 || (1 << SEL_W) < NCAND ||
        SYM < 0 || SYM > 1) begin : g_bad_params
        initial begin
            $display("ERROR: conv_prod_plut: illegal LEAF_W=%0d / LEVEL_EXP_MAX=%0d / PAR_IN=%0d / SYM=%0d",
                     LEAF_W, LEVEL_EXP_MAX, PAR_IN, SYM);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end

    // per-level decode, shared by every channel: odd multiple, shift, zero, sign
    wire [16*2-1:0]    lvl_odd;     // 0: a, 1: 3a, 2: 5a, 3: 7a
    wire [16*2-1:0]    lvl_fine;    // shift by 0..3
    wire [16*CB_W-1:0] lvl_coarse;  // shift by 4*k, k < NB; NB = zero level
    wire [15:0]        lvl_neg;
    for (j = 0; j < 16; j = j + 1) begin : g_decode
        wire [2:0] mant = levels[j*8 + 4 +: 3];
        wire [3:0] expo = levels[j*8 +: 4];
        reg  [1:0] odd;
        reg  [1:0] tz;
        always @* begin
            case (mant)
                3'd3:    begin odd = 2'd1; tz = 2'd0; end
                3'd5:    begin odd = 2'd2; tz = 2'd0; end
                3'd7:    begin odd = 2'd3; tz = 2'd0; end
                3'd2:    begin odd = 2'd0; tz = 2'd1; end
                3'd6:    begin odd = 2'd1; tz = 2'd1; end
                3'd4:    begin odd = 2'd0; tz = 2'd2; end
                default: begin odd = 2'd0; tz = 2'd0; end   // 1 (and 0, zeroed below)
            endcase
        end
        // total shift exp + tz as {coarse, fine}; mant == 0 or an exponent above
        // LEVEL_EXP_MAX (invalid, flagged by the engine) selects the zero code NB
        wire [4:0] sh = {1'b0, expo} + {3'b000, tz};
        wire [1:0]      fine   = sh[1:0];
        wire [CB_W-1:0] coarse = (mant == 3'd0 || {27'd0, sh} > SH_MAX) ? NB[CB_W-1:0]
                                                                      : sh[CB_W+1:2];
        assign lvl_odd[j*2 +: 2]          = odd;
        assign lvl_fine[j*2 +: 2]         = fine;
        assign lvl_coarse[j*CB_W +: CB_W] = coarse;
        assign lvl_neg[j]                 = levels[j*8 + 7];
    end

    // a level exponent beyond LEVEL_EXP_MAX would not fit the product bank; a symmetric bank
    // also needs L[m] >= 0 and L[8+m] = -L[m] (it reads descriptors 0..7 only)
    reg level_exp_too_big;
    reg level_asymmetric;
    integer e;
    always @* begin
        level_exp_too_big = 1'b0;
        level_asymmetric  = 1'b0;
        for (e = 0; e < 16; e = e + 1) begin
            if ({28'd0, levels[e*8 +: 4]} > LEVEL_EXP_MAX) level_exp_too_big = 1'b1;
        end
        for (e = 0; e < 8; e = e + 1) begin
            if (levels[e*8 + 7] || levels[(e+8)*8 +: 8] != {1'b1, levels[e*8 +: 7]})
                level_asymmetric = 1'b1;
        end
    end
    assign err = level_exp_too_big || (SYM != 0 && level_asymmetric);


  if (NCAND == 1) begin : g_bank_path
    // Dense: every output lane of input channel i multiplies the same activation, so the
    // products are built once per channel (the bank) and lanes only index them.
    wire unused_sel = &{1'b0, sel};

    // stage 1: product bank per input channel: 16 levels (one's complement for negative ones)
    // or, symmetric, the 8 magnitudes
    localparam N_BANK = SYM ? 8 : 16;
    // the level signs (the signed bank's lanes select theirs with the code)
    reg [15:0] neg_reg;
    always @(posedge clk) begin
        neg_reg <= lvl_neg;
    end
    if (SYM != 0) begin : g_sym_decode
        // descriptors 8..15 only enter the symmetry check; the code carries the sign
        wire unused_upper = &{1'b0, lvl_odd[31:16], lvl_fine[31:16], lvl_coarse[16*CB_W-1:8*CB_W],
                              neg_reg};
    end
    reg [PAR_IN*N_BANK*MAG_W-1:0] bank_reg;
    reg [PAR_OUT*PAR_IN*4-1:0]    codes_reg;
    always @(posedge clk) begin
        codes_reg <= codes;
    end
    for (i = 0; i < PAR_IN; i = i + 1) begin : g_bank
        wire [ODD_W-1:0] a1 = {3'b000, cand[i*A_BITS +: A_BITS]};
        wire [ODD_W-1:0] a3 = a1 + (a1 << 1);
        wire [ODD_W-1:0] a5 = a1 + (a1 << 2);
        wire [ODD_W-1:0] a7 = (a1 << 3) - a1;
        for (j = 0; j < N_BANK; j = j + 1) begin : g_level
            reg [ODD_W-1:0] odd_product;
            always @* begin
                case (lvl_odd[j*2 +: 2])
                    2'd0:    odd_product = a1;
                    2'd1:    odd_product = a3;
                    2'd2:    odd_product = a5;
                    default: odd_product = a7;
                endcase
            end
            always @(posedge clk) begin
                bank_reg[(i*N_BANK+j)*MAG_W +: MAG_W] <=
                    level_magnitude(odd_product, lvl_fine[j*2 +: 2], lvl_coarse[j*CB_W +: CB_W]) ^
                    {MAG_W{lvl_neg[j] && SYM == 0}};
            end
        end
    end

    // stage 2: every lane indexes its channel's bank with its code: 16:1 with the level's
    // sign, or (symmetric) 8:1 by the code's magnitude index with the code's sign bit
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
        for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
            wire [3:0]       code = codes_reg[(o*PAR_IN+i)*4 +: 4];
            reg  [MAG_W-1:0] value_reg;
            reg              neg_sel_reg;
            if (SYM != 0) begin : g_sym
                // the one's complement rides in the select's last LUT level (its 2:1 of two
                // 4:1 halves has inputs to spare), so it costs no LUT of its own
                always @(posedge clk) begin
                    value_reg   <= select_level({{(8*MAG_W){1'b0}}, bank_reg[i*8*MAG_W +: 8*MAG_W]},
                                                {1'b0, code[2:0]}) ^ {MAG_W{code[3]}};
                    neg_sel_reg <= code[3];
                end
            end else begin : g_signed
                always @(posedge clk) begin
                    value_reg   <= select_level(bank_reg[i*16*MAG_W +: 16*MAG_W], code);
                    neg_sel_reg <= neg_reg[code];
                end
            end
            assign leaves[(o*N_LEAVES + i)*LEAF_W +: LEAF_W] = {neg_sel_reg, value_reg};
        end
    end

  end else begin : g_lane_path
    // KRP / IKR: lanes of one input channel want different window positions, so a bank
    // per candidate position would cost NCAND banks per channel and an NCAND*16:1 select
    // per lane (measured: 42k LUTs at 4x4 for IKR). Instead each lane selects its
    // activation (conv_lane_select) and the level fields of its code from the shared
    // decode, then forms its one product: an odd multiple (one adder) and the fine and
    // coarse shifts - the bank's arithmetic for one level instead of sixteen. Symmetric:
    // the fields of one of 8 magnitudes, the sign from the code.
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

    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
        for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
            wire [3:0]        code  = codes[(o*PAR_IN+i)*4 +: 4];
            // the decode entry of the code: its level, or (symmetric) its magnitude
            wire [3:0]        entry = (SYM != 0) ? {1'b0, code[2:0]} : code;
            // stage 1: the lane's activation and its level's fields
            reg  [A_BITS-1:0] a_reg;
            reg  [1:0]        odd_reg, fine_reg;
            reg  [CB_W-1:0]   coarse_reg;
            reg               neg1_reg;
            always @(posedge clk) begin
                a_reg      <= act[(o*PAR_IN+i)*A_BITS +: A_BITS];
                odd_reg    <= lvl_odd[entry*2 +: 2];
                fine_reg   <= lvl_fine[entry*2 +: 2];
                coarse_reg <= lvl_coarse[entry*CB_W +: CB_W];
                neg1_reg   <= (SYM != 0) ? code[3] : lvl_neg[code];
            end
            // stage 2: the product, one's complement when the level (or the code) is negative
            reg [MAG_W-1:0] value_reg;
            reg             neg_sel_reg;
            always @(posedge clk) begin
                value_reg   <= level_magnitude(odd_multiple(a_reg, odd_reg), fine_reg, coarse_reg) ^
                               {MAG_W{neg1_reg}};
                neg_sel_reg <= neg1_reg;
            end
            assign leaves[(o*N_LEAVES + i)*LEAF_W +: LEAF_W] = {neg_sel_reg, value_reg};
        end
    end
  end

    // both paths: the correction leaf of an output lane counts its negative (one's
    // complement) product leaves, whose sign bit is the leaf's top bit
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_correction
        reg [CNT_W-1:0] count;
        integer m;
        always @* begin
            count = {CNT_W{1'b0}};
            for (m = 0; m < PAR_IN; m = m + 1) begin
                count = count + {{(CNT_W-1){1'b0}}, leaves[(o*N_LEAVES + m)*LEAF_W + LEAF_W - 1]};
            end
        end
        assign leaves[(o*N_LEAVES + PAR_IN)*LEAF_W +: LEAF_W] = {{(LEAF_W-CNT_W){1'b0}}, count};
    end
endgenerate

endmodule
`default_nettype wire
