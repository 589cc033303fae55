`default_nettype none
`include "conv_contract.vh"
// Shared back end (docs/engine.md, "Back end"): the output stage of PAR_OUT channels built
// from RQ_LANES requantizer lanes, time-shared. A pixel's PAR_OUT accumulator sums are
// captured and requantized RQ_LANES at a time in PASSES = PAR_OUT/RQ_LANES cycles; the engine
// spaces pixels by at least PASSES cycles (a pixel takes TAPS x Cin/PAR_IN steps; its
// RQ_LANES parameter, 0 by default, picks the fewest lanes with PASSES <= TAPS, so that
// only an explicit RQ_LANES ever throttles, and only layers with few channel groups).
//
// Bias and shift live in a small RAM (distributed RAM) of 2 buffers x PASSES words, word
// {buf, pass} = RQ_LANES x {shift (6 bits), bias (32 bits)} of channels
// pass*RQ_LANES .. +RQ_LANES-1. The parameter beats of a tile are captured into one staging
// block as they arrive and copied into the tile's buffer during the next PASSES cycles;
// param_busy holds the next tile's first beat meanwhile (conv_wgt_buffer param_hold: it only
// waits when a tile is shorter than PASSES beats). The shift is
// stored clamped to 63: every 8-bit shift >= 34 gives 0, as 63 does, so the result is the
// contract's formula for the whole 8-bit field.
//
// Outputs: the requantized lanes are shifted into an output register of PAR_OUT x OUT_W
// bits; the pixel is pushed once its last pass is in. A lane holds the raw accumulator
// (MODE 0) or the zero-extended output (MODE 1) in OUT_W = max(ACC_BITS, A_BITS+1) bits,
// so sign-extending OUT_W to 32 bits (after the FIFO) gives the 32-bit lane of either mode.
module conv_backend #(
    parameter PAR_OUT  = 16,    // output channels (power of two)
    parameter ACC_BITS = 28,    // signed accumulator width
    parameter A_BITS   = 8,     // output width
    parameter OUT_W    = 28,    // stored lane width, max(ACC_BITS, A_BITS+1)
    parameter RQ_LANES = 2,     // requantizer lanes: a power of two <= PAR_OUT
    parameter WGT_W    = 2048,  // parameter beat width
    parameter NPB      = 1      // parameter beats per tile
) (
    input  wire                     clk,
    input  wire                     rst,

    // parameter beats of the tile being loaded (bias and shift of every channel at the head of
    // the parameter block, docs/engine.md)
    input  wire [NPB-1:0]           param_wr,       // one-hot: parameter beat b accepted
    input  wire [WGT_W-1:0]         param_data,
    input  wire                     param_buf,      // buffer of the tile being loaded
    output wire                     param_busy,     // staging still being copied: hold new beats

    // finished accumulators of a pixel (at most one pixel every PASSES cycles)
    input  wire                     in_valid,
    input  wire                     in_tile_last,
    input  wire                     in_buf,         // buffer of the pixel's tile
    input  wire [PAR_OUT*ACC_BITS-1:0] acc,
    input  wire                     mode_requant,

    output wire                     out_valid,
    output wire                     out_tile_last,
    output wire [PAR_OUT*OUT_W-1:0] out_data
);

localparam PASSES    = PAR_OUT / RQ_LANES;
localparam PASS_W    = (PASSES > 1) ? $clog2(PASSES) : 1;
localparam SHIFT_W   = 6;
localparam ENTRY_W   = `CONV_PB_BIAS_BITS + SHIFT_W;
localparam STAGE_W   = PAR_OUT * `CONV_PB_CHANNEL_BITS;  // bias and shift of every channel (parameter block)
localparam NPB_STAGE = (STAGE_W + WGT_W - 1) / WGT_W;    // beats holding them
localparam integer       PASSES_LAST_I = PASSES - 1;
localparam [PASS_W-1:0]  PASSES_LAST   = PASSES_LAST_I[PASS_W-1:0];

generate
    if (PAR_OUT < 1 || (1 << $clog2(PAR_OUT)) != PAR_OUT || RQ_LANES < 1 || RQ_LANES > PAR_OUT ||
        (1 << $clog2(RQ_LANES)) != RQ_LANES || NPB < NPB_STAGE ||
        OUT_W < ACC_BITS || OUT_W < A_BITS + 1 || OUT_W > 32) begin : g_bad_params
        initial begin
            $display("ERROR: conv_backend: PAR_OUT=%0d RQ_LANES=%0d NPB=%0d OUT_W=%0d", PAR_OUT, RQ_LANES, NPB, OUT_W);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

