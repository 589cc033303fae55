`default_nettype none
// AXI4-Lite register block of the convolution engine (register map: spec/conv_engine.hjson,
// rtl/conv_contract.vh; docs/engine.md).
// One outstanding write and one outstanding read; ready is asserted in the cycle the
// request is accepted (allowed by AXI: ready may depend on valid).
module conv_axil_regs #(
    parameter PAR_IN   = 16,    // reported in INFO
    parameter PAR_OUT  = 16,    // reported in INFO
    parameter W_BITS   = 8,     // reported in INFO
    parameter ACC_BITS = 32     // reported in INFO
) (
    input  wire        clk,
    input  wire        rst,

    input  wire [7:0]  s_axil_awaddr,
    input  wire [2:0]  s_axil_awprot,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [7:0]  s_axil_araddr,
    input  wire [2:0]  s_axil_arprot,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready,

    // host-written configuration (captured by the engine when a layer starts)
    output wire [31:0] cfg_h,
    output wire [31:0] cfg_w,
    output wire [31:0] cfg_cin,
    output wire [31:0] cfg_cout,
    output wire        cfg_mode,        // MODE bit0 (the other bits are reserved, read 0)
    output wire        start_pulse,     // one cycle per write of CTRL with bit0 set

    // status from the engine
    input  wire        status_busy,
    input  wire        status_done,
    input  wire        status_cfg_err,
    input  wire        status_pending,
    input  wire        status_frame_err,
    input  wire        status_level_err,
    input  wire        status_index_err,
    input  wire [31:0] cycles
);

`include "conv_contract.vh"

