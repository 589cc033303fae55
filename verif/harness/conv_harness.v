`default_nettype none
// Whole-layer, file-driven harness for one convolution core (no Python per cycle).
//
// It instantiates conv_engine (ARITH x FORMAT) once, configures it over AXI4-Lite (H, W,
// CIN, COUT, MODE, then CTRL.start), streams the weights (per output tile: the NPB
// parameter beats built from bias/shift/levels and, for IKR, the pattern library; then
// per channel group the index beat (KRP row / IKR pattern id) and the TAPS beats of the
// kept codes taken from wcode, in docs/engine.md order) and the activation map (once per
// output tile), collects every output beat into a text file, and finally reads the
// CYCLES and STATUS registers over AXI4-Lite.
//
// Ports
//   clk, rst   inputs (synchronous active-high reset) unless HARNESS_CLOCK is defined;
//              with `define HARNESS_CLOCK the harness makes its own 100 MHz clock
//              (always #5) and a 5-cycle reset (`verilator --timing`): the clock then runs in
//              the simulator, not through cocotb's per-edge callbacks. With `define
//              HARNESS_FINISH as well it ends the simulation when done (the bare
//              `verilator --binary` build; under cocotb the test ends it).
//   done       1 once the layer has finished, all H*W*COUT/PAR_OUT output beats arrived
//              and CYCLES/STATUS were read back (also raised on timeout, with error = 1).
//   error      1 if a tlast was misplaced, STATUS showed an error bit, or timeout.
//   cycles     the engine's CYCLES register (valid when done).
//   beats      output beats received so far.
//
// Plusargs (all optional except +dir)
//   +dir=<vector dir>   directory holding act.hex wcode.hex bias.hex shift.hex levels.hex,
//                       and rowidx.hex (KRP) or patid.hex + patterns.hex (IKR)
//                       (docs/vector_format.md: one value per line)
//   +H= +W= +CIN= +COUT= layer dimensions (default 28, 28, 256, 512)
//   +MODE=<0|1>         0 raw accumulators, 1 requantized outputs (default 1)
//   +out=<file>         output file (default out.txt): one line per output beat, PAR_OUT
//                       32-bit words as 8 hex digits, lane 0 first, separated by spaces;
//                       beats in stream order (tile, y, x)
//   +act_gap=<0..99>    percent of cycles the activation stream idles (default 0)
//   +wgt_gap=<0..99>    percent of cycles the weight stream idles (default 0)
//   +out_stall=<0..99>  percent of cycles m_axis_out_tready is low (default 0)
//   +seed=<n>           seed of the three xorshift generators (default 1)
//   +timeout=<cycles>   give up after this many cycles (default 2^31)
// At the end it prints "conv_harness: done cycles=<CYCLES> beats=<n> status=<hex> error=<0|1>".
module conv_harness #(
    parameter ARITH         = 0,
    parameter FORMAT        = 0,
    parameter IKR_K         = 4,
    parameter IKR_P         = 8,
    parameter PAR_IN        = 16,
    parameter PAR_OUT       = 16,
    parameter A_BITS        = 8,
    parameter W_BITS        = 8,
    parameter EXP1_BITS     = 3,
    parameter EXP2_BITS     = 0,
    parameter LEVEL_EXP_MAX = 8,
    parameter H_MAX         = 32,
    parameter W_MAX         = 32,
    parameter CIN_MAX       = 256,
    parameter COUT_MAX      = 512,
    parameter MULT_PACK     = 0,             // MULT dense: two products per DSP48E1
    parameter PLUT_SYM      = 0,             // PLUT: sign-symmetric codebook
    parameter RQ_LANES      = 0,             // back-end requantizer lanes (0: full speed at any Cin)
    parameter ACT_DEPTH     = 256*28*28,     // activation words held (>= Cin*H*W)
    parameter WCODE_DEPTH   = 512*256*9      // weight codes held (>= Cout*Cin*9)
) (
`ifndef HARNESS_CLOCK
    input  wire        clk,
    input  wire        rst,
`endif
    output reg         done,
    output reg         error,
    output reg  [31:0] cycles,
    output reg  [31:0] beats
);

