`default_nettype none
`include "conv_contract.vh"
// 3x3 / stride 1 / pad 1 convolution engine (contract: docs/engine.md). The top of every
// core: ARITH picks the product unit, FORMAT the weight format (the RTL twin of the HLS
// kernel's product x format policies, hls/include/conv_product.h and conv_format.h).
//
// Per output tile (PAR_OUT channels) and output pixel (y, x) the sequencer issues
// TAPS steps per channel group cg (dense 9, KRP 3, IKR IKR_K), only for kept weights;
// each step is one PAR_IN x PAR_OUT block of products. Pipeline:
//   S0 issue      sequencer; at tap 0 of a group: line-buffer read of the group's whole
//                 window (4 row slots x 3 column banks) and of its index beat (KRP/IKR)
//   S1 select     conv_window_select: the step's NCAND candidate positions per input lane,
//                 zero padding; conv_lane_index: each lane's candidate; weight RAM read
//   S2 products   conv_prod_mult / conv_prod_shift / conv_prod_plut (PROD_LAT cycles;
//                 the lane's choice among the candidates happens inside the unit)
//      adder tree per output lane (TREE_LEVELS cycles), then the accumulators
//   back end      conv_backend: capture, time-shared conv_requant lanes (bias/shift RAM)
//                 -> output FIFO -> m_axis_out
// Stalls happen only at pixel boundaries: a pixel starts when its input window has
// arrived, its tile's weights are loaded and the output FIFO has room for it and every
// pixel in flight; inside a pixel the pipeline never stalls.
module conv_engine #(
    parameter ARITH         = 0,    // product unit: an `arithmetics` id of spec/cores.hjson (conv_prod_unit.v)
    parameter FORMAT        = 0,    // 0 = dense, 1 = KRP (one kept row), 2 = IKR (IKR_K of 9 kept)
    parameter IKR_K         = 4,    // IKR: kept weights per kernel (1..9)
    parameter IKR_P         = 8,    // IKR: patterns in the library (1..256)
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
    parameter FIFO_DEPTH    = 8,    // output FIFO entries (power of two >= 4)
    parameter MULT_PACK     = 0,    // MULT, dense: 1 = two products per DSP48E1 (conv_prod_mult PACK)
    parameter PLUT_SYM      = 0,    // PLUT: 1 = sign-symmetric codebook, 8-magnitude bank (conv_prod_plut SYM)
    parameter RQ_LANES      = 0     // back-end requantizer lanes: 0 = as many as one channel group's pixel
                                    // rate needs (TAPS cycles a pixel), else a power of two <= PAR_OUT:
                                    // a pixel then takes PAR_OUT/RQ_LANES cycles in the back end, and a
                                    // layer with fewer steps a pixel (TAPS x Cin/PAR_IN) is throttled to it
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

    output wire [PAR_OUT*`CONV_OUT_LANE_BITS-1:0] m_axis_out_tdata,
    output wire                         m_axis_out_tvalid,
    input  wire                         m_axis_out_tready,
    output wire                         m_axis_out_tlast,

    output wire                         busy,
    output wire                         done
);

`include "conv_prod_info.vh"

// ---------------------------------------------------------------- derived parameters

// signed accumulator width holding any sum of cin*9 products (pymodel.codes.acc_bits),
// evaluated in 64 bits so an oversized configuration is reported, not wrapped
function integer acc_bits;
    input [31:0] cin, a_bits, max_w;
    reg [63:0] bound;
    integer b;
    begin
        bound = {32'd0, cin};
        bound = bound * `CONV_TAPS;
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

// smallest power of two r (dividing PAR_OUT) with PAR_OUT / r <= taps (Python twin:
// verif/common/streams.py rq_lanes_for)
function integer rq_lanes_for;
    input integer par_out, taps;
    integer r;
    begin
        r = 1;
        while (r < par_out && par_out / r > taps) r = r * 2;
        rq_lanes_for = r;
    end
endfunction

localparam FORMAT_IKR  = 2;

// weight format
localparam TAPS       = fmt_taps(FORMAT, IKR_K);
localparam NCAND      = fmt_ncand(FORMAT, IKR_K);
localparam SEL_W      = fmt_sel_w(FORMAT, IKR_K);
localparam IDX_W      = fmt_idx_bits(FORMAT, IKR_P);
localparam TABLE_BITS = fmt_table_bits(FORMAT, IKR_P);
localparam TABLE_W    = max2(1, TABLE_BITS);
localparam HAS_IDX    = (FORMAT != 0) ? 1 : 0;
localparam TAP_W      = 4;

localparam CG_MAX     = CIN_MAX / PAR_IN;
localparam T_MAX      = COUT_MAX / PAR_OUT;
localparam WGT_W      = PAR_IN * PAR_OUT * W_BITS;
localparam IDX_BEAT_W = HAS_IDX * PAR_IN * PAR_OUT * IDX_W;
// parameter block (docs/engine.md): PAR_OUT x {bias, shift}, the level descriptors, the IKR library
localparam LEVELS_LSB = PAR_OUT * `CONV_PB_CHANNEL_BITS;
localparam TABLE_LSB  = LEVELS_LSB + `CONV_PB_FIXED_BITS;
localparam PARAM_BITS = TABLE_LSB + TABLE_BITS;
localparam NPB        = (PARAM_BITS + WGT_W - 1) / WGT_W;
// the parameter block bits the weight buffer stores: bias and shift go to the back end's
// RAM, the level descriptors only matter to PLUT, the IKR library (last) to IKR
localparam PARAM_KEEP_LSB = (prod_reads_levels(ARITH) != 0) ? LEVELS_LSB : TABLE_LSB;
localparam MAX_W      = prod_max_w(ARITH, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX);
localparam ACC_BITS   = acc_bits(CIN_MAX, A_BITS, MAX_W);
localparam OUT_W      = max2(ACC_BITS, A_BITS + 1);   // output lane before sign extension

localparam LOG2_PAR_IN  = $clog2(PAR_IN);
localparam LOG2_PAR_OUT = $clog2(PAR_OUT);
localparam H_W    = $clog2(H_MAX + 1);
localparam W_W    = $clog2(W_MAX + 1);
localparam CG_W   = $clog2(CG_MAX + 1);
localparam T_W    = $clog2(T_MAX + 1);
localparam GROW_W = $clog2(T_MAX * H_MAX + 4) + 1;          // global row, with headroom
localparam LB_ADDR_W  = max2(1, $clog2(((W_MAX + 3) / 3) * CG_MAX));  // line-buffer bank address
localparam WK_W       = max2(1, $clog2(TAPS * CG_MAX));      // weight beat within a tile
localparam WB_ADDR_W  = $clog2(2 * TAPS * CG_MAX);           // weight RAM address
localparam IB_ADDR_W  = $clog2(2 * CG_MAX);                  // index RAM address
localparam FIFO_CNT_W = $clog2(FIFO_DEPTH) + 1;

// back end: RQ_PASSES cycles a pixel; more than TAPS only with an explicit RQ_LANES, and then
// pixel starts are spaced by RQ_PASSES cycles (conv8 at its shapes never needs it: TAPS x
// Cin/PAR_IN >= PAR_OUT, so one requantizer lane keeps up; issue 22)
localparam RQ_LANES_USED = (RQ_LANES == 0) ? rq_lanes_for(PAR_OUT, TAPS) : RQ_LANES;
localparam RQ_PASSES     = PAR_OUT / RQ_LANES_USED;
localparam THROTTLE      = (RQ_PASSES > TAPS) ? 1 : 0;
localparam GAP_W         = $clog2(RQ_PASSES + 1);

// product unit
localparam N_LEAVES    = prod_n_leaves(ARITH, EXP2_BITS, PAR_IN);
localparam LEAF_W      = prod_leaf_w(ARITH, A_BITS, W_BITS, EXP1_BITS, EXP2_BITS, LEVEL_EXP_MAX, PAR_IN);
localparam PROD_LAT    = prod_latency(ARITH);
localparam TREE_LEVELS = (N_LEAVES > 1) ? $clog2(N_LEAVES) : 1;
localparam SUM_W       = LEAF_W + TREE_LEVELS;
localparam FLAG_DELAY  = PROD_LAT + TREE_LEVELS;

// ---------------------------------------------------------------- parameter checks

generate
    if (FORMAT < 0 || FORMAT > 2 || MULT_PACK < 0 || MULT_PACK > 1 || PLUT_SYM < `CONV_PLUT_SYM_MIN || PLUT_SYM > `CONV_PLUT_SYM_MAX ||
        PAR_IN < `CONV_PAR_IN_MIN || PAR_IN > `CONV_PAR_IN_MAX || (1 << LOG2_PAR_IN) != PAR_IN ||
        PAR_OUT < `CONV_PAR_OUT_MIN || PAR_OUT > `CONV_PAR_OUT_MAX || (1 << LOG2_PAR_OUT) != PAR_OUT ||
        A_BITS < `CONV_A_BITS_MIN || A_BITS > `CONV_A_BITS_MAX ||
        H_MAX < 1 || W_MAX < 1 ||
        CIN_MAX < PAR_IN || CIN_MAX % PAR_IN != 0 ||
        COUT_MAX < PAR_OUT || COUT_MAX % PAR_OUT != 0 ||
        FIFO_DEPTH < 4 || (1 << $clog2(FIFO_DEPTH)) != FIFO_DEPTH ||
        RQ_LANES < `CONV_RQ_LANES_MIN || RQ_LANES > `CONV_RQ_LANES_MAX || RQ_LANES > PAR_OUT ||
        (RQ_LANES != 0 && (1 << $clog2(RQ_LANES)) != RQ_LANES) ||
        ACC_BITS > `CONV_OUT_LANE_BITS) begin : g_bad_params
        initial begin
            $display("ERROR: conv_engine: illegal parameters ARITH=%0d FORMAT=%0d PAR_IN=%0d PAR_OUT=%0d A_BITS=%0d CIN_MAX=%0d COUT_MAX=%0d ACC_BITS=%0d FIFO_DEPTH=%0d RQ_LANES=%0d",
                     ARITH, FORMAT, PAR_IN, PAR_OUT, A_BITS, CIN_MAX, COUT_MAX, ACC_BITS, FIFO_DEPTH, RQ_LANES);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (FORMAT == FORMAT_IKR && (IKR_K < `CONV_IKR_K_MIN || IKR_K > `CONV_IKR_K_MAX || IKR_P < `CONV_IKR_P_MIN ||
                                 IKR_P > `CONV_IKR_P_MAX || IDX_W > W_BITS)) begin : g_bad_ikr
        initial begin
            $display("ERROR: conv_engine: IKR needs IKR_K in 1..9, IKR_P in 1..256 and pattern ids no wider than W_BITS, got %0d, %0d, %0d",
                     IKR_K, IKR_P, IDX_W);
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
reg         index_err_reg;
reg  [31:0] cycles_reg;
wire        frame_err_act, frame_err_wgt;
reg         frame_err_hidden_reg;   // a rejected start clears the stores' sticky framing errors

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
    .status_frame_err((frame_err_act || frame_err_wgt) && !frame_err_hidden_reg),
    .status_level_err(level_err_reg),
    .status_index_err(index_err_reg),
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

// STATUS bits 4..6 are cleared by the next start, a rejected one included (docs/engine.md);
// the stores clear their framing errors only when a layer launches, so a rejected start hides them
always @(posedge clk) begin
    if (rst || launch) begin
        frame_err_hidden_reg <= 1'b0;
    end else if (start_now) begin
        frame_err_hidden_reg <= 1'b1;
    end
end

assign busy = running_reg;
assign done = done_reg;

// ---------------------------------------------------------------- input and weight stores

reg  [GROW_W-1:0]          cmp_g_reg;
wire [GROW_W-1:0]          write_row;
wire [W_W-1:0]             write_col;
wire                       lb_rd_en;
wire [3*LB_ADDR_W-1:0]     lb_rd_addr;
wire [12*PAR_IN*A_BITS-1:0] lb_rd_data;

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
wire [NPB-1:0]        param_wr;
wire                  wb_rd_en;
wire [WB_ADDR_W-1:0]  wb_rd_addr;
wire [WGT_W-1:0]      wb_rd_data;
wire                  ib_rd_en;
wire [IB_ADDR_W-1:0]  ib_rd_addr;
wire [max2(1, IDX_BEAT_W)-1:0] ib_rd_data;
wire                  backend_param_busy;   // the back end still copies the last tile's bias/shift

conv_wgt_buffer #(
    .WGT_W     (WGT_W),
    .IDX_BEAT_W(IDX_BEAT_W),
    .TAPS      (TAPS),
    .CG_MAX    (CG_MAX),
    .NPB       (NPB),
    .PARAM_BITS(PARAM_BITS),
    .KEEP_LSB  (PARAM_KEEP_LSB),
    .CG_W      (CG_W),
    .T_W       (T_W),
    .ADDR_W    (WB_ADDR_W),
    .IDX_ADDR_W(IB_ADDR_W)
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
    .param_hold       (backend_param_busy),
    .tiles_loaded     (tiles_loaded),
    .frame_err        (frame_err_wgt),
    .params0          (params0),
    .params1          (params1),
    .param_wr         (param_wr),
    .rd_en            (wb_rd_en),
    .rd_addr          (wb_rd_addr),
    .rd_data          (wb_rd_data),
    .idx_rd_en        (ib_rd_en),
    .idx_rd_addr      (ib_rd_addr),
    .idx_rd_data      (ib_rd_data)
);

