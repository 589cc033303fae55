`default_nettype none
// 3x3 / stride 1 / pad 1 convolution engine (contract: docs/engine.md).
//
// Per output tile (PAR_OUT channels) and output pixel (y, x) the sequencer issues
// 9*CG steps in the order cg, dx, dy (dy innermost); each step is one PAR_IN x PAR_OUT
// block of products. Pipeline:
//   S0 issue      sequencer; line-buffer read of column (x+dx-1, cg) of all 4 row slots
//                 (only at dy == 0: the column serves the three dy steps)
//   S1 tap select row slot of dy, zero padding (conv_tap_select); weight RAM read
//   S2 products   conv_prod_mult / conv_prod_shift / conv_prod_plut (PROD_LAT cycles)
//      adder tree per output lane (TREE_LEVELS cycles), then the accumulators
//   requant       conv_requant (2 cycles) -> output FIFO -> m_axis_out
// Stalls happen only at pixel boundaries: a pixel starts when its input window has
// arrived, its tile's weights are loaded and the output FIFO has room for it and every
// pixel in flight; inside a pixel the pipeline never stalls.
module conv_engine #(
    parameter ARITH         = 0,    // 0 = MULT (int codes), 1 = SHIFT (pot/apot), 2 = PLUT (ios)
    parameter PAR_IN        = 16,   // input channels per step (power of two >= 2)
    parameter PAR_OUT       = 16,   // output channels per tile (power of two >= 2)
    parameter A_BITS        = 8,    // unsigned activation width, 4..8
    parameter W_BITS        = 8,    // weight code width (MULT 2..8, SHIFT 1+E1 or 2+E1+E2, PLUT 4)
    parameter EXP1_BITS     = 3,    // SHIFT: exponent bits of term 1 (1..4)
    parameter EXP2_BITS     = 0,    // SHIFT: exponent bits of term 2 (0 = one-term pot, else 1..4)
    parameter LEVEL_EXP_MAX = 8,    // PLUT: largest level exponent held (|L| <= 7*2^LEVEL_EXP_MAX)
    parameter H_MAX         = 32,   // max rows
    parameter W_MAX         = 32,   // max columns
    parameter CIN_MAX       = 256,  // max input channels (multiple of PAR_IN)
    parameter COUT_MAX      = 512,  // max output channels (multiple of PAR_OUT)
    parameter FIFO_DEPTH    = 8     // output FIFO entries (power of two >= 4)
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

// ---------------------------------------------------------------- derived parameters

// largest |w| a code of the format can decode to (pymodel.codes.max_abs_weight)
function integer max_abs_weight;
    input integer arith, w_bits, exp1_bits, exp2_bits, level_exp_max;
    begin
        if (arith == 0)
            max_abs_weight = 1 << (w_bits - 1);
        else if (arith == 1 && exp2_bits == 0)
            max_abs_weight = 1 << ((1 << exp1_bits) - 2);
        else if (arith == 1)
            max_abs_weight = (1 << ((1 << exp1_bits) - 2)) + (1 << ((1 << exp2_bits) - 2));
        else
            max_abs_weight = 7 << level_exp_max;
    end
endfunction

// signed accumulator width holding any sum of cin*9 products (pymodel.codes.acc_bits),
// evaluated in 64 bits so an oversized configuration is reported, not wrapped
function integer acc_bits;
    input [31:0] cin, a_bits, max_w;
    reg [63:0] bound;
    integer b;
    begin
        bound = {32'd0, cin};
        bound = bound * 64'd9;
        bound = bound * ((64'd1 << a_bits) - 64'd1);
        bound = bound * {32'd0, max_w};
        acc_bits = 1;
        for (b = 0; b < 64; b = b + 1) begin
            if (bound[b]) acc_bits = b + 2;     // bit_length + sign bit
        end
    end
endfunction

function integer max2;
    input integer a, b;
    begin
        max2 = (a > b) ? a : b;
    end
endfunction

localparam ARITH_MULT  = 0;
localparam ARITH_SHIFT = 1;
localparam ARITH_PLUT  = 2;

localparam CG_MAX     = CIN_MAX / PAR_IN;
localparam T_MAX      = COUT_MAX / PAR_OUT;
localparam WGT_W      = PAR_IN * PAR_OUT * W_BITS;
localparam PARAM_BITS = PAR_OUT * 40 + 128;
localparam NPB        = (PARAM_BITS + WGT_W - 1) / WGT_W;
localparam MAX_W      = max_abs_weight(ARITH, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX);
localparam ACC_BITS   = acc_bits(CIN_MAX, A_BITS, MAX_W);

localparam LOG2_PAR_IN  = $clog2(PAR_IN);
localparam LOG2_PAR_OUT = $clog2(PAR_OUT);
localparam H_W    = $clog2(H_MAX + 1);
localparam W_W    = $clog2(W_MAX + 1);
localparam CG_W   = $clog2(CG_MAX + 1);
localparam T_W    = $clog2(T_MAX + 1);
localparam GROW_W = $clog2(T_MAX * H_MAX + 4) + 1;          // global row, with headroom
localparam LB_ADDR_W  = max2(1, $clog2(W_MAX * CG_MAX));     // line-buffer slot address
localparam COL_ADDR_W = $clog2((W_MAX + 1) * CG_MAX + 1);    // (x+dx)*CG + cg
localparam WK_W       = $clog2(9 * CG_MAX);                  // weight beat within a tile
localparam WB_ADDR_W  = $clog2(2 * 9 * CG_MAX);              // weight RAM address
localparam FIFO_CNT_W = $clog2(FIFO_DEPTH) + 1;

// product leaves per output lane
localparam N_TERMS  = (ARITH == ARITH_SHIFT && EXP2_BITS > 0) ? 2 : 1;
localparam SH_MAX   = max2((1 << EXP1_BITS) - 2, (EXP2_BITS > 0) ? (1 << EXP2_BITS) - 2 : 0);
localparam SHIFT_LEAF_W = max2(A_BITS + SH_MAX + 1, $clog2(N_TERMS * PAR_IN + 1) + 1);
// SHIFT and PLUT emit one's-complement leaves plus a correction leaf (count of negatives)
localparam N_LEAVES = (ARITH == ARITH_SHIFT) ? N_TERMS * PAR_IN + 1 :
                      (ARITH == ARITH_PLUT)  ? PAR_IN + 1 : PAR_IN;
localparam LEAF_W   = (ARITH == ARITH_MULT)  ? A_BITS + W_BITS + 1 :
                      (ARITH == ARITH_SHIFT) ? SHIFT_LEAF_W :
                                               A_BITS + 3 + LEVEL_EXP_MAX + 1;
localparam PROD_LAT    = (ARITH == ARITH_SHIFT) ? 1 : 2;
localparam TREE_LEVELS = (N_LEAVES > 1) ? $clog2(N_LEAVES) : 1;
localparam SUM_W       = LEAF_W + TREE_LEVELS;
localparam FLAG_DELAY  = PROD_LAT + TREE_LEVELS;

// ---------------------------------------------------------------- parameter checks

generate
    if (ARITH < 0 || ARITH > 2 ||
        PAR_IN < 2 || (1 << LOG2_PAR_IN) != PAR_IN ||
        PAR_OUT < 2 || (1 << LOG2_PAR_OUT) != PAR_OUT ||
        A_BITS < 4 || A_BITS > 8 ||
        H_MAX < 1 || W_MAX < 1 ||
        CIN_MAX < PAR_IN || CIN_MAX % PAR_IN != 0 ||
        COUT_MAX < PAR_OUT || COUT_MAX % PAR_OUT != 0 ||
        FIFO_DEPTH < 4 || (1 << $clog2(FIFO_DEPTH)) != FIFO_DEPTH ||
        ACC_BITS > 32) begin : g_bad_params
        initial begin
            $display("ERROR: conv_engine: illegal parameters ARITH=%0d PAR_IN=%0d PAR_OUT=%0d A_BITS=%0d CIN_MAX=%0d COUT_MAX=%0d ACC_BITS=%0d FIFO_DEPTH=%0d",
                     ARITH, PAR_IN, PAR_OUT, A_BITS, CIN_MAX, COUT_MAX, ACC_BITS, FIFO_DEPTH);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == ARITH_MULT && (W_BITS < 2 || W_BITS > 8)) begin : g_bad_mult
        initial begin
            $display("ERROR: conv_engine: MULT needs W_BITS in 2..8, got %0d", W_BITS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == ARITH_SHIFT && (EXP1_BITS < 1 || EXP1_BITS > 4 || EXP2_BITS < 0 || EXP2_BITS > 4 ||
        W_BITS != ((EXP2_BITS > 0) ? 2 + EXP1_BITS + EXP2_BITS : 1 + EXP1_BITS))) begin : g_bad_shift
        initial begin
            $display("ERROR: conv_engine: SHIFT needs W_BITS = 1+EXP1_BITS (+1+EXP2_BITS), got W_BITS=%0d EXP1_BITS=%0d EXP2_BITS=%0d",
                     W_BITS, EXP1_BITS, EXP2_BITS);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (ARITH == ARITH_PLUT && (W_BITS != 4 || LEVEL_EXP_MAX < 0 || LEVEL_EXP_MAX > 15)) begin : g_bad_plut
        initial begin
            $display("ERROR: conv_engine: PLUT needs W_BITS = 4 and LEVEL_EXP_MAX in 0..15, got %0d, %0d",
                     W_BITS, LEVEL_EXP_MAX);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

// ---------------------------------------------------------------- register block

wire [31:0] host_h, host_w, host_cin, host_cout;
wire        host_mode;
wire        start_pulse;

reg         running_reg;
reg         done_reg;
reg         cfg_err_reg;
reg         pending_reg;
reg         level_err_reg;
reg  [31:0] cycles_reg;
wire        frame_err_act, frame_err_wgt;

conv_axil_regs #(
    .PAR_IN  (PAR_IN),
    .PAR_OUT (PAR_OUT),
    .W_BITS  (W_BITS),
    .ACC_BITS(ACC_BITS)
) u_regs (
    .clk             (clk),
    .rst             (rst),
    .s_axil_awaddr   (s_axil_awaddr),
    .s_axil_awprot   (s_axil_awprot),
    .s_axil_awvalid  (s_axil_awvalid),
    .s_axil_awready  (s_axil_awready),
    .s_axil_wdata    (s_axil_wdata),
    .s_axil_wstrb    (s_axil_wstrb),
    .s_axil_wvalid   (s_axil_wvalid),
    .s_axil_wready   (s_axil_wready),
    .s_axil_bresp    (s_axil_bresp),
    .s_axil_bvalid   (s_axil_bvalid),
    .s_axil_bready   (s_axil_bready),
    .s_axil_araddr   (s_axil_araddr),
    .s_axil_arprot   (s_axil_arprot),
    .s_axil_arvalid  (s_axil_arvalid),
    .s_axil_arready  (s_axil_arready),
    .s_axil_rdata    (s_axil_rdata),
    .s_axil_rresp    (s_axil_rresp),
    .s_axil_rvalid   (s_axil_rvalid),
    .s_axil_rready   (s_axil_rready),
    .cfg_h           (host_h),
    .cfg_w           (host_w),
    .cfg_cin         (host_cin),
    .cfg_cout        (host_cout),
    .cfg_mode        (host_mode),
    .start_pulse     (start_pulse),
    .status_busy     (running_reg),
    .status_done     (done_reg),
    .status_cfg_err  (cfg_err_reg),
    .status_pending  (pending_reg),
    .status_frame_err(frame_err_act || frame_err_wgt),
    .status_level_err(level_err_reg),
    .cycles          (cycles_reg)
);

// ---------------------------------------------------------------- layer control

localparam [31:0] H_MAX_32    = H_MAX;
localparam [31:0] W_MAX_32    = W_MAX;
localparam [31:0] CIN_MAX_32  = CIN_MAX;
localparam [31:0] COUT_MAX_32 = COUT_MAX;

// configuration captured at layer start
reg [H_W-1:0]  h_reg;
reg [W_W-1:0]  w_reg;
reg [CG_W-1:0] cg_reg;      // Cin / PAR_IN
reg [T_W-1:0]  tiles_reg;   // Cout / PAR_OUT
reg            mode_reg;

wire cfg_ok = (host_h != 32'd0) && (host_h <= H_MAX_32) &&
              (host_w != 32'd0) && (host_w <= W_MAX_32) &&
              (host_cin != 32'd0) && (host_cin <= CIN_MAX_32) && (host_cin[LOG2_PAR_IN-1:0] == 0) &&
              (host_cout != 32'd0) && (host_cout <= COUT_MAX_32) && (host_cout[LOG2_PAR_OUT-1:0] == 0);

wire start_now = !running_reg && (start_pulse || pending_reg);
wire launch    = start_now && cfg_ok;
wire layer_end;

always @(posedge clk) begin
    if (rst) begin
        running_reg <= 1'b0;
        done_reg    <= 1'b0;
        cfg_err_reg <= 1'b0;
        pending_reg <= 1'b0;
        cycles_reg  <= 32'd0;
        h_reg       <= {H_W{1'b0}};
        w_reg       <= {W_W{1'b0}};
        cg_reg      <= {CG_W{1'b0}};
        tiles_reg   <= {T_W{1'b0}};
        mode_reg    <= 1'b0;
    end else begin
        if (start_now) begin
            pending_reg <= 1'b0;
            done_reg    <= !cfg_ok;     // a rejected start completes at once with the error bit
            cfg_err_reg <= !cfg_ok;
            running_reg <= cfg_ok;
            if (cfg_ok) begin
                cycles_reg <= 32'd0;
                h_reg      <= host_h[H_W-1:0];
                w_reg      <= host_w[W_W-1:0];
                cg_reg     <= host_cin[LOG2_PAR_IN +: CG_W];
                tiles_reg  <= host_cout[LOG2_PAR_OUT +: T_W];
                mode_reg   <= host_mode;
            end
        end else begin
            if (start_pulse) begin
                pending_reg <= 1'b1;        // busy: queue one start
            end
            if (running_reg) begin
                cycles_reg <= cycles_reg + 1'b1;
            end
            if (layer_end) begin
                running_reg <= 1'b0;
                done_reg    <= 1'b1;
            end
        end
    end
end

assign busy = running_reg;
assign done = done_reg;

// ---------------------------------------------------------------- input and weight stores

reg  [GROW_W-1:0]        cmp_g_reg;
wire [GROW_W-1:0]        write_row;
wire [W_W-1:0]           write_col;
wire                     lb_rd_en;
wire [LB_ADDR_W-1:0]     lb_rd_addr;
wire [4*PAR_IN*A_BITS-1:0] lb_rd_data;

conv_line_buffer #(
    .PAR_IN (PAR_IN),
    .A_BITS (A_BITS),
    .W_MAX  (W_MAX),
    .CG_MAX (CG_MAX),
    .H_W    (H_W),
    .W_W    (W_W),
    .CG_W   (CG_W),
    .T_W    (T_W),
    .GROW_W (GROW_W),
    .ADDR_W (LB_ADDR_W)
) u_line_buffer (
    .clk              (clk),
    .rst              (rst),
    .launch           (launch),
    .running          (running_reg),
    .cfg_h            (h_reg),
    .cfg_w            (w_reg),
    .cfg_cg           (cg_reg),
    .cfg_tiles        (tiles_reg),
    .s_axis_act_tdata (s_axis_act_tdata),
    .s_axis_act_tvalid(s_axis_act_tvalid),
    .s_axis_act_tready(s_axis_act_tready),
    .s_axis_act_tlast (s_axis_act_tlast),
    .compute_row      (cmp_g_reg),
    .write_row        (write_row),
    .write_col        (write_col),
    .frame_err        (frame_err_act),
    .rd_en            (lb_rd_en),
    .rd_addr          (lb_rd_addr),
    .rd_data          (lb_rd_data)
);

reg  [T_W-1:0]        released_reg;     // tiles whose last output left the requantizer
wire [T_W-1:0]        tiles_loaded;
wire [PARAM_BITS-1:0] params0, params1;
wire                  wb_rd_en;
wire [WB_ADDR_W-1:0]  wb_rd_addr;
wire [WGT_W-1:0]      wb_rd_data;

conv_wgt_buffer #(
    .WGT_W     (WGT_W),
    .CG_MAX    (CG_MAX),
    .NPB       (NPB),
    .PARAM_BITS(PARAM_BITS),
    .CG_W      (CG_W),
    .T_W       (T_W),
    .ADDR_W    (WB_ADDR_W)
) u_wgt_buffer (
    .clk              (clk),
    .rst              (rst),
    .launch           (launch),
    .running          (running_reg),
    .cfg_cg           (cg_reg),
    .cfg_tiles        (tiles_reg),
    .s_axis_wgt_tdata (s_axis_wgt_tdata),
    .s_axis_wgt_tvalid(s_axis_wgt_tvalid),
    .s_axis_wgt_tready(s_axis_wgt_tready),
    .s_axis_wgt_tlast (s_axis_wgt_tlast),
    .tiles_released   (released_reg),
    .tiles_loaded     (tiles_loaded),
    .frame_err        (frame_err_wgt),
    .params0          (params0),
    .params1          (params1),
    .rd_en            (wb_rd_en),
    .rd_addr          (wb_rd_addr),
    .rd_data          (wb_rd_data)
);

// ---------------------------------------------------------------- S0: sequencer

reg  [T_W-1:0]        cmp_t_reg;
reg  [H_W-1:0]        cmp_y_reg;
reg  [W_W-1:0]        cmp_x_reg;
reg  [CG_W-1:0]       cmp_cg_reg;
reg  [1:0]            cmp_dx_reg;
reg  [1:0]            cmp_dy_reg;
reg                   cmp_done_reg;
reg  [COL_ADDR_W-1:0] col_addr_reg;     // (x+dx)*CG + cg: the read column is one to the left
reg  [COL_ADDR_W-1:0] pix_addr_reg;     // x*CG
reg  [WK_W-1:0]       wk_reg;           // cg*9 + dy*3 + dx
reg  [FIFO_CNT_W:0]   inflight_reg;     // pixels started, not yet in the output FIFO
wire [FIFO_CNT_W-1:0] fifo_count;
wire                  push_valid;

localparam integer          FIFO_DEPTH_I = FIFO_DEPTH;
localparam [FIFO_CNT_W:0]   FIFO_DEPTH_C = FIFO_DEPTH_I[FIFO_CNT_W:0];
localparam integer         WB_BUF1_BASE_I = 9 * CG_MAX;
localparam [WB_ADDR_W-1:0] WB_BUF1_BASE   = WB_BUF1_BASE_I[WB_ADDR_W-1:0];
localparam [WK_W-1:0]      WK_STEP_DY     = 3;     // next tap row: +3
localparam [WK_W-1:0]      WK_STEP_DX     = 5;     // next tap column, first row: -6+1

wire [COL_ADDR_W-1:0] cg_ext = {{(COL_ADDR_W-CG_W){1'b0}}, cg_reg};

wire first_step = (cmp_cg_reg == {CG_W{1'b0}}) && (cmp_dx_reg == 2'd0) && (cmp_dy_reg == 2'd0);
wire last_dy    = (cmp_dy_reg == 2'd2);
wire last_dx    = (cmp_dx_reg == 2'd2);
wire last_cg    = (cmp_cg_reg == cg_reg - 1'b1);
wire last_x     = (cmp_x_reg == w_reg - 1'b1);
wire last_y     = (cmp_y_reg == h_reg - 1'b1);
wire last_t     = (cmp_t_reg == tiles_reg - 1'b1);
wire last_step  = last_cg && last_dx && last_dy;

// the window of pixel (y, x) is complete once input pixel (min(y+1,H-1), min(x+1,W-1))
// of this tile's copy of the map has been written
wire [GROW_W-1:0] need_row = cmp_g_reg + {{(GROW_W-1){1'b0}}, !last_y};
wire [W_W-1:0]    need_col = cmp_x_reg + {{(W_W-1){1'b0}}, !last_x};
wire input_ready   = (write_row > need_row) || ((write_row == need_row) && (write_col > need_col));
wire weights_ready = (tiles_loaded > cmp_t_reg);
wire output_room   = ({1'b0, fifo_count} + inflight_reg) < FIFO_DEPTH_C;
wire issue = running_reg && !cmp_done_reg &&
             (!first_step || (input_ready && weights_ready && output_room));

wire row_inside = (cmp_dy_reg == 2'd0) ? (cmp_y_reg != {H_W{1'b0}}) :
                  (cmp_dy_reg == 2'd2) ? !last_y : 1'b1;
wire col_inside = !((cmp_x_reg == {W_W{1'b0}}) && (cmp_dx_reg == 2'd0)) &&
                  !(last_x && last_dx);
wire [1:0] tap_slot = cmp_g_reg[1:0] + cmp_dy_reg + 2'd3;     // slot of global row g+dy-1
wire [COL_ADDR_W-1:0] read_col_addr = col_addr_reg - cg_ext;

assign lb_rd_en   = issue && (cmp_dy_reg == 2'd0);
assign lb_rd_addr = read_col_addr[LB_ADDR_W-1:0];

always @(posedge clk) begin
    if (rst || launch) begin
        cmp_t_reg    <= {T_W{1'b0}};
        cmp_y_reg    <= {H_W{1'b0}};
        cmp_x_reg    <= {W_W{1'b0}};
        cmp_cg_reg   <= {CG_W{1'b0}};
        cmp_dx_reg   <= 2'd0;
        cmp_dy_reg   <= 2'd0;
        cmp_g_reg    <= {GROW_W{1'b0}};
        cmp_done_reg <= 1'b0;
        col_addr_reg <= {COL_ADDR_W{1'b0}};
        pix_addr_reg <= {COL_ADDR_W{1'b0}};
        wk_reg       <= {WK_W{1'b0}};
    end else if (issue) begin
        if (!last_dy) begin
            cmp_dy_reg <= cmp_dy_reg + 1'b1;
            wk_reg     <= wk_reg + WK_STEP_DY;
        end else begin
            cmp_dy_reg <= 2'd0;
            if (!last_dx) begin
                cmp_dx_reg   <= cmp_dx_reg + 1'b1;
                col_addr_reg <= col_addr_reg + cg_ext;
                wk_reg       <= wk_reg - WK_STEP_DX;
            end else begin
                cmp_dx_reg <= 2'd0;
                if (!last_cg) begin
                    cmp_cg_reg   <= cmp_cg_reg + 1'b1;
                    col_addr_reg <= col_addr_reg - (cg_ext << 1) + 1'b1;
                    wk_reg       <= wk_reg + 1'b1;
                end else begin
                    // next pixel
                    cmp_cg_reg <= {CG_W{1'b0}};
                    wk_reg     <= {WK_W{1'b0}};
                    if (!last_x) begin
                        cmp_x_reg    <= cmp_x_reg + 1'b1;
                        pix_addr_reg <= pix_addr_reg + cg_ext;
                        col_addr_reg <= pix_addr_reg + cg_ext;
                    end else begin
                        cmp_x_reg    <= {W_W{1'b0}};
                        pix_addr_reg <= {COL_ADDR_W{1'b0}};
                        col_addr_reg <= {COL_ADDR_W{1'b0}};
                        cmp_g_reg    <= cmp_g_reg + 1'b1;
                        if (!last_y) begin
                            cmp_y_reg <= cmp_y_reg + 1'b1;
                        end else begin
                            cmp_y_reg <= {H_W{1'b0}};
                            if (!last_t) begin
                                cmp_t_reg <= cmp_t_reg + 1'b1;
                            end else begin
                                cmp_done_reg <= 1'b1;
                            end
                        end
                    end
                end
            end
        end
    end
end

always @(posedge clk) begin
    if (rst || launch) begin
        inflight_reg <= {(FIFO_CNT_W+1){1'b0}};
    end else begin
        case ({issue && first_step, push_valid})
            2'b10:   inflight_reg <= inflight_reg + 1'b1;
            2'b01:   inflight_reg <= inflight_reg - 1'b1;
            default: ;
        endcase
    end
end

// ---------------------------------------------------------------- S1: tap select, weight read

reg                 s1_valid_reg, s1_first_reg, s1_last_reg, s1_tile_last_reg, s1_buf_reg;
reg                 s1_inside_reg;
reg [1:0]           s1_slot_reg;
reg [WB_ADDR_W-1:0] s1_wb_addr_reg;

always @(posedge clk) begin
    if (rst) begin
        s1_valid_reg <= 1'b0;
    end else begin
        s1_valid_reg <= issue;
    end
    s1_first_reg     <= first_step;
    s1_last_reg      <= last_step;
    s1_tile_last_reg <= last_step && last_x && last_y;
    s1_buf_reg       <= cmp_t_reg[0];
    s1_inside_reg    <= row_inside && col_inside;
    s1_slot_reg      <= tap_slot;
    s1_wb_addr_reg   <= (cmp_t_reg[0] ? WB_BUF1_BASE : {WB_ADDR_W{1'b0}}) +
                        {{(WB_ADDR_W-WK_W){1'b0}}, wk_reg};
end

assign wb_rd_en   = s1_valid_reg;
assign wb_rd_addr = s1_wb_addr_reg;

wire [PAR_IN*A_BITS-1:0] tap_act;

conv_tap_select #(
    .PAR_IN(PAR_IN),
    .A_BITS(A_BITS)
) u_tap_select (
    .clk       (clk),
    .slot_data (lb_rd_data),
    .slot      (s1_slot_reg),
    .tap_inside(s1_inside_reg),
    .act       (tap_act)
);

// ---------------------------------------------------------------- S2: products and adder trees

reg s2_valid_reg, s2_first_reg, s2_last_reg, s2_tile_last_reg, s2_buf_reg;

always @(posedge clk) begin
    if (rst) begin
        s2_valid_reg <= 1'b0;
    end else begin
        s2_valid_reg <= s1_valid_reg;
    end
    s2_first_reg     <= s1_first_reg;
    s2_last_reg      <= s1_last_reg;
    s2_tile_last_reg <= s1_tile_last_reg;
    s2_buf_reg       <= s1_buf_reg;
end

wire [16*8-1:0] levels = s2_buf_reg ? params1[PAR_OUT*40 +: 128] : params0[PAR_OUT*40 +: 128];
wire [PAR_OUT*N_LEAVES*LEAF_W-1:0] leaves;

generate
    if (ARITH == ARITH_MULT) begin : g_mult
        conv_prod_mult #(
            .PAR_IN (PAR_IN),
            .PAR_OUT(PAR_OUT),
            .A_BITS (A_BITS),
            .W_BITS (W_BITS),
            .PROD_W (LEAF_W)
        ) u_prod (
            .clk  (clk),
            .act  (tap_act),
            .codes(wb_rd_data),
            .prod (leaves)
        );
    end else if (ARITH == ARITH_SHIFT) begin : g_shift
        conv_prod_shift #(
            .PAR_IN   (PAR_IN),
            .PAR_OUT  (PAR_OUT),
            .A_BITS   (A_BITS),
            .EXP1_BITS(EXP1_BITS),
            .EXP2_BITS(EXP2_BITS),
            .W_BITS   (W_BITS),
            .N_TERMS  (N_TERMS),
            .LEAF_W   (LEAF_W)
        ) u_prod (
            .clk   (clk),
            .act   (tap_act),
            .codes (wb_rd_data),
            .leaves(leaves)
        );
    end else begin : g_plut
        conv_prod_plut #(
            .PAR_IN       (PAR_IN),
            .PAR_OUT      (PAR_OUT),
            .A_BITS       (A_BITS),
            .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
            .LEAF_W       (LEAF_W)
        ) u_prod (
            .clk   (clk),
            .act   (tap_act),
            .codes (wb_rd_data),
            .levels(levels),
            .leaves(leaves)
        );
    end
endgenerate

// PLUT: a level exponent beyond LEVEL_EXP_MAX would not fit the product bank
integer j;
reg level_exp_too_big;
always @* begin
    level_exp_too_big = 1'b0;
    for (j = 0; j < 16; j = j + 1) begin
        if ({28'd0, levels[j*8 +: 4]} > LEVEL_EXP_MAX) level_exp_too_big = 1'b1;
    end
end

always @(posedge clk) begin
    if (rst || launch) begin
        level_err_reg <= 1'b0;
    end else if (ARITH == ARITH_PLUT && s2_valid_reg && level_exp_too_big) begin
        level_err_reg <= 1'b1;
    end
end

wire [PAR_OUT*SUM_W-1:0] lane_sums;

genvar o;
generate
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_tree
        conv_adder_tree #(
            .N_IN  (N_LEAVES),
            .IN_W  (LEAF_W),
            .LEVELS(TREE_LEVELS),
            .OUT_W (SUM_W)
        ) u_tree (
            .clk   (clk),
            .leaves(leaves[o*N_LEAVES*LEAF_W +: N_LEAVES*LEAF_W]),
            .sum   (lane_sums[o*SUM_W +: SUM_W])
        );
    end
endgenerate

// control flags beside products and trees
wire sum_valid, sum_first, sum_last, sum_tile_last, sum_buf;

conv_pipe_delay #(
    .WIDTH(5),
    .DEPTH(FLAG_DELAY)
) u_flag_delay (
    .clk     (clk),
    .rst     (rst),
    .in_data ({s2_valid_reg, s2_first_reg, s2_last_reg, s2_tile_last_reg, s2_buf_reg}),
    .out_data({sum_valid, sum_first, sum_last, sum_tile_last, sum_buf})
);

// ---------------------------------------------------------------- accumulators

reg [PAR_OUT*ACC_BITS-1:0] acc_reg;
reg                        acc_done_reg, acc_tile_last_reg, acc_buf_reg;

generate
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_acc
        // a step's lane sum is bounded by the layer bound, so it fits ACC_BITS
        wire signed [SUM_W-1:0]    lane_sum = lane_sums[o*SUM_W +: SUM_W];
        wire signed [ACC_BITS-1:0] lane_sum_acc;
        if (SUM_W >= ACC_BITS) begin : g_narrow
            assign lane_sum_acc = lane_sum[ACC_BITS-1:0];
        end else begin : g_widen
            assign lane_sum_acc = {{(ACC_BITS-SUM_W){lane_sum[SUM_W-1]}}, lane_sum};
        end
        always @(posedge clk) begin
            if (sum_valid) begin
                acc_reg[o*ACC_BITS +: ACC_BITS] <= sum_first ? lane_sum_acc :
                                                   acc_reg[o*ACC_BITS +: ACC_BITS] + lane_sum_acc;
            end
        end
    end
endgenerate

always @(posedge clk) begin
    if (rst) begin
        acc_done_reg <= 1'b0;
    end else begin
        acc_done_reg <= sum_valid && sum_last;
    end
    acc_tile_last_reg <= sum_tile_last;
    acc_buf_reg       <= sum_buf;
end

// ---------------------------------------------------------------- requantizer and output FIFO

// bias and shift of the tile in the requantizer
wire [PAR_OUT*32-1:0] acc_bias  = acc_buf_reg ? params1[0 +: PAR_OUT*32] : params0[0 +: PAR_OUT*32];
wire [PAR_OUT*8-1:0]  acc_shift = acc_buf_reg ? params1[PAR_OUT*32 +: PAR_OUT*8] : params0[PAR_OUT*32 +: PAR_OUT*8];
wire [PAR_OUT*32-1:0]    push_data;
wire                     push_tile_last;

conv_requant #(
    .PAR_OUT (PAR_OUT),
    .ACC_BITS(ACC_BITS),
    .A_BITS  (A_BITS)
) u_requant (
    .clk          (clk),
    .rst          (rst),
    .in_valid     (acc_done_reg),
    .in_tile_last (acc_tile_last_reg),
    .acc          (acc_reg),
    .bias         (acc_bias),
    .shift        (acc_shift),
    .mode_requant (mode_reg),
    .out_valid    (push_valid),
    .out_tile_last(push_tile_last),
    .out_data     (push_data)
);

always @(posedge clk) begin
    if (rst || launch) begin
        released_reg <= {T_W{1'b0}};
    end else if (push_tile_last) begin
        released_reg <= released_reg + 1'b1;
    end
end

wire [PAR_OUT*32:0] fifo_data;

conv_out_fifo #(
    .DATA_W(PAR_OUT*32 + 1),
    .DEPTH (FIFO_DEPTH),
    .CNT_W (FIFO_CNT_W)
) u_out_fifo (
    .clk      (clk),
    .rst      (rst),
    .push     (push_valid),
    .push_data({push_tile_last, push_data}),
    .m_data   (fifo_data),
    .m_valid  (m_axis_out_tvalid),
    .m_ready  (m_axis_out_tready),
    .count    (fifo_count)
);

assign m_axis_out_tdata = fifo_data[PAR_OUT*32-1:0];
assign m_axis_out_tlast = fifo_data[PAR_OUT*32];

reg [T_W-1:0] out_tiles_reg;    // tiles fully sent
wire out_fire = m_axis_out_tvalid && m_axis_out_tready;
assign layer_end = running_reg && out_fire && m_axis_out_tlast && (out_tiles_reg == tiles_reg - 1'b1);

always @(posedge clk) begin
    if (rst || launch) begin
        out_tiles_reg <= {T_W{1'b0}};
    end else if (out_fire && m_axis_out_tlast) begin
        out_tiles_reg <= out_tiles_reg + 1'b1;
    end
end

endmodule
`default_nettype wire
