`default_nettype none
// Double-buffered weight and parameter store. Tile t loads into buffer t%2: NPB
// parameter beats into a register block (bias, shift, level descriptors), then 9*CG
// weight beats into the weight RAM at buf*9*CG_MAX + cg*9 + ky*3 + kx. Tile t may load
// once tile t-2 has been released (its last output left the requantizer), so tile t+1
// loads while tile t computes; tready is low only while both buffers are in use.
module conv_wgt_buffer #(
    parameter WGT_W      = 2048,                // weight beat width (PAR_IN*PAR_OUT*W_BITS)
    parameter CG_MAX     = 16,                  // max channel groups
    parameter NPB        = 1,                   // parameter beats per tile
    parameter PARAM_BITS = 768,                 // meaningful bits of the parameter block
    parameter CG_W       = 5,                   // width of channel-group counts
    parameter T_W        = 6,                   // width of tile counts
    parameter ADDR_W     = $clog2(2*9*CG_MAX)   // weight RAM address width
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
    output wire [T_W-1:0]        tiles_loaded,    // tiles fully loaded
    output wire                  frame_err,       // tlast did not match the tile end

    output wire [PARAM_BITS-1:0] params0,         // parameter block of buffer 0
    output wire [PARAM_BITS-1:0] params1,         // parameter block of buffer 1

    input  wire                  rd_en,
    input  wire [ADDR_W-1:0]     rd_addr,
    output wire [WGT_W-1:0]      rd_data
);

localparam BEAT_W       = $clog2(NPB + 9*CG_MAX + 1);
localparam integer      BUF1_BASE_I = 9*CG_MAX;
localparam [ADDR_W-1:0] BUF1_BASE   = BUF1_BASE_I[ADDR_W-1:0];

reg [T_W-1:0]      loaded_reg;      // also the index of the tile being loaded
reg [BEAT_W-1:0]   beat_reg;        // beat within the tile
reg [ADDR_W-1:0]   wr_addr_reg;     // weight RAM address of the next weight beat
reg [PARAM_BITS-1:0] pblock0_reg;
reg [PARAM_BITS-1:0] pblock1_reg;
reg                frame_err_reg;

// beats per tile: NPB + 9*CG (9*CG as a shift-add, no multiplier)
wire [BEAT_W-1:0] nine_cg    = ({{(BEAT_W-CG_W){1'b0}}, cfg_cg} << 3) + {{(BEAT_W-CG_W){1'b0}}, cfg_cg};
wire [BEAT_W-1:0] tile_beats = nine_cg + NPB[BEAT_W-1:0];
wire              last_beat  = (beat_reg == tile_beats - 1'b1);
wire              param_beat = (beat_reg < NPB[BEAT_W-1:0]);
wire              load_buf   = loaded_reg[0];

// a buffer is free once the tile two back has been released
wire [T_W:0] free_limit = {1'b0, tiles_released} + {{(T_W-1){1'b0}}, 2'd2};
wire         accept     = running && (loaded_reg != cfg_tiles) && ({1'b0, loaded_reg} < free_limit);
wire         fire       = accept && s_axis_wgt_tvalid;

assign s_axis_wgt_tready = accept;
assign tiles_loaded      = loaded_reg;
assign frame_err         = frame_err_reg;
assign params0           = pblock0_reg;
assign params1           = pblock1_reg;

always @(posedge clk) begin
    if (rst || launch) begin
        loaded_reg    <= {T_W{1'b0}};
        beat_reg      <= {BEAT_W{1'b0}};
        wr_addr_reg   <= {ADDR_W{1'b0}};
        frame_err_reg <= 1'b0;
    end else if (fire) begin
        if (s_axis_wgt_tlast != last_beat) begin
            frame_err_reg <= 1'b1;
        end
        if (!param_beat) begin
            wr_addr_reg <= wr_addr_reg + 1'b1;
        end
        if (last_beat) begin
            beat_reg    <= {BEAT_W{1'b0}};
            loaded_reg  <= loaded_reg + 1'b1;
            // the next tile goes to the other buffer
            wr_addr_reg <= load_buf ? {ADDR_W{1'b0}} : BUF1_BASE;
        end else begin
            beat_reg <= beat_reg + 1'b1;
        end
    end
end

// parameter blocks: no reset needed, every tile rewrites its block before use. Beat b
// holds bits [b*WGT_W +: WGT_W]; the zero padding of the last beat is not stored.
genvar pb;
generate
    for (pb = 0; pb < NPB; pb = pb + 1) begin : g_param_beat
        localparam integer    LO   = pb * WGT_W;
        localparam integer    BITS = (PARAM_BITS - LO < WGT_W) ? PARAM_BITS - LO : WGT_W;
        localparam [BEAT_W-1:0] BEAT = pb;
        always @(posedge clk) begin
            if (fire && beat_reg == BEAT && !load_buf) pblock0_reg[LO +: BITS] <= s_axis_wgt_tdata[BITS-1:0];
            if (fire && beat_reg == BEAT &&  load_buf) pblock1_reg[LO +: BITS] <= s_axis_wgt_tdata[BITS-1:0];
        end
    end
endgenerate

conv_sdp_ram #(
    .DATA_W(WGT_W),
    .DEPTH (2*9*CG_MAX),
    .ADDR_W(ADDR_W)
) u_wgt_ram (
    .clk    (clk),
    .wr_en  (fire && !param_beat),
    .wr_addr(wr_addr_reg),
    .wr_data(s_axis_wgt_tdata),
    .rd_en  (rd_en),
    .rd_addr(rd_addr),
    .rd_data(rd_data)
);

endmodule
`default_nettype wire