// INFO = the build parameters at their contract positions
localparam [31:0] INFO_PAR_IN   = {{(32-`CONV_INFO_PAR_IN_WIDTH){1'b0}}, PAR_IN[`CONV_INFO_PAR_IN_WIDTH-1:0]};
localparam [31:0] INFO_PAR_OUT  = {{(32-`CONV_INFO_PAR_OUT_WIDTH){1'b0}}, PAR_OUT[`CONV_INFO_PAR_OUT_WIDTH-1:0]};
localparam [31:0] INFO_W_BITS   = {{(32-`CONV_INFO_W_BITS_WIDTH){1'b0}}, W_BITS[`CONV_INFO_W_BITS_WIDTH-1:0]};
localparam [31:0] INFO_ACC_BITS = {{(32-`CONV_INFO_ACC_BITS_WIDTH){1'b0}}, ACC_BITS[`CONV_INFO_ACC_BITS_WIDTH-1:0]};
localparam [31:0] INFO_VALUE = (INFO_PAR_IN << `CONV_INFO_PAR_IN_LSB) | (INFO_PAR_OUT << `CONV_INFO_PAR_OUT_LSB) |
                               (INFO_W_BITS << `CONV_INFO_W_BITS_LSB) | (INFO_ACC_BITS << `CONV_INFO_ACC_BITS_LSB);

reg [31:0] h_reg, h_next;
reg [31:0] w_reg, w_next;
reg [31:0] cin_reg, cin_next;
reg [31:0] cout_reg, cout_next;
reg        mode_reg, mode_next;
reg        start_reg, start_next;
reg        bvalid_reg, bvalid_next;
reg        rvalid_reg, rvalid_next;
reg [31:0] rdata_reg, rdata_next;

// a write needs both address and data; a new one waits until the response is taken
wire write_accept = s_axil_awvalid && s_axil_wvalid && !bvalid_reg;
wire read_accept  = s_axil_arvalid && !rvalid_reg;
// word-aligned addresses (the low two bits select a byte within the word)
wire [7:0] write_index = {s_axil_awaddr[7:2], 2'b00};
wire [7:0] read_index  = {s_axil_araddr[7:2], 2'b00};

// STATUS: the engine's status inputs at their contract bit positions, the other bits 0
reg [31:0] status_word;
always @* begin
    status_word = 32'd0;
    status_word[`CONV_STATUS_BUSY_LSB]      = status_busy;
    status_word[`CONV_STATUS_DONE_LSB]      = status_done;
    status_word[`CONV_STATUS_CFG_ERR_LSB]   = status_cfg_err;
    status_word[`CONV_STATUS_PENDING_LSB]   = status_pending;
    status_word[`CONV_STATUS_FRAME_ERR_LSB] = status_frame_err;
    status_word[`CONV_STATUS_LEVEL_ERR_LSB] = status_level_err;
    status_word[`CONV_STATUS_INDEX_ERR_LSB] = status_index_err;
end

assign s_axil_awready = write_accept;
assign s_axil_wready  = write_accept;
assign s_axil_bresp   = 2'b00;
assign s_axil_bvalid  = bvalid_reg;
assign s_axil_arready = read_accept;
assign s_axil_rdata   = rdata_reg;
assign s_axil_rresp   = 2'b00;
assign s_axil_rvalid  = rvalid_reg;

assign cfg_h       = h_reg;
assign cfg_w       = w_reg;
assign cfg_cin     = cin_reg;
assign cfg_cout    = cout_reg;
assign cfg_mode    = mode_reg;
assign start_pulse = start_reg;

// byte-strobed update of a read-write register
function [31:0] apply_strobes;
    input [31:0] old_value;
    input [31:0] new_value;
    input [3:0]  strobes;
    integer b;
    begin
        apply_strobes = old_value;
        for (b = 0; b < 4; b = b + 1) begin
            if (strobes[b]) begin
                apply_strobes[b*8 +: 8] = new_value[b*8 +: 8];
            end
        end
    end
endfunction

always @* begin
    h_next      = h_reg;
    w_next      = w_reg;
    cin_next    = cin_reg;
    cout_next   = cout_reg;
    mode_next   = mode_reg;
    start_next  = 1'b0;
    bvalid_next = bvalid_reg && !s_axil_bready;
    rvalid_next = rvalid_reg && !s_axil_rready;
    rdata_next  = rdata_reg;

    if (write_accept) begin
        bvalid_next = 1'b1;
        case (write_index)
            `CONV_REG_CTRL: start_next = s_axil_wstrb[0] && s_axil_wdata[0];
            `CONV_REG_H:    h_next     = apply_strobes(h_reg, s_axil_wdata, s_axil_wstrb);
            `CONV_REG_W:    w_next     = apply_strobes(w_reg, s_axil_wdata, s_axil_wstrb);
            `CONV_REG_CIN:  cin_next   = apply_strobes(cin_reg, s_axil_wdata, s_axil_wstrb);
            `CONV_REG_COUT: cout_next  = apply_strobes(cout_reg, s_axil_wdata, s_axil_wstrb);
            `CONV_REG_MODE: mode_next  = s_axil_wstrb[0] ? s_axil_wdata[0] : mode_reg;
            default:  ; // read-only or unmapped: the write is acknowledged and ignored
        endcase
    end

    if (read_accept) begin
        rvalid_next = 1'b1;
        case (read_index)
            `CONV_REG_CTRL:   rdata_next = 32'd0;
            `CONV_REG_STATUS: rdata_next = status_word;
            `CONV_REG_H:      rdata_next = h_reg;
            `CONV_REG_W:      rdata_next = w_reg;
            `CONV_REG_CIN:    rdata_next = cin_reg;
            `CONV_REG_COUT:   rdata_next = cout_reg;
            `CONV_REG_MODE:   rdata_next = {31'd0, mode_reg};
            `CONV_REG_CYCLES: rdata_next = cycles;
            `CONV_REG_INFO:   rdata_next = INFO_VALUE;
            default:    rdata_next = 32'd0;
        endcase
    end
end

always @(posedge clk) begin
    if (rst) begin
        h_reg      <= 32'd0;
        w_reg      <= 32'd0;
        cin_reg    <= 32'd0;
        cout_reg   <= 32'd0;
        mode_reg   <= 1'b0;
        start_reg  <= 1'b0;
        bvalid_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        rdata_reg  <= 32'd0;
    end else begin
        h_reg      <= h_next;
        w_reg      <= w_next;
        cin_reg    <= cin_next;
        cout_reg   <= cout_next;
        mode_reg   <= mode_next;
        start_reg  <= start_next;
        bvalid_reg <= bvalid_next;
        rvalid_reg <= rvalid_next;
        rdata_reg  <= rdata_next;
    end
end

endmodule
`default_nettype wire
