`default_nettype none
// PLUT product unit for codebook (ios) weights: 16 levels L[j] = (-1)^neg * mant * 2^exp
// shared by the layer. Stage 1, one product bank per input channel: the odd multiples
// a, 3a = a+2a, 5a = a+4a, 7a = 8a-a by shift-add, then per level the descriptor's shift
// and sign: bank[i][j] = a_i * L[j]. Stage 2, per lane (o,i): a 16:1 selection of
// bank[i] by the 4-bit code, i.e. index + add with no multiplier or shifter per lane.
// Latency 2. Mantissas 0..7 are all supported (the format uses 0,1,3,5,7); exponents
// above LEVEL_EXP_MAX do not fit PROD_W and are flagged by the engine (STATUS bit5).
module conv_prod_plut #(
    parameter PAR_IN        = 16,   // input lanes
    parameter PAR_OUT       = 16,   // output lanes
    parameter A_BITS        = 8,    // unsigned activation width
    parameter LEVEL_EXP_MAX = 8,    // largest level exponent the product bank holds
    parameter PROD_W        = A_BITS + 3 + LEVEL_EXP_MAX + 1   // signed product width
) (
    input  wire                             clk,
    input  wire [PAR_IN*A_BITS-1:0]         act,
    input  wire [PAR_OUT*PAR_IN*4-1:0]      codes,
    input  wire [16*8-1:0]                  levels,     // descriptor j at [j*8 +: 8]
    output wire [PAR_OUT*PAR_IN*PROD_W-1:0] prod
);

localparam MULT_W = A_BITS + 3;     // a * 7 fits

// 16:1 word select written as a case so synthesis builds a plain LUT/MUXF mux per bit
// (a variable part-select becomes a wide generic shifter in Yosys)
function [PROD_W-1:0] select_level;
    input [16*PROD_W-1:0] bank;
    input [3:0]           index;
    begin
        case (index)
            4'd0:  select_level = bank[ 0*PROD_W +: PROD_W];
            4'd1:  select_level = bank[ 1*PROD_W +: PROD_W];
            4'd2:  select_level = bank[ 2*PROD_W +: PROD_W];
            4'd3:  select_level = bank[ 3*PROD_W +: PROD_W];
            4'd4:  select_level = bank[ 4*PROD_W +: PROD_W];
            4'd5:  select_level = bank[ 5*PROD_W +: PROD_W];
            4'd6:  select_level = bank[ 6*PROD_W +: PROD_W];
            4'd7:  select_level = bank[ 7*PROD_W +: PROD_W];
            4'd8:  select_level = bank[ 8*PROD_W +: PROD_W];
            4'd9:  select_level = bank[ 9*PROD_W +: PROD_W];
            4'd10: select_level = bank[10*PROD_W +: PROD_W];
            4'd11: select_level = bank[11*PROD_W +: PROD_W];
            4'd12: select_level = bank[12*PROD_W +: PROD_W];
            4'd13: select_level = bank[13*PROD_W +: PROD_W];
            4'd14: select_level = bank[14*PROD_W +: PROD_W];
            default: select_level = bank[15*PROD_W +: PROD_W];
        endcase
    end
endfunction

genvar i, j, o;
generate
    if (PROD_W != A_BITS + 3 + LEVEL_EXP_MAX + 1 || LEVEL_EXP_MAX < 0 || LEVEL_EXP_MAX > 15) begin : g_bad_params
        initial begin
            $display("ERROR: conv_prod_plut: illegal PROD_W=%0d / LEVEL_EXP_MAX=%0d", PROD_W, LEVEL_EXP_MAX);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end

    // stage 1: product bank per input channel
    reg [PAR_IN*16*PROD_W-1:0] bank_reg;
    reg [PAR_OUT*PAR_IN*4-1:0] codes_reg;
    always @(posedge clk) begin
        codes_reg <= codes;
    end
    for (i = 0; i < PAR_IN; i = i + 1) begin : g_bank
        wire [MULT_W-1:0] a1 = {3'b000, act[i*A_BITS +: A_BITS]};
        wire [MULT_W-1:0] a3 = a1 + (a1 << 1);
        wire [MULT_W-1:0] a5 = a1 + (a1 << 2);
        wire [MULT_W-1:0] a7 = (a1 << 3) - a1;
        for (j = 0; j < 16; j = j + 1) begin : g_level
            wire [7:0]        desc = levels[j*8 +: 8];
            reg  [MULT_W-1:0] mant_product;
            always @* begin
                case (desc[6:4])
                    3'd0:    mant_product = {MULT_W{1'b0}};
                    3'd1:    mant_product = a1;
                    3'd2:    mant_product = a1 << 1;
                    3'd3:    mant_product = a3;
                    3'd4:    mant_product = a1 << 2;
                    3'd5:    mant_product = a5;
                    3'd6:    mant_product = a3 << 1;
                    default: mant_product = a7;
                endcase
            end
            wire [PROD_W-1:0] magnitude = {{(PROD_W-MULT_W){1'b0}}, mant_product} << desc[3:0];
            always @(posedge clk) begin
                bank_reg[(i*16+j)*PROD_W +: PROD_W] <= desc[7] ? (~magnitude + 1'b1) : magnitude;
            end
        end
    end

    // stage 2: every lane indexes its channel's bank with its code
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
        for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
            wire [16*PROD_W-1:0] channel_bank = bank_reg[i*16*PROD_W +: 16*PROD_W];
            wire [3:0]           code         = codes_reg[(o*PAR_IN+i)*4 +: 4];
            reg  [PROD_W-1:0]    prod_reg;
            always @(posedge clk) begin
                prod_reg <= select_level(channel_bank, code);
            end
            assign prod[(o*PAR_IN+i)*PROD_W +: PROD_W] = prod_reg;
        end
    end
endgenerate

endmodule
`default_nettype wire
