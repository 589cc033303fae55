`default_nettype none
// Activation line buffer: four row slots, each holding one input row of the map
// (W_MAX pixels x CG_MAX channel groups, one PAR_IN-lane word per group), written in
// stream order. The global row g counts rows across all tiles' copies of the map, so the
// next tile's first rows preload while the current tile finishes; row g lives in slot g%4.
// Each slot is split into three column banks (column x in bank x%3, at address
// (x/3)*CG + cg), so one read delivers the three columns x-1, x, x+1 of a channel group:
// the whole 3x3 window (of all four slots) at once, whatever positions a format needs.
// A beat is accepted only while its row is at most two rows ahead of the compute row,
// so the three rows being read (compute row -1, 0, +1) are never overwritten.
module conv_line_buffer #(
    parameter PAR_IN  = 16,                       // channels per beat
    parameter A_BITS  = 8,                        // activation width
    parameter W_MAX   = 32,                       // max columns
    parameter CG_MAX  = 16,                       // max channel groups (Cin/PAR_IN)
    parameter H_W     = 6,                        // width of row counters
    parameter W_W     = 6,                        // width of column counters
    parameter CG_W    = 5,                        // width of channel-group counters
    parameter T_W     = 6,                        // width of tile counters
    parameter GROW_W  = 12,                       // width of the global row counter
    parameter ADDR_W  = $clog2(((W_MAX+3)/3)*CG_MAX) // bank address width
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        launch,      // layer start: reset the write position
    input  wire                        running,
    input  wire [H_W-1:0]              cfg_h,
    input  wire [W_W-1:0]              cfg_w,
    input  wire [CG_W-1:0]             cfg_cg,
    input  wire [T_W-1:0]              cfg_tiles,

    input  wire [PAR_IN*A_BITS-1:0]    s_axis_act_tdata,
    input  wire                        s_axis_act_tvalid,
    output wire                        s_axis_act_tready,
    input  wire                        s_axis_act_tlast,

    input  wire [GROW_W-1:0]           compute_row,    // global row being computed
    output wire [GROW_W-1:0]           write_row,      // global row of the pixel being written
    output wire [W_W-1:0]              write_col,      // column of the pixel being written
    output wire                        frame_err,      // tlast did not match the map end

    input  wire                        rd_en,
    input  wire [3*ADDR_W-1:0]         rd_addr,       // bank b at [b*ADDR_W +: ADDR_W]
    output wire [12*PAR_IN*A_BITS-1:0] rd_data        // slot s, bank b at [(s*3+b)*PAR_IN*A_BITS +: ...]
);

localparam LANES_W    = PAR_IN * A_BITS;
localparam BANK_DEPTH = ((W_MAX + 3) / 3) * CG_MAX;    // column W_MAX (right padding) included

reg [GROW_W-1:0] row_g_reg;     // global row of the write position
reg [H_W-1:0]    row_y_reg;     // row within the map
reg [W_W-1:0]    col_reg;
reg [CG_W-1:0]   cg_reg;
reg [T_W-1:0]    map_reg;       // map copies (tiles) fully written
reg [ADDR_W-1:0] addr_reg;      // (x/3)*CG + cg
reg [ADDR_W-1:0] base_reg;      // (x/3)*CG
reg [1:0]        bank_reg;      // x%3
reg              frame_err_reg;

wire maps_done  = (map_reg == cfg_tiles);
wire row_window = (row_g_reg <= compute_row + {{(GROW_W-2){1'b0}}, 2'd2});
wire accept     = running && !maps_done && row_window;
wire fire       = accept && s_axis_act_tvalid;

wire last_cg  = (cg_reg == cfg_cg - 1'b1);
wire last_col = (col_reg == cfg_w - 1'b1);
wire last_row = (row_y_reg == cfg_h - 1'b1);
wire map_end  = last_cg && last_col && last_row;

assign s_axis_act_tready = accept;
assign write_row = row_g_reg;
assign write_col = col_reg;
assign frame_err = frame_err_reg;

always @(posedge clk) begin
    if (rst || launch) begin
        row_g_reg     <= {GROW_W{1'b0}};
        row_y_reg     <= {H_W{1'b0}};
        col_reg       <= {W_W{1'b0}};
        cg_reg        <= {CG_W{1'b0}};
        map_reg       <= {T_W{1'b0}};
        addr_reg      <= {ADDR_W{1'b0}};
        base_reg      <= {ADDR_W{1'b0}};
        bank_reg      <= 2'd0;
        frame_err_reg <= 1'b0;
    end else if (fire) begin
        if (s_axis_act_tlast != map_end) begin
            frame_err_reg <= 1'b1;
        end
        if (!last_cg) begin
            cg_reg   <= cg_reg + 1'b1;
            addr_reg <= addr_reg + 1'b1;
        end else begin
            cg_reg <= {CG_W{1'b0}};
            if (!last_col) begin
                col_reg <= col_reg + 1'b1;
                if (bank_reg == 2'd2) begin     // next column starts the next bank triple
                    bank_reg <= 2'd0;
                    addr_reg <= addr_reg + 1'b1;
                    base_reg <= addr_reg + 1'b1;
                end else begin
                    bank_reg <= bank_reg + 1'b1;
                    addr_reg <= base_reg;
                end
            end else begin
                col_reg   <= {W_W{1'b0}};
                addr_reg  <= {ADDR_W{1'b0}};
                base_reg  <= {ADDR_W{1'b0}};
                bank_reg  <= 2'd0;
                row_g_reg <= row_g_reg + 1'b1;
                if (!last_row) begin
                    row_y_reg <= row_y_reg + 1'b1;
                end else begin
                    row_y_reg <= {H_W{1'b0}};
                    map_reg   <= map_reg + 1'b1;
                end
            end
        end
    end
end

genvar s, b;
generate
    for (s = 0; s < 4; s = s + 1) begin : g_slot
        for (b = 0; b < 3; b = b + 1) begin : g_bank
            localparam [1:0] SLOT = s;
            localparam [1:0] BANK = b;
            conv_sdp_ram #(
                .DATA_W(LANES_W),
                .DEPTH (BANK_DEPTH),
                .ADDR_W(ADDR_W)
            ) u_ram (
                .clk    (clk),
                .wr_en  (fire && (row_g_reg[1:0] == SLOT) && (bank_reg == BANK)),
                .wr_addr(addr_reg),
                .wr_data(s_axis_act_tdata),
                .rd_en  (rd_en),
                .rd_addr(rd_addr[b*ADDR_W +: ADDR_W]),
                .rd_data(rd_data[(s*3+b)*LANES_W +: LANES_W])
            );
        end
    end
endgenerate

endmodule
`default_nettype wire