// ---------------------------------------------------------------- S0: sequencer

reg  [T_W-1:0]        cmp_t_reg;
reg  [H_W-1:0]        cmp_y_reg;
reg  [W_W-1:0]        cmp_x_reg;
reg  [CG_W-1:0]       cmp_cg_reg;
reg  [TAP_W-1:0]      cmp_tap_reg;
reg                   cmp_done_reg;
reg  [1:0]            x_bank_reg;       // x % 3: the column bank of column x
reg  [LB_ADDR_W:0]    x_base_reg;       // (x/3)*CG, one bit wider (see the bank addresses)
reg  [WK_W-1:0]       wk_reg;           // cg*TAPS + tap
reg  [FIFO_CNT_W:0]   inflight_reg;     // pixels started, not yet in the output FIFO
wire [FIFO_CNT_W-1:0] fifo_count;
wire                  push_valid;

localparam integer          FIFO_DEPTH_I = FIFO_DEPTH;
localparam [FIFO_CNT_W:0]   FIFO_DEPTH_C = FIFO_DEPTH_I[FIFO_CNT_W:0];
localparam integer         WB_BUF1_BASE_I = TAPS * CG_MAX;
localparam [WB_ADDR_W-1:0] WB_BUF1_BASE   = WB_BUF1_BASE_I[WB_ADDR_W-1:0];
localparam integer         IB_BUF1_BASE_I = CG_MAX;
localparam [IB_ADDR_W-1:0] IB_BUF1_BASE   = IB_BUF1_BASE_I[IB_ADDR_W-1:0];
localparam integer         TAPS_LAST_I    = TAPS - 1;
localparam [TAP_W-1:0]     TAPS_LAST      = TAPS_LAST_I[TAP_W-1:0];