`ifdef HARNESS_CLOCK
reg clk;
reg rst;
always #5 clk = ~clk;
initial begin
    clk = 1'b0;
    rst = 1'b1;
    repeat (5) @(posedge clk);
    #1 rst = 1'b0;      // release between edges: no race with the clocked logic
end
`endif

`include "conv_prod_info.vh"

localparam WGT_W      = PAR_IN * PAR_OUT * W_BITS;
localparam TAPS       = fmt_taps(FORMAT, IKR_K);
localparam HAS_IDX    = (FORMAT != 0) ? 1 : 0;
localparam BPC        = TAPS + HAS_IDX;
localparam IDX_W      = fmt_idx_bits(FORMAT, IKR_P);
localparam PARAM_BITS = PAR_OUT * `CONV_PB_CHANNEL_BITS + `CONV_PB_FIXED_BITS + fmt_table_bits(FORMAT, IKR_P);
localparam NPB        = (PARAM_BITS + WGT_W - 1) / WGT_W;
localparam NPAT       = (FORMAT == 2) ? IKR_P : 1;

// ------------------------------------------------------------------ vectors and plusargs
reg [7:0]  act_mem   [0:ACT_DEPTH-1];
reg [7:0]  wcode_mem [0:WCODE_DEPTH-1];
reg [31:0] bias_mem  [0:COUT_MAX-1];
reg [7:0]  shift_mem [0:COUT_MAX-1];
reg [7:0]  level_mem [0:15];
reg [7:0]  index_mem [0:COUT_MAX*CIN_MAX-1];    // KRP row index / IKR pattern id per kernel
reg [8:0]  pattern_mem [0:NPAT-1];              // IKR library masks

integer cfg_h, cfg_w, cfg_cin, cfg_cout, cfg_mode;
integer act_gap, wgt_gap, out_stall, seed, timeout;
reg [8*1024-1:0] dir, out_name, path;
integer out_fd, probe_fd;

initial begin
    if (!$value$plusargs("dir=%s", dir)) begin
        $display("conv_harness: ERROR: +dir=<vector directory> is required");
        $finish;
    end
    if (!$value$plusargs("H=%d", cfg_h)) cfg_h = 28;
    if (!$value$plusargs("W=%d", cfg_w)) cfg_w = 28;
    if (!$value$plusargs("CIN=%d", cfg_cin)) cfg_cin = 256;
    if (!$value$plusargs("COUT=%d", cfg_cout)) cfg_cout = 512;
    if (!$value$plusargs("MODE=%d", cfg_mode)) cfg_mode = 1;
    if (!$value$plusargs("act_gap=%d", act_gap)) act_gap = 0;
    if (!$value$plusargs("wgt_gap=%d", wgt_gap)) wgt_gap = 0;
    if (!$value$plusargs("out_stall=%d", out_stall)) out_stall = 0;
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    if (!$value$plusargs("timeout=%d", timeout)) timeout = 32'h7fffffff;
    if (!$value$plusargs("out=%s", out_name)) out_name = "out.txt";
    if (cfg_cin * cfg_h * cfg_w > ACT_DEPTH || cfg_cout * cfg_cin * 9 > WCODE_DEPTH ||
        cfg_cout > COUT_MAX || cfg_cin > CIN_MAX) begin
        $display("conv_harness: ERROR: layer %0dx%0d %0d->%0d exceeds the harness memories",
                 cfg_h, cfg_w, cfg_cin, cfg_cout);
        $finish;
    end
    // $readmemh only warns about a file it cannot open and leaves the memory as it was: a
    // wrong +dir must stop the run instead of producing a layer of zeros
    $sformat(path, "%0s/act.hex", dir);
    probe_fd = $fopen(path, "r");
    if (probe_fd == 0) begin
        $display("conv_harness: ERROR: cannot open %0s (+dir is relative to the simulator's directory)", path);
        $finish;
    end
    $fclose(probe_fd);
    $readmemh(path, act_mem, 0, cfg_cin*cfg_h*cfg_w-1);
    $sformat(path, "%0s/wcode.hex", dir);  $readmemh(path, wcode_mem, 0, cfg_cout*cfg_cin*9-1);
    $sformat(path, "%0s/bias.hex", dir);   $readmemh(path, bias_mem, 0, cfg_cout-1);
    $sformat(path, "%0s/shift.hex", dir);  $readmemh(path, shift_mem, 0, cfg_cout-1);
    $sformat(path, "%0s/levels.hex", dir); $readmemh(path, level_mem);
    if (FORMAT == 1) begin
        $sformat(path, "%0s/rowidx.hex", dir); $readmemh(path, index_mem, 0, cfg_cout*cfg_cin-1);
    end
    if (FORMAT == 2) begin
        $sformat(path, "%0s/patid.hex", dir);    $readmemh(path, index_mem, 0, cfg_cout*cfg_cin-1);
        $sformat(path, "%0s/patterns.hex", dir); $readmemh(path, pattern_mem);
    end
    out_fd = $fopen(out_name, "w");
    if (out_fd == 0) begin
        $display("conv_harness: ERROR: cannot open %0s", out_name);
        $finish;
    end
end

// xorshift32 step; "go" with probability (100 - percent)%
function [31:0] xorshift;
    input [31:0] x;
    reg   [31:0] y;
    begin
        y = x ^ (x << 13);
        y = y ^ (y >> 17);
        xorshift = y ^ (y << 5);
    end
endfunction

reg [31:0] rng_act, rng_wgt, rng_out;
wire go_act = (rng_act % 100) >= act_gap;
wire go_wgt = (rng_wgt % 100) >= wgt_gap;
wire go_out = (rng_out % 100) >= out_stall;

always @(posedge clk) begin
    if (rst) begin
        rng_act <= 32'h9e3779b9 ^ seed;
        rng_wgt <= 32'h85ebca6b ^ (seed * 3 + 1);
        rng_out <= 32'hc2b2ae35 ^ (seed * 7 + 2);
    end else begin
        rng_act <= xorshift(rng_act);
        rng_wgt <= xorshift(rng_wgt);
        rng_out <= xorshift(rng_out);
    end
end

// ------------------------------------------------------------------ DUT
reg  [7:0]  axil_awaddr;
reg         axil_awvalid;
wire        axil_awready;
reg  [31:0] axil_wdata;
reg         axil_wvalid;
wire        axil_wready;
wire [1:0]  axil_bresp;
wire        axil_bvalid;
reg         axil_bready;
reg  [7:0]  axil_araddr;
reg         axil_arvalid;
wire        axil_arready;
wire [31:0] axil_rdata;
wire [1:0]  axil_rresp;
wire        axil_rvalid;
reg         axil_rready;

reg  [PAR_IN*A_BITS-1:0] act_tdata;
reg                      act_tvalid;
wire                     act_tready;
wire                     act_tlast;
reg  [WGT_W-1:0]         wgt_tdata;
reg                      wgt_tvalid;
wire                     wgt_tready;
wire                     wgt_tlast;
wire [PAR_OUT*32-1:0]    out_tdata;
wire                     out_tvalid;
reg                      out_tready;
wire                     out_tlast;
wire                     dut_busy;
wire                     dut_done;

conv_engine #(
    .ARITH(ARITH), .FORMAT(FORMAT), .IKR_K(IKR_K), .IKR_P(IKR_P),
    .PAR_IN(PAR_IN), .PAR_OUT(PAR_OUT), .A_BITS(A_BITS), .W_BITS(W_BITS),
    .EXP1_BITS(EXP1_BITS), .EXP2_BITS(EXP2_BITS), .LEVEL_EXP_MAX(LEVEL_EXP_MAX),
    .H_MAX(H_MAX), .W_MAX(W_MAX), .CIN_MAX(CIN_MAX), .COUT_MAX(COUT_MAX), .MULT_PACK(MULT_PACK),
    .PLUT_SYM(PLUT_SYM), .RQ_LANES(RQ_LANES)
) u_dut (
    .clk(clk), .rst(rst),
    .s_axil_awaddr(axil_awaddr), .s_axil_awprot(3'd0), .s_axil_awvalid(axil_awvalid),
    .s_axil_awready(axil_awready), .s_axil_wdata(axil_wdata), .s_axil_wstrb(4'hf),
    .s_axil_wvalid(axil_wvalid), .s_axil_wready(axil_wready), .s_axil_bresp(axil_bresp),
    .s_axil_bvalid(axil_bvalid), .s_axil_bready(axil_bready), .s_axil_araddr(axil_araddr),
    .s_axil_arprot(3'd0), .s_axil_arvalid(axil_arvalid), .s_axil_arready(axil_arready),
    .s_axil_rdata(axil_rdata), .s_axil_rresp(axil_rresp), .s_axil_rvalid(axil_rvalid),
    .s_axil_rready(axil_rready),
    .s_axis_act_tdata(act_tdata), .s_axis_act_tvalid(act_tvalid),
    .s_axis_act_tready(act_tready), .s_axis_act_tlast(act_tlast),
    .s_axis_wgt_tdata(wgt_tdata), .s_axis_wgt_tvalid(wgt_tvalid),
    .s_axis_wgt_tready(wgt_tready), .s_axis_wgt_tlast(wgt_tlast),
    .m_axis_out_tdata(out_tdata), .m_axis_out_tvalid(out_tvalid),
    .m_axis_out_tready(out_tready), .m_axis_out_tlast(out_tlast),
    .busy(dut_busy), .done(dut_done)
);

// ------------------------------------------------------------------ AXI4-Lite master FSM
localparam ST_WRITE = 0, ST_WAIT = 1, ST_READ = 2, ST_FINISH = 3;
integer    ctl_state, ctl_index;
reg        aw_sent, w_sent;
reg [31:0] status_value;
wire       streams_done;

always @(posedge clk) begin
    if (rst) begin
        ctl_state    <= ST_WRITE;
        ctl_index    <= 0;
        axil_awvalid <= 1'b0;
        axil_wvalid  <= 1'b0;
        axil_bready  <= 1'b0;
        axil_arvalid <= 1'b0;
        axil_rready  <= 1'b0;
        aw_sent      <= 1'b0;
        w_sent       <= 1'b0;
        done         <= 1'b0;
        cycles       <= 32'd0;
        status_value <= 32'd0;
    end else begin
        // a timeout abandons the configuration sequence; ST_FINISH (the default below) still
        // raises done, which is all a cocotb run waits for
        if (timed_out && ctl_state != ST_FINISH) begin
            ctl_state <= ST_FINISH;
        end else case (ctl_state)
            ST_WRITE: begin
                // register writes: H, W, CIN, COUT, MODE, then CTRL.start
                if (!axil_awvalid && !axil_wvalid && !aw_sent && !w_sent) begin
                    case (ctl_index)
                        0: begin axil_awaddr <= 8'h08; axil_wdata <= cfg_h; end
                        1: begin axil_awaddr <= 8'h0C; axil_wdata <= cfg_w; end
                        2: begin axil_awaddr <= 8'h10; axil_wdata <= cfg_cin; end
                        3: begin axil_awaddr <= 8'h14; axil_wdata <= cfg_cout; end
                        4: begin axil_awaddr <= 8'h18; axil_wdata <= cfg_mode; end
                        default: begin axil_awaddr <= 8'h00; axil_wdata <= 32'd1; end
                    endcase
                    axil_awvalid <= 1'b1;
                    axil_wvalid  <= 1'b1;
                    axil_bready  <= 1'b1;
                end else begin
                    if (axil_awvalid && axil_awready) begin axil_awvalid <= 1'b0; aw_sent <= 1'b1; end
                    if (axil_wvalid && axil_wready)   begin axil_wvalid  <= 1'b0; w_sent  <= 1'b1; end
                    if (axil_bvalid && axil_bready) begin
                        axil_bready <= 1'b0;
                        aw_sent     <= 1'b0;
                        w_sent      <= 1'b0;
                        if (ctl_index == 5) ctl_state <= ST_WAIT;
                        ctl_index <= ctl_index + 1;
                    end
                end
            end
            ST_WAIT: begin
                if (dut_done && streams_done) begin
                    ctl_state    <= ST_READ;
                    ctl_index    <= 0;
                    axil_araddr  <= 8'h1C;     // CYCLES
                    axil_arvalid <= 1'b1;
                    axil_rready  <= 1'b1;
                end
            end
            ST_READ: begin
                if (axil_arvalid && axil_arready) axil_arvalid <= 1'b0;
                if (axil_rvalid && axil_rready) begin
                    if (ctl_index == 0) begin
                        cycles       <= axil_rdata;
                        axil_araddr  <= 8'h04;  // STATUS
                        axil_arvalid <= 1'b1;
                        ctl_index    <= 1;
                    end else begin
                        status_value <= axil_rdata;
                        axil_rready  <= 1'b0;
                        ctl_state    <= ST_FINISH;
                    end
                end
            end
            default: begin
                done <= 1'b1;
            end
        endcase
    end
end

// ------------------------------------------------------------------ activation stream
integer act_beat, act_tile, act_beats_per_map, n_tiles, cg_count;
integer i, o, k;

always @* begin
    act_beats_per_map = cfg_h * cfg_w * (cfg_cin / PAR_IN);
    n_tiles           = cfg_cout / PAR_OUT;
    cg_count          = cfg_cin / PAR_IN;
    for (i = 0; i < PAR_IN; i = i + 1) begin
        act_tdata[i*A_BITS +: A_BITS] = act_mem[act_beat*PAR_IN + i][A_BITS-1:0];
    end
end
assign act_tlast = (act_beat == act_beats_per_map - 1);
wire act_left = (act_tile < n_tiles);
wire act_fire = act_tvalid && act_tready;

always @(posedge clk) begin
    if (rst) begin
        act_beat   <= 0;
        act_tile   <= 0;
        act_tvalid <= 1'b0;
    end else if (ctl_state != ST_WRITE) begin
        if (act_fire) begin
            if (act_tlast) begin
                act_beat <= 0;
                act_tile <= act_tile + 1;
            end else begin
                act_beat <= act_beat + 1;
            end
        end
        // once valid, hold until accepted (AXI-Stream rule)
        if (!act_tvalid || act_fire) begin
            act_tvalid <= go_act && (act_fire ? !(act_tlast && act_tile == n_tiles - 1) : act_left);
        end
    end
end

// ------------------------------------------------------------------ weight stream
integer wgt_beat, wgt_tile, wgt_beats_per_tile, tap, cg, beat_in_group, kernel, pos, kept, q;
reg [NPB*WGT_W-1:0] param_block;

always @* begin
    wgt_beats_per_tile = NPB + BPC * cg_count;
    cg  = 0;
    tap = 0;
    beat_in_group = 0;
    kernel = 0;
    pos = 0;
    kept = 0;
    param_block = {NPB*WGT_W{1'b0}};
    for (o = 0; o < PAR_OUT; o = o + 1) begin
        param_block[o*`CONV_PB_BIAS_BITS +: `CONV_PB_BIAS_BITS] = bias_mem[wgt_tile*PAR_OUT + o];
        param_block[PAR_OUT*`CONV_PB_BIAS_BITS + o*`CONV_PB_SHIFT_BITS +: `CONV_PB_SHIFT_BITS] =
            shift_mem[wgt_tile*PAR_OUT + o];
    end
    for (k = 0; k < `CONV_PB_LEVELS; k = k + 1) begin
        param_block[PAR_OUT*`CONV_PB_CHANNEL_BITS + k*`CONV_PB_LEVEL_BITS +: `CONV_PB_LEVEL_BITS] = level_mem[k];
    end
    if (FORMAT == 2) begin
        for (k = 0; k < NPAT; k = k + 1) begin
            param_block[PAR_OUT*`CONV_PB_CHANNEL_BITS + `CONV_PB_FIXED_BITS + k*`CONV_PB_PATTERN_BITS +: `CONV_PB_PATTERN_BITS] =
                pattern_mem[k];
        end
    end
    wgt_tdata = {WGT_W{1'b0}};
    if (wgt_beat < NPB) begin
        wgt_tdata = param_block[wgt_beat*WGT_W +: WGT_W];
    end else begin
        cg            = (wgt_beat - NPB) / BPC;
        beat_in_group = (wgt_beat - NPB) % BPC;
        tap           = beat_in_group - HAS_IDX;
        for (o = 0; o < PAR_OUT; o = o + 1) begin
            for (i = 0; i < PAR_IN; i = i + 1) begin
                kernel = (wgt_tile*PAR_OUT + o)*cfg_cin + cg*PAR_IN + i;
                if (HAS_IDX != 0 && beat_in_group == 0) begin
                    wgt_tdata[(o*PAR_IN+i)*IDX_W +: IDX_W] = index_mem[kernel][IDX_W-1:0];
                end else begin
                    // window position of this beat's code: dense the tap, KRP column tap of
                    // the kept row, IKR the tap-th kept position of the kernel's pattern
                    if (FORMAT == 0) begin
                        pos = tap;
                    end else if (FORMAT == 1) begin
                        pos = index_mem[kernel] * 3 + tap;
                    end else begin
                        kept = 0;
                        pos  = 0;
                        for (q = 0; q < `CONV_TAPS; q = q + 1) begin
                            if (pattern_mem[{24'd0, index_mem[kernel]} % NPAT][q]) begin
                                if (kept == tap) pos = q;
                                kept = kept + 1;
                            end
                        end
                    end
                    wgt_tdata[(o*PAR_IN+i)*W_BITS +: W_BITS] = wcode_mem[kernel*9 + pos][W_BITS-1:0];
                end
            end
        end
    end
end
assign wgt_tlast = (wgt_beat == wgt_beats_per_tile - 1);
wire wgt_left = (wgt_tile < n_tiles);
wire wgt_fire = wgt_tvalid && wgt_tready;

always @(posedge clk) begin
    if (rst) begin
        wgt_beat   <= 0;
        wgt_tile   <= 0;
        wgt_tvalid <= 1'b0;
    end else if (ctl_state != ST_WRITE) begin
        if (wgt_fire) begin
            if (wgt_tlast) begin
                wgt_beat <= 0;
                wgt_tile <= wgt_tile + 1;
            end else begin
                wgt_beat <= wgt_beat + 1;
            end
        end
        if (!wgt_tvalid || wgt_fire) begin
            wgt_tvalid <= go_wgt && (wgt_fire ? !(wgt_tlast && wgt_tile == n_tiles - 1) : wgt_left);
        end
    end
end

assign streams_done = !act_left && !wgt_left && (beats == cfg_h * cfg_w * n_tiles);

// ------------------------------------------------------------------ output collection
integer run_cycles;
reg     timed_out;

always @(posedge clk) begin
    if (rst) begin
        out_tready <= 1'b0;
        beats      <= 32'd0;
        error      <= 1'b0;
        run_cycles <= 0;
        timed_out  <= 1'b0;
    end else begin
        out_tready <= go_out;
        run_cycles <= run_cycles + 1;
        if (out_tvalid && out_tready) begin
            for (o = 0; o < PAR_OUT; o = o + 1) begin
                $fwrite(out_fd, "%08x%s", out_tdata[o*32 +: 32], (o == PAR_OUT - 1) ? "\n" : " ");
            end
            if (out_tlast != ((beats % (cfg_h * cfg_w)) == cfg_h * cfg_w - 1)) begin
                $display("conv_harness: ERROR: tlast %0d at output beat %0d", out_tlast, beats);
                error <= 1'b1;
            end
            beats <= beats + 1;
        end
        if (ctl_state == ST_FINISH && !done) begin
            if (status_value[6:2] != 5'd0) error <= 1'b1;
            $display("conv_harness: done cycles=%0d beats=%0d status=%h error=%0d",
                     cycles, beats, status_value, (status_value[6:2] != 5'd0) || error);
            $fclose(out_fd);
`ifdef HARNESS_FINISH
            $finish;
`endif
        end
        // an AXI-Lite SLVERR/DECERR on any configuration access is a failure
        if ((axil_bvalid && axil_bready && axil_bresp != 2'b00) ||
            (axil_rvalid && axil_rready && axil_rresp != 2'b00)) begin
            $display("conv_harness: ERROR: AXI-Lite error response");
            error <= 1'b1;
        end
        if (run_cycles == timeout && !done) begin
            $display("conv_harness: ERROR: timeout after %0d cycles (beats=%0d, busy=%0d)",
                     run_cycles, beats, dut_busy);
            error     <= 1'b1;
            timed_out <= 1'b1;
        end
    end
end

endmodule
`default_nettype wire
