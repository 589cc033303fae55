`default_nettype none
// Output stage for PAR_OUT lanes (docs/engine.md): s = acc + bias without overflow,
// r = max(s, 0), round half up right shift by shift (exact for all 8-bit shifts: r < 2^32,
// so every shift >= 34 gives 0 and the shifter needs only a 6-bit amount clamped to 63;
// the contract range is 0..31),
// saturate to A_BITS. MODE 1 emits the result zero-extended, MODE 0 the raw
// accumulator sign-extended, both as 32-bit lanes. Latency 2.
module conv_requant #(
    parameter PAR_OUT  = 16,    // lanes
    parameter ACC_BITS = 28,    // signed accumulator width (<= 32)
    parameter A_BITS   = 8      // output width
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    in_valid,
    input  wire                    in_tile_last,  // last pixel of its tile (travels along)
    input  wire [PAR_OUT*ACC_BITS-1:0] acc,
    input  wire [PAR_OUT*32-1:0]   bias,
    input  wire [PAR_OUT*8-1:0]    shift,
    input  wire                    mode_requant,
    output wire                    out_valid,
    output wire                    out_tile_last,
    output wire [PAR_OUT*32-1:0]   out_data
);

localparam SUM_W = ((ACC_BITS > 32) ? ACC_BITS : 32) + 1;   // acc + bias cannot overflow
localparam [SUM_W-1:0] OUT_MAX = (1 << A_BITS) - 1;

reg valid1_reg, valid2_reg;
reg last1_reg, last2_reg;
reg mode1_reg;

always @(posedge clk) begin
    if (rst) begin
        valid1_reg <= 1'b0;
        valid2_reg <= 1'b0;
        last1_reg  <= 1'b0;
        last2_reg  <= 1'b0;
        mode1_reg  <= 1'b0;
    end else begin
        valid1_reg <= in_valid;
        valid2_reg <= valid1_reg;
        last1_reg  <= in_valid && in_tile_last;
        last2_reg  <= valid1_reg && last1_reg;
        mode1_reg  <= mode_requant;
    end
end

assign out_valid     = valid2_reg;
assign out_tile_last = last2_reg;

genvar o;
generate
    if (ACC_BITS < 2 || ACC_BITS > 32 || A_BITS < 1 || A_BITS > 16) begin : g_bad_params
        initial begin
            $display("ERROR: conv_requant: ACC_BITS=%0d A_BITS=%0d", ACC_BITS, A_BITS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_lane
        wire signed [ACC_BITS-1:0] lane_acc  = acc[o*ACC_BITS +: ACC_BITS];
        wire signed [31:0]         lane_bias = bias[o*32 +: 32];
        reg  signed [SUM_W-1:0]    sum1_reg;
        reg  signed [ACC_BITS-1:0] acc1_reg;
        reg         [5:0]          shift1_reg;     // clamped: >= 34 all give 0
        reg         [31:0]         out2_reg;

        // stage 1: acc + bias, both sign-extended to SUM_W
        always @(posedge clk) begin
            sum1_reg   <= {{(SUM_W-ACC_BITS){lane_acc[ACC_BITS-1]}}, lane_acc} +
                          {{(SUM_W-32){lane_bias[31]}}, lane_bias};
            acc1_reg   <= lane_acc;
            shift1_reg <= (shift[o*8 + 6 +: 2] != 2'd0) ? 6'd63 : shift[o*8 +: 6];
        end

        // stage 2: ReLU, round half up: (r + 2^(sh-1)) >> sh == ((2r >> sh) + 1) >> 1 for
        // sh > 0 and == r for sh == 0; then saturate. r = max(s, 0) has SUM_W-1 bits.
        wire [SUM_W-1:0] relu_x2 = sum1_reg[SUM_W-1] ? {SUM_W{1'b0}} : {sum1_reg[SUM_W-2:0], 1'b0};
        wire [SUM_W-1:0] shifted = relu_x2 >> shift1_reg;
        wire [SUM_W-1:0] rounded = (shifted + {{(SUM_W-1){1'b0}}, (shift1_reg != 6'd0)}) >> 1;
        wire [A_BITS-1:0] clipped = (rounded > OUT_MAX) ? OUT_MAX[A_BITS-1:0] : rounded[A_BITS-1:0];
        wire [31:0]    raw_acc  = {{(32-ACC_BITS){acc1_reg[ACC_BITS-1]}}, acc1_reg};

        always @(posedge clk) begin
            out2_reg <= mode1_reg ? {{(32-A_BITS){1'b0}}, clipped} : raw_acc;
        end
        assign out_data[o*32 +: 32] = out2_reg;
    end
endgenerate

endmodule
`default_nettype wire