wire [LB_ADDR_W:0] cg_ext = {{(LB_ADDR_W+1-CG_W){1'b0}}, cg_reg};

wire first_step = (cmp_cg_reg == {CG_W{1'b0}}) && (cmp_tap_reg == {TAP_W{1'b0}});
wire last_tap   = (cmp_tap_reg == TAPS_LAST);
wire last_cg    = (cmp_cg_reg == cg_reg - 1'b1);
wire last_x     = (cmp_x_reg == w_reg - 1'b1);
wire last_y     = (cmp_y_reg == h_reg - 1'b1);
wire last_t     = (cmp_t_reg == tiles_reg - 1'b1);
wire last_step  = last_cg && last_tap;

// the window of pixel (y, x) is complete once input pixel (min(y+1,H-1), min(x+1,W-1))
// of this tile's copy of the map has been written
wire [GROW_W-1:0] need_row = cmp_g_reg + {{(GROW_W-1){1'b0}}, !last_y};
wire [W_W-1:0]    need_col = cmp_x_reg + {{(W_W-1){1'b0}}, !last_x};
wire input_ready   = (write_row > need_row) || ((write_row == need_row) && (write_col > need_col));
wire weights_ready = (tiles_loaded > cmp_t_reg);
wire output_room   = ({1'b0, fifo_count} + inflight_reg) < FIFO_DEPTH_C;
wire pixel_gap_ok;      // the back end has had RQ_PASSES cycles since the last pixel start
wire issue = running_reg && !cmp_done_reg &&
             (!first_step || (input_ready && weights_ready && output_room && pixel_gap_ok));

generate
    if (THROTTLE != 0) begin : g_pixel_gap
        localparam integer     GAP_FULL_I = RQ_PASSES;
        localparam [GAP_W-1:0] GAP_FULL   = GAP_FULL_I[GAP_W-1:0];
        reg [GAP_W-1:0] gap_reg;    // cycles since the last pixel start, saturating at RQ_PASSES
        always @(posedge clk) begin
            if (rst || launch) begin
                gap_reg <= GAP_FULL;
            end else if (issue && first_step) begin
                gap_reg <= {{(GAP_W-1){1'b0}}, 1'b1};
            end else if (gap_reg != GAP_FULL) begin
                gap_reg <= gap_reg + 1'b1;
            end
        end
        assign pixel_gap_ok = (gap_reg == GAP_FULL);
    end else begin : g_no_pixel_gap
        // a pixel takes TAPS x CG >= TAPS >= RQ_PASSES cycles: the back end always keeps up
        assign pixel_gap_ok = 1'b1;
    end
endgenerate
wire group_start = issue && (cmp_tap_reg == {TAP_W{1'b0}});

// Bank addresses of columns x-1, x, x+1 (bank b holds the columns c with c%3 == b, at
// (c/3)*CG + cg). Only bank 2 at x%3 == 0 (column x-1) and bank 0 at x%3 == 2 (column
// x+1) reach into the neighbouring bank triple. At x = 0 column -1 wraps to a large
// address; that read is zeroed by the window select, so only the low bits address the RAM.
wire [LB_ADDR_W:0] group_addr = x_base_reg + {{(LB_ADDR_W+1-CG_W){1'b0}}, cmp_cg_reg};
wire [LB_ADDR_W:0] bank_addr0 = (x_bank_reg == 2'd2) ? group_addr + cg_ext : group_addr;
wire [LB_ADDR_W:0] bank_addr2 = (x_bank_reg == 2'd0) ? group_addr - cg_ext : group_addr;

assign lb_rd_en   = group_start;
assign lb_rd_addr = {bank_addr2[LB_ADDR_W-1:0], group_addr[LB_ADDR_W-1:0], bank_addr0[LB_ADDR_W-1:0]};
assign ib_rd_en   = group_start && (HAS_IDX != 0);
assign ib_rd_addr = (cmp_t_reg[0] ? IB_BUF1_BASE : {IB_ADDR_W{1'b0}}) +
                    {{(IB_ADDR_W-CG_W){1'b0}}, cmp_cg_reg};

always @(posedge clk) begin
    if (rst || launch) begin
        cmp_t_reg    <= {T_W{1'b0}};
        cmp_y_reg    <= {H_W{1'b0}};
        cmp_x_reg    <= {W_W{1'b0}};
        cmp_cg_reg   <= {CG_W{1'b0}};
        cmp_tap_reg  <= {TAP_W{1'b0}};
        cmp_g_reg    <= {GROW_W{1'b0}};
        cmp_done_reg <= 1'b0;
        x_bank_reg   <= 2'd0;
        x_base_reg   <= {(LB_ADDR_W+1){1'b0}};
        wk_reg       <= {WK_W{1'b0}};
    end else if (issue) begin
        wk_reg <= last_step ? {WK_W{1'b0}} : wk_reg + 1'b1;
        if (!last_tap) begin
            cmp_tap_reg <= cmp_tap_reg + 1'b1;
        end else begin
            cmp_tap_reg <= {TAP_W{1'b0}};
            if (!last_cg) begin
                cmp_cg_reg <= cmp_cg_reg + 1'b1;
            end else begin
                // next pixel
                cmp_cg_reg <= {CG_W{1'b0}};
                if (!last_x) begin
                    cmp_x_reg <= cmp_x_reg + 1'b1;
                    if (x_bank_reg == 2'd2) begin
                        x_bank_reg <= 2'd0;
                        x_base_reg <= x_base_reg + cg_ext;
                    end else begin
                        x_bank_reg <= x_bank_reg + 1'b1;
                    end
                end else begin
                    cmp_x_reg  <= {W_W{1'b0}};
                    x_bank_reg <= 2'd0;
                    x_base_reg <= {(LB_ADDR_W+1){1'b0}};
                    cmp_g_reg  <= cmp_g_reg + 1'b1;
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

// ---------------------------------------------------------------- S1: candidate and lane select, weight read

reg                 s1_valid_reg, s1_first_reg, s1_last_reg, s1_tile_last_reg, s1_buf_reg;
reg [TAP_W-1:0]     s1_tap_reg;
reg [1:0]           s1_slot0_reg, s1_bank0_reg;
reg [2:0]           s1_row_inside_reg, s1_col_inside_reg;
reg [WB_ADDR_W-1:0] s1_wb_addr_reg;

always @(posedge clk) begin
    if (rst) begin
        s1_valid_reg <= 1'b0;
    end else begin
        s1_valid_reg <= issue;
    end
    s1_first_reg      <= first_step;
    s1_last_reg       <= last_step;
    s1_tile_last_reg  <= last_step && last_x && last_y;
    s1_buf_reg        <= cmp_t_reg[0];
    s1_tap_reg        <= cmp_tap_reg;
    s1_slot0_reg      <= cmp_g_reg[1:0] + 2'd3;                   // slot of global row g-1
    s1_bank0_reg      <= (x_bank_reg == 2'd0) ? 2'd2 : x_bank_reg - 2'd1;   // bank of column x-1
    s1_row_inside_reg <= {!last_y, 1'b1, cmp_y_reg != {H_W{1'b0}}};
    s1_col_inside_reg <= {!last_x, 1'b1, cmp_x_reg != {W_W{1'b0}}};
    s1_wb_addr_reg    <= (cmp_t_reg[0] ? WB_BUF1_BASE : {WB_ADDR_W{1'b0}}) +
                         {{(WB_ADDR_W-WK_W){1'b0}}, wk_reg};
end

assign wb_rd_en   = s1_valid_reg;
assign wb_rd_addr = s1_wb_addr_reg;

wire [NCAND*PAR_IN*A_BITS-1:0]  cand_act;
wire [PAR_OUT*PAR_IN*SEL_W-1:0] lane_sel;
wire                            lane_index_err;
wire [TABLE_W-1:0]              ikr_table;      // the pattern library of the tile in S1
wire [PAR_OUT*PAR_IN*IDX_W-1:0] lane_idx;       // the group's index beat (KRP row / IKR pattern id)

conv_window_select #(
    .FORMAT(FORMAT),
    .IKR_K (IKR_K),
    .PAR_IN(PAR_IN),
    .A_BITS(A_BITS),
    .NCAND (NCAND),
    .TAP_W (TAP_W)
) u_window_select (
    .clk       (clk),
    .window    (lb_rd_data),
    .tap       (s1_tap_reg),
    .slot0     (s1_slot0_reg),
    .bank0     (s1_bank0_reg),
    .row_inside(s1_row_inside_reg),
    .col_inside(s1_col_inside_reg),
    .cand      (cand_act)
);

generate
    if (HAS_IDX != 0) begin : g_idx
        assign lane_idx = ib_rd_data;
    end else begin : g_no_idx
        wire unused_idx = &{1'b0, ib_rd_data};
        assign lane_idx = {(PAR_OUT*PAR_IN*IDX_W){1'b0}};
    end
    if (TABLE_BITS > 0) begin : g_table
        assign ikr_table = s1_buf_reg ? params1[TABLE_LSB +: TABLE_W] : params0[TABLE_LSB +: TABLE_W];
    end else begin : g_no_table
        assign ikr_table = 1'b0;
    end
endgenerate

conv_lane_index #(
    .FORMAT (FORMAT),
    .IKR_K  (IKR_K),
    .IKR_P  (IKR_P),
    .PAR_IN (PAR_IN),
    .PAR_OUT(PAR_OUT),
    .IDX_W  (IDX_W),
    .SEL_W  (SEL_W),
    .TABLE_W(TABLE_W),
    .TAP_W  (TAP_W)
) u_lane_index (
    .clk       (clk),
    .idx       (lane_idx),
    .table_bits(ikr_table),
    .tap       (s1_tap_reg),
    .sel       (lane_sel),
    .err       (lane_index_err)
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

always @(posedge clk) begin
    if (rst || start_now) begin
        index_err_reg <= 1'b0;
    end else if (s2_valid_reg && lane_index_err) begin     // err has sel's latency
        index_err_reg <= 1'b1;
    end
end

wire [`CONV_PB_FIXED_BITS-1:0] levels = s2_buf_reg ? params1[LEVELS_LSB +: `CONV_PB_FIXED_BITS]
                                                  : params0[LEVELS_LSB +: `CONV_PB_FIXED_BITS];
wire [PAR_OUT*N_LEAVES*LEAF_W-1:0] leaves;
wire prod_err;

// the product unit ARITH selects (conv_prod_unit: the one place the units are instantiated and
// their parameters checked); every unit has the same ports and parameters
conv_prod_unit #(
        .ARITH(ARITH), .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
        .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
        .NCAND(NCAND), .SEL_W(SEL_W), .N_LEAVES(N_LEAVES), .LEAF_W(LEAF_W),
    .PACK((FORMAT == 0) ? MULT_PACK : 0), .SYM(PLUT_SYM)
) u_prod (
    .clk(clk), .cand(cand_act), .sel(lane_sel), .codes(wb_rd_data), .levels(levels),
    .leaves(leaves), .err(prod_err)
);

always @(posedge clk) begin
    if (rst || start_now) begin
        level_err_reg <= 1'b0;
    end else if (s2_valid_reg && prod_err) begin
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

wire [PAR_OUT*ACC_BITS-1:0] acc_reg;
reg                         acc_done_reg, acc_tile_last_reg, acc_buf_reg;

conv_accumulators #(
    .PAR_OUT (PAR_OUT),
    .SUM_W   (SUM_W),
    .ACC_BITS(ACC_BITS)
) u_acc (
    .clk      (clk),
    .in_valid (sum_valid),
    .in_first (sum_first),
    .lane_sums(lane_sums),
    .acc      (acc_reg)
);

always @(posedge clk) begin
    if (rst) begin
        acc_done_reg <= 1'b0;
    end else begin
        acc_done_reg <= sum_valid && sum_last;
    end
    acc_tile_last_reg <= sum_tile_last;
    acc_buf_reg       <= sum_buf;
end

// ---------------------------------------------------------------- back end and output FIFO

// bias and shift go to the back end's RAM as the parameter beats arrive; the parameter
// blocks keep only the level descriptors and the IKR library (their bias/shift bits are
// unread, so synthesis drops those registers)
wire unused_param_bias = &{1'b0, params0[0 +: LEVELS_LSB], params1[0 +: LEVELS_LSB]};
wire [PAR_OUT*OUT_W-1:0] push_data;
wire                     push_tile_last;

conv_backend #(
    .PAR_OUT (PAR_OUT),
    .ACC_BITS(ACC_BITS),
    .A_BITS  (A_BITS),
    .OUT_W   (OUT_W),
    .RQ_LANES(RQ_LANES_USED),
    .WGT_W   (WGT_W),
    .NPB     (NPB)
) u_backend (
    .clk          (clk),
    .rst          (rst),
    .param_wr     (param_wr),
    .param_data   (s_axis_wgt_tdata),
    .param_buf    (tiles_loaded[0]),
    .param_busy   (backend_param_busy),
    .in_valid     (acc_done_reg),
    .in_tile_last (acc_tile_last_reg),
    .in_buf       (acc_buf_reg),
    .acc          (acc_reg),
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

wire [PAR_OUT*OUT_W:0] fifo_data;

conv_out_fifo #(
    .DATA_W(PAR_OUT*OUT_W + 1),
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

// a lane is OUT_W bits in the FIFO, sign-extended to 32 on the way out (conv_backend)
generate
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out_lane
        wire [OUT_W-1:0] lane = fifo_data[o*OUT_W +: OUT_W];
        if (OUT_W < `CONV_OUT_LANE_BITS) begin : g_extend
            assign m_axis_out_tdata[o*`CONV_OUT_LANE_BITS +: `CONV_OUT_LANE_BITS] = {{(`CONV_OUT_LANE_BITS-OUT_W){lane[OUT_W-1]}}, lane};
        end else begin : g_full
            assign m_axis_out_tdata[o*`CONV_OUT_LANE_BITS +: `CONV_OUT_LANE_BITS] = lane;
        end
    end
endgenerate
assign m_axis_out_tlast = fifo_data[PAR_OUT*OUT_W];

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
