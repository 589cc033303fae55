`default_nettype none
// MULT core: int weight codes, a*w on DSP48 multipliers.
// Thin wrapper of conv_engine with ARITH=0; ports and parameters as in docs/engine.md.
module conv_mult #(
    parameter PAR_IN        = 16,   // input channels per step (power of two >= 2)
    parameter PAR_OUT       = 16,   // output channels per tile (power of two >= 2)
    parameter A_BITS        = 8,    // unsigned activation width, 4..8
    parameter W_BITS        = 8,    // weight code width
    parameter EXP1_BITS     = 3,    // SHIFT: exponent bits of term 1
    parameter EXP2_BITS     = 0,    // SHIFT: exponent bits of term 2 (0 = one term)
    parameter LEVEL_EXP_MAX = 8,    // PLUT: largest level exponent
    parameter H_MAX         = 32,   // max rows
    parameter W_MAX         = 32,   // max columns
    parameter CIN_MAX       = 256,  // max input channels
    parameter COUT_MAX      = 512,  // max output channels
    parameter FIFO_DEPTH    = 8     // output FIFO entries
) (
    input  wire                         clk,
    input  wire                         rst,

    input  wire [7:0]                   s_axil_awaddr,
    input  wire [2:0]                   s_axil_awprot,
    input  wire                         s_axil_awvalid,
    output wire                         s_axil_awready,
    input  wire [31:0]                  s_axil_wdata,
    input  wire [3:0]                   s_axil_wstrb,
    input  wire                         s_axil_wvalid,
    output wire                         s_axil_wready,
    output wire [1:0]                   s_axil_bresp,
    output wire                         s_axil_bvalid,
    input  wire                         s_axil_bready,
    input  wire [7:0]                   s_axil_araddr,
    input  wire [2:0]                   s_axil_arprot,
    input  wire                         s_axil_arvalid,
    output wire                         s_axil_arready,
    output wire [31:0]                  s_axil_rdata,
    output wire [1:0]                   s_axil_rresp,
    output wire                         s_axil_rvalid,
    input  wire                         s_axil_rready,

    input  wire [PAR_IN*A_BITS-1:0]     s_axis_act_tdata,
    input  wire                         s_axis_act_tvalid,
    output wire                         s_axis_act_tready,
    input  wire                         s_axis_act_tlast,

    input  wire [PAR_IN*PAR_OUT*W_BITS-1:0] s_axis_wgt_tdata,
    input  wire                         s_axis_wgt_tvalid,
    output wire                         s_axis_wgt_tready,
    input  wire                         s_axis_wgt_tlast,

    output wire [PAR_OUT*32-1:0]        m_axis_out_tdata,
    output wire                         m_axis_out_tvalid,
    input  wire                         m_axis_out_tready,
    output wire                         m_axis_out_tlast,

    output wire                         busy,
    output wire                         done
);

conv_engine #(
    .ARITH        (0),
    .PAR_IN       (PAR_IN),
    .PAR_OUT      (PAR_OUT),
    .A_BITS       (A_BITS),
    .W_BITS       (W_BITS),
    .EXP1_BITS    (EXP1_BITS),
    .EXP2_BITS    (EXP2_BITS),
    .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
    .H_MAX        (H_MAX),
    .W_MAX        (W_MAX),
    .CIN_MAX      (CIN_MAX),
    .COUT_MAX     (COUT_MAX),
    .FIFO_DEPTH   (FIFO_DEPTH)
) u_engine (
    .clk              (clk),
    .rst              (rst),
    .s_axil_awaddr    (s_axil_awaddr),
    .s_axil_awprot    (s_axil_awprot),
    .s_axil_awvalid   (s_axil_awvalid),
    .s_axil_awready   (s_axil_awready),
    .s_axil_wdata     (s_axil_wdata),
    .s_axil_wstrb     (s_axil_wstrb),
    .s_axil_wvalid    (s_axil_wvalid),
    .s_axil_wready    (s_axil_wready),
    .s_axil_bresp     (s_axil_bresp),
    .s_axil_bvalid    (s_axil_bvalid),
    .s_axil_bready    (s_axil_bready),
    .s_axil_araddr    (s_axil_araddr),
    .s_axil_arprot    (s_axil_arprot),
    .s_axil_arvalid   (s_axil_arvalid),
    .s_axil_arready   (s_axil_arready),
    .s_axil_rdata     (s_axil_rdata),
    .s_axil_rresp     (s_axil_rresp),
    .s_axil_rvalid    (s_axil_rvalid),
    .s_axil_rready    (s_axil_rready),
    .s_axis_act_tdata (s_axis_act_tdata),
    .s_axis_act_tvalid(s_axis_act_tvalid),
    .s_axis_act_tready(s_axis_act_tready),
    .s_axis_act_tlast (s_axis_act_tlast),
    .s_axis_wgt_tdata (s_axis_wgt_tdata),
    .s_axis_wgt_tvalid(s_axis_wgt_tvalid),
    .s_axis_wgt_tready(s_axis_wgt_tready),
    .s_axis_wgt_tlast (s_axis_wgt_tlast),
    .m_axis_out_tdata (m_axis_out_tdata),
    .m_axis_out_tvalid(m_axis_out_tvalid),
    .m_axis_out_tready(m_axis_out_tready),
    .m_axis_out_tlast (m_axis_out_tlast),
    .busy             (busy),
    .done             (done)
);

endmodule
`default_nettype wire