// ---------------------------------------------------------------- parameter staging and copy

reg [STAGE_W-1:0] stage_reg;    // no reset: every tile rewrites it before its copy
reg               copy_busy_reg;
reg [PASS_W-1:0]  copy_pass_reg;
reg               copy_buf_reg;

genvar pb;
generate
    for (pb = 0; pb < NPB_STAGE; pb = pb + 1) begin : g_stage_beat
        localparam integer LO   = pb * WGT_W;
        localparam integer BITS = (STAGE_W - LO < WGT_W) ? STAGE_W - LO : WGT_W;
        always @(posedge clk) begin
            if (param_wr[pb]) stage_reg[LO +: BITS] <= param_data[BITS-1:0];
        end
    end
    if (NPB > NPB_STAGE || WGT_W > STAGE_W) begin : g_unused_beats
        wire unused_param = &{1'b0, param_wr, param_data};
    end
endgenerate

always @(posedge clk) begin
    if (rst) begin
        copy_busy_reg <= 1'b0;
        copy_pass_reg <= {PASS_W{1'b0}};
        copy_buf_reg  <= 1'b0;
    end else if (param_wr[NPB_STAGE-1]) begin
        copy_busy_reg <= 1'b1;
        copy_pass_reg <= {PASS_W{1'b0}};
        copy_buf_reg  <= param_buf;
    end else if (copy_busy_reg) begin
        copy_busy_reg <= (copy_pass_reg != PASSES_LAST);
        copy_pass_reg <= copy_pass_reg + 1'b1;
    end
end

// the pass's words by an explicit one-hot select (a variable part-select with a stride that
// is not a power of two would synthesize into a barrel shifter over the whole block)
reg [RQ_LANES*`CONV_PB_CHANNEL_BITS-1:0] copy_entry;     // {shift, bias} per lane, as staged
wire [RQ_LANES*ENTRY_W-1:0] copy_word;
integer p;

always @* begin
    copy_entry = {(RQ_LANES*`CONV_PB_CHANNEL_BITS){1'b0}};
    for (p = 0; p < PASSES; p = p + 1) begin
        if (copy_pass_reg == p[PASS_W-1:0]) begin
            copy_entry = {stage_reg[PAR_OUT*`CONV_PB_BIAS_BITS + p*RQ_LANES*`CONV_PB_SHIFT_BITS +: RQ_LANES*`CONV_PB_SHIFT_BITS],
                          stage_reg[p*RQ_LANES*`CONV_PB_BIAS_BITS +: RQ_LANES*`CONV_PB_BIAS_BITS]};
        end
    end
end

genvar l;
generate
    for (l = 0; l < RQ_LANES; l = l + 1) begin : g_copy_lane
        wire [`CONV_PB_BIAS_BITS-1:0]  bias  = copy_entry[l*`CONV_PB_BIAS_BITS +: `CONV_PB_BIAS_BITS];
        wire [`CONV_PB_SHIFT_BITS-1:0] shift = copy_entry[RQ_LANES*`CONV_PB_BIAS_BITS + l*`CONV_PB_SHIFT_BITS +: `CONV_PB_SHIFT_BITS];
        wire [SHIFT_W-1:0] shift_clamped = (shift[`CONV_PB_SHIFT_BITS-1:SHIFT_W] != 0) ? {SHIFT_W{1'b1}} : shift[SHIFT_W-1:0];
        assign copy_word[l*ENTRY_W +: ENTRY_W] = {shift_clamped, bias};
    end
endgenerate

assign param_busy = copy_busy_reg;

// ---------------------------------------------------------------- capture and passes

reg [PAR_OUT*ACC_BITS-1:0] cap_reg;     // the pixel's sums, read by the passes
reg                        busy_reg;
reg [PASS_W-1:0]           pass_reg;
reg                        buf_reg;
reg                        tile_last_reg;

always @(posedge clk) begin
    if (rst) begin
        busy_reg <= 1'b0;
        pass_reg <= {PASS_W{1'b0}};
    end else if (in_valid) begin
        busy_reg <= 1'b1;
        pass_reg <= {PASS_W{1'b0}};
    end else if (busy_reg) begin
        busy_reg <= (pass_reg != PASSES_LAST);
        pass_reg <= pass_reg + 1'b1;
    end
    if (in_valid) begin
        cap_reg       <= acc;
        buf_reg       <= in_buf;
        tile_last_reg <= in_tile_last;
    end
end

// the word of a pass is read one cycle ahead: pass 0 at capture, pass p+1 during pass p
wire [PASS_W-1:0] pass_next = pass_reg + 1'b1;     // wraps after the last pass (unused read)
wire [PASS_W:0]   rd_addr   = in_valid ? {in_buf, {PASS_W{1'b0}}} : {buf_reg, pass_next};
wire [PASS_W:0] wr_addr   = {copy_buf_reg, copy_pass_reg};
wire [RQ_LANES*ENTRY_W-1:0] word;

conv_sdp_ram #(
    .DATA_W(RQ_LANES * ENTRY_W),
    .DEPTH (2 * (1 << PASS_W)),
    .ADDR_W(PASS_W + 1)
) u_param_ram (
    .clk    (clk),
    .wr_en  (copy_busy_reg),
    .wr_addr(wr_addr),
    .wr_data(copy_word),
    .rd_en  (in_valid || busy_reg),
    .rd_addr(rd_addr),
    .rd_data(word)
);

reg  [RQ_LANES*ACC_BITS-1:0] rq_acc;      // the pass's sums (one-hot select, as above)

always @* begin
    rq_acc = {(RQ_LANES*ACC_BITS){1'b0}};
    for (p = 0; p < PASSES; p = p + 1) begin
        if (pass_reg == p[PASS_W-1:0]) rq_acc = cap_reg[p*RQ_LANES*ACC_BITS +: RQ_LANES*ACC_BITS];
    end
end
wire [RQ_LANES*32-1:0]       rq_bias;
wire [RQ_LANES*8-1:0]        rq_shift;
wire                         rq_valid, rq_last;
wire [RQ_LANES*32-1:0]       rq_data;

generate
    for (l = 0; l < RQ_LANES; l = l + 1) begin : g_rq_param
        assign rq_bias[l*32 +: 32] = word[l*ENTRY_W +: 32];
        assign rq_shift[l*8 +: 8]  = {{(8-SHIFT_W){1'b0}}, word[l*ENTRY_W + 32 +: SHIFT_W]};
    end
endgenerate

conv_requant #(
    .PAR_OUT (RQ_LANES),
    .ACC_BITS(ACC_BITS),
    .A_BITS  (A_BITS)
) u_requant (
    .clk          (clk),
    .rst          (rst),
    .in_valid     (busy_reg),
    .in_tile_last (tile_last_reg && (pass_reg == PASSES_LAST)),
    .acc          (rq_acc),
    .bias         (rq_bias),
    .shift        (rq_shift),
    .mode_requant (mode_requant),
    .out_valid    (rq_valid),
    .out_tile_last(rq_last),
    .out_data     (rq_data)
);

// ---------------------------------------------------------------- output assembly

reg [PAR_OUT*OUT_W-1:0] out_reg;
reg [PASS_W-1:0]        out_pass_reg;
reg                     push_reg, push_last_reg;
wire [RQ_LANES*OUT_W-1:0] rq_lanes_w;

generate
    for (l = 0; l < RQ_LANES; l = l + 1) begin : g_out_lane
        assign rq_lanes_w[l*OUT_W +: OUT_W] = rq_data[l*32 +: OUT_W];
        if (OUT_W < 32) begin : g_unused_top
            wire unused_top = &{1'b0, rq_data[l*32 + OUT_W +: 32 - OUT_W]};
        end
    end
    if (PASSES > 1) begin : g_shift_in
        always @(posedge clk) begin
            if (rq_valid) out_reg <= {rq_lanes_w, out_reg[PAR_OUT*OUT_W-1:RQ_LANES*OUT_W]};
        end
    end else begin : g_load
        always @(posedge clk) begin
            if (rq_valid) out_reg <= rq_lanes_w;
        end
    end
endgenerate

always @(posedge clk) begin
    if (rst) begin
        out_pass_reg  <= {PASS_W{1'b0}};
        push_reg      <= 1'b0;
        push_last_reg <= 1'b0;
    end else begin
        if (rq_valid) begin
            out_pass_reg <= (out_pass_reg == PASSES_LAST) ? {PASS_W{1'b0}} : out_pass_reg + 1'b1;
        end
        push_reg      <= rq_valid && (out_pass_reg == PASSES_LAST);
        push_last_reg <= rq_last;
    end
end

assign out_valid     = push_reg;
assign out_tile_last = push_last_reg;
assign out_data      = out_reg;

endmodule
`default_nettype wire
