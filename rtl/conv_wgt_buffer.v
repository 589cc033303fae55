`default_nettype none
`include "conv_contract.vh"
// Double-buffered weight and parameter store. Tile t loads into buffer t%2: NPB
// parameter beats into a register block (bias, shift, level descriptors, IKR pattern
// library), then per channel group cg (pruned formats) one index beat into the index RAM
// at buf*CG_MAX + cg, and TAPS weight beats into the weight RAM at
// buf*TAPS*CG_MAX + cg*TAPS + tap. Tile t may load once tile t-2 has been released (its
// last output left the requantizer), so tile t+1 loads while tile t computes; tready is
// low only while both buffers are in use.
module conv_wgt_buffer #(
    parameter WGT_W      = 2048,                // weight beat width (PAR_IN*PAR_OUT*W_BITS)
    parameter IDX_BEAT_W = 1,                   // meaningful bits of an index beat (0: none)
    parameter TAPS       = `CONV_TAPS,          // weight beats per channel group
    parameter CG_MAX     = 16,                  // max channel groups
    parameter NPB        = 1,                   // parameter beats per tile
    parameter PARAM_BITS = 768,                 // meaningful bits of the parameter block
    parameter KEEP_LSB   = 0,                   // bits below are not stored (read 0): the
                                                // engine's back end keeps bias/shift itself
    parameter CG_W       = 5,                   // width of channel-group counts
    parameter T_W        = 6,                   // width of tile counts
    parameter ADDR_W     = $clog2(2*TAPS*CG_MAX),   // weight RAM address width
    parameter IDX_ADDR_W = $clog2(2*CG_MAX)     // index RAM address width
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  launch,        // layer start: reset the load position
    input  wire                  running,
    input  wire [CG_W-1:0]       cfg_cg,
    input  wire [T_W-1:0]        cfg_tiles,

    input  wire [WGT_W-1:0]      s_axis_wgt_tdata,
    input  wire                  s_axis_wgt_tvalid,
    output wire                  s_axis_wgt_tready,
    input  wire                  s_axis_wgt_tlast,

    input  wire [T_W-1:0]        tiles_released,  // tiles whose outputs are complete
    input  wire                  param_hold,      // the back end still copies the last tile's
                                                  // bias/shift: hold a tile's first beat
    output wire [T_W-1:0]        tiles_loaded,    // tiles fully loaded
    output wire                  frame_err,       // tlast did not match the tile end

    output wire [PARAM_BITS-1:0] params0,         // parameter block of buffer 0
    output wire [PARAM_BITS-1:0] params1,         // parameter block of buffer 1
    output wire [NPB-1:0]        param_wr,        // one-hot: parameter beat b accepted now
                                                  // (data on s_axis_wgt_tdata, buffer
                                                  // tiles_loaded[0]): for the back end's RAM

    input  wire                  rd_en,
    input  wire [ADDR_W-1:0]     rd_addr,
    output wire [WGT_W-1:0]      rd_data,

    input  wire                  idx_rd_en,
    input  wire [IDX_ADDR_W-1:0] idx_rd_addr,
    output wire [(IDX_BEAT_W > 0 ? IDX_BEAT_W : 1)-1:0] idx_rd_data
);

localparam HAS_IDX      = (IDX_BEAT_W > 0) ? 1 : 0;
localparam BPC          = TAPS + HAS_IDX;                  // beats per channel group
localparam BEAT_W       = $clog2(NPB + BPC*CG_MAX + 1);
localparam BPC_W        = $clog2(BPC + 1);
localparam integer      BUF1_BASE_I = TAPS*CG_MAX;
localparam [ADDR_W-1:0] BUF1_BASE   = BUF1_BASE_I[ADDR_W-1:0];
localparam integer          IDX_BUF1_I = CG_MAX;
localparam [IDX_ADDR_W-1:0] IDX_BUF1   = IDX_BUF1_I[IDX_ADDR_W-1:0];
localparam integer          BPC_LAST_I = BPC - 1;
localparam [BPC_W-1:0]      BPC_LAST   = BPC_LAST_I[BPC_W-1:0];

reg [T_W-1:0]      loaded_reg;      // also the index of the tile being loaded
reg [BEAT_W-1:0]   beat_reg;        // beat within the tile
reg [ADDR_W-1:0]   wr_addr_reg;     // weight RAM address of the next weight beat
reg [IDX_ADDR_W-1:0] idx_addr_reg;  // index RAM address of the next index beat
reg [BPC_W-1:0]    k_reg;           // beat within the channel group
localparam KEEP_W = PARAM_BITS - KEEP_LSB;        // stored bits of a parameter block
reg                frame_err_reg;

// beats per tile: NPB + BPC*CG (a constant multiple: shift-adds, no multiplier)
localparam integer      BPC_I = BPC;
localparam [BEAT_W-1:0] BPC_B = BPC_I[BEAT_W-1:0];
wire [BEAT_W-1:0] bpc_cg     = {{(BEAT_W-CG_W){1'b0}}, cfg_cg} * BPC_B;
wire [BEAT_W-1:0] tile_beats = bpc_cg + NPB[BEAT_W-1:0];
wire              last_beat  = (beat_reg == tile_beats - 1'b1);
wire              param_beat = (beat_reg < NPB[BEAT_W-1:0]);
wire              index_beat = (HAS_IDX != 0) && !param_beat && (k_reg == {BPC_W{1'b0}});
wire              load_buf   = loaded_reg[0];

// a buffer is free once the tile two back has been released
wire [T_W:0] free_limit = {1'b0, tiles_released} + {{(T_W-1){1'b0}}, 2'd2};
wire         tile_start = (beat_reg == {BEAT_W{1'b0}});
wire         accept     = running && (loaded_reg != cfg_tiles) && ({1'b0, loaded_reg} < free_limit) &&
                          !(tile_start && param_hold);
wire         fire       = accept && s_axis_wgt_tvalid;

assign s_axis_wgt_tready = accept;
assign tiles_loaded      = loaded_reg;
assign frame_err         = frame_err_reg;

always @(posedge clk) begin
    if (rst || launch) begin
        loaded_reg    <= {T_W{1'b0}};
        beat_reg      <= {BEAT_W{1'b0}};
        wr_addr_reg   <= {ADDR_W{1'b0}};
        idx_addr_reg  <= {IDX_ADDR_W{1'b0}};
        k_reg         <= {BPC_W{1'b0}};
        frame_err_reg <= 1'b0;
    end else if (fire) begin
        if (s_axis_wgt_tlast != last_beat) begin
            frame_err_reg <= 1'b1;
        end
        if (!param_beat) begin
            k_reg <= (k_reg == BPC_LAST) ? {BPC_W{1'b0}} : k_reg + 1'b1;
            if (index_beat) begin
                idx_addr_reg <= idx_addr_reg + 1'b1;
            end else begin
                wr_addr_reg <= wr_addr_reg + 1'b1;
            end
        end
        if (last_beat) begin
            beat_reg     <= {BEAT_W{1'b0}};
            loaded_reg   <= loaded_reg + 1'b1;
            k_reg        <= {BPC_W{1'b0}};
            // the next tile goes to the other buffer
            wr_addr_reg  <= load_buf ? {ADDR_W{1'b0}} : BUF1_BASE;
            idx_addr_reg <= load_buf ? {IDX_ADDR_W{1'b0}} : IDX_BUF1;
        end else begin
            beat_reg <= beat_reg + 1'b1;
        end
    end
end

// parameter blocks: no reset needed, every tile rewrites its block before use. Beat b
// holds bits [b*WGT_W +: WGT_W]; the zero padding of the last beat is not stored, nor are
// the bits below KEEP_LSB.
genvar pb;
generate
    for (pb = 0; pb < NPB; pb = pb + 1) begin : g_param_beat
        localparam [BEAT_W-1:0] BEAT = pb;
        assign param_wr[pb] = fire && beat_reg == BEAT;
    end
    if (KEEP_W > 0) begin : g_pblock
        reg [KEEP_W-1:0] pblock0_reg;
        reg [KEEP_W-1:0] pblock1_reg;
        for (pb = 0; pb < NPB; pb = pb + 1) begin : g_beat
            localparam integer LO   = pb * WGT_W;
            localparam integer HI   = (PARAM_BITS < LO + WGT_W) ? PARAM_BITS : LO + WGT_W;  // exclusive
            localparam integer KLO  = (LO > KEEP_LSB) ? LO : KEEP_LSB;
            if (HI > KLO) begin : g_kept
                always @(posedge clk) begin
                    if (param_wr[pb] && !load_buf) pblock0_reg[KLO-KEEP_LSB +: HI-KLO] <= s_axis_wgt_tdata[KLO-LO +: HI-KLO];
                    if (param_wr[pb] &&  load_buf) pblock1_reg[KLO-KEEP_LSB +: HI-KLO] <= s_axis_wgt_tdata[KLO-LO +: HI-KLO];
                end
            end
        end
        if (KEEP_LSB > 0) begin : g_low_zero
            assign params0 = {pblock0_reg, {KEEP_LSB{1'b0}}};
            assign params1 = {pblock1_reg, {KEEP_LSB{1'b0}}};
        end else begin : g_all
            assign params0 = pblock0_reg;
            assign params1 = pblock1_reg;
        end
    end else begin : g_no_pblock
        assign params0 = {PARAM_BITS{1'b0}};
        assign params1 = {PARAM_BITS{1'b0}};
    end
endgenerate

conv_sdp_ram #(
    .DATA_W(WGT_W),
    .DEPTH (2*TAPS*CG_MAX),
    .ADDR_W(ADDR_W)
) u_wgt_ram (
    .clk    (clk),
    .wr_en  (fire && !param_beat && !index_beat),
    .wr_addr(wr_addr_reg),
    .wr_data(s_axis_wgt_tdata),
    .rd_en  (rd_en),
    .rd_addr(rd_addr),
    .rd_data(rd_data)
);

generate
    if (HAS_IDX != 0) begin : g_index
        conv_sdp_ram #(
            .DATA_W(IDX_BEAT_W),
            .DEPTH (2*CG_MAX),
            .ADDR_W(IDX_ADDR_W)
        ) u_idx_ram (
            .clk    (clk),
            .wr_en  (fire && index_beat),
            .wr_addr(idx_addr_reg),
            .wr_data(s_axis_wgt_tdata[IDX_BEAT_W-1:0]),
            .rd_en  (idx_rd_en),
            .rd_addr(idx_rd_addr),
            .rd_data(idx_rd_data)
        );
    end else begin : g_no_index
        wire unused_idx_read = &{1'b0, idx_rd_en, idx_rd_addr, idx_addr_reg};
        assign idx_rd_data = 1'b0;
    end
    if (IDX_BEAT_W > WGT_W || TAPS < 1 || TAPS > `CONV_TAPS || KEEP_LSB < 0 || KEEP_LSB > PARAM_BITS) begin : g_bad_params
        initial begin
            $display("ERROR: conv_wgt_buffer: IDX_BEAT_W=%0d > WGT_W=%0d or TAPS=%0d", IDX_BEAT_W, WGT_W, TAPS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

endmodule
`default_nettype wire
