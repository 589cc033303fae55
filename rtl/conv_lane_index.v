`default_nettype none
// Per-lane candidate index: which of the step's NCAND candidate window positions
// (conv_window_select) output lane o uses for input lane i.
//   dense  always 0 (one candidate, the tap itself)
//   KRP    the lane's kept row (2-bit row index of the channel group's index beat)
//   IKR    pos(pattern id, tap) - tap, where pos(p, j) is the j-th kept position
//          (ascending ky*3+kx) of library pattern p (9-bit masks in the parameter block)
// `err` (registered with sel: latency 1, for the step indexed a cycle earlier; the OR over
// every lane would otherwise add its levels to the lane mux path) flags a KRP row index 3, an IKR
// pattern id >= IKR_P, a lane whose pattern does not keep exactly IKR_K positions, or a
// library mask that keeps neither 0 (an unused slot) nor IKR_K positions; the offending
// lanes use candidate 0. Latency 1 (sel), like conv_window_select.
module conv_lane_index #(
    parameter FORMAT  = 0,  // 0 dense, 1 KRP, 2 IKR
    parameter IKR_K   = 4,  // IKR: kept weights per kernel
    parameter IKR_P   = 8,  // IKR: patterns in the library
    parameter PAR_IN  = 16,
    parameter PAR_OUT = 16,
    parameter IDX_W   = 1,  // index bits per lane (fmt_idx_bits)
    parameter SEL_W   = 1,  // candidate index bits per lane (fmt_sel_w)
    parameter TABLE_W = 1,  // pattern library bits (max(1, fmt_table_bits))
    parameter TAP_W   = 4   // width of the step counter
) (
    input  wire                             clk,
    input  wire [PAR_OUT*PAR_IN*IDX_W-1:0]  idx,     // lane l = o*PAR_IN+i at [l*IDX_W +: IDX_W]
    input  wire [TABLE_W-1:0]               table_bits,   // IKR: mask p at [p*9 +: 9]
    input  wire [TAP_W-1:0]                 tap,
    output reg  [PAR_OUT*PAR_IN*SEL_W-1:0]  sel,
    output wire                             err
);

`include "conv_prod_info.vh"

localparam LANES = PAR_OUT * PAR_IN;

generate
    if (FORMAT < 0 || FORMAT > 2 || IDX_W != fmt_idx_bits(FORMAT, IKR_P) ||
        SEL_W != fmt_sel_w(FORMAT, IKR_K) ||
        TABLE_W != ((FORMAT == 2) ? fmt_table_bits(FORMAT, IKR_P) : 1) ||
        (FORMAT == 2 && (IKR_K < `CONV_IKR_K_MIN || IKR_K > `CONV_IKR_K_MAX ||
                         IKR_P < `CONV_IKR_P_MIN || IKR_P > `CONV_IKR_P_MAX))) begin : g_bad_params
        initial begin
            $display("ERROR: conv_lane_index: illegal FORMAT=%0d IKR_K=%0d IKR_P=%0d IDX_W=%0d SEL_W=%0d",
                     FORMAT, IKR_K, IKR_P, IDX_W, SEL_W);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end

    if (FORMAT == 0) begin : g_dense
        wire unused_inputs = &{1'b0, idx, table_bits, tap};
        always @(posedge clk) begin
            sel <= {(LANES*SEL_W){1'b0}};
        end
        assign err = 1'b0;

    end else if (FORMAT == 1) begin : g_krp
        wire unused_inputs = &{1'b0, table_bits, tap};
        reg [LANES-1:0] bad;
        integer l;
        always @* begin
            for (l = 0; l < LANES; l = l + 1) begin
                bad[l] = (idx[l*2 +: 2] == 2'd3);
            end
        end
        reg [LANES-1:0] bad_reg;
        always @(posedge clk) begin
            for (l = 0; l < LANES; l = l + 1) begin
                sel[l*SEL_W +: SEL_W] <= bad[l] ? 2'd0 : idx[l*2 +: 2];
            end
            bad_reg <= bad;
        end
        assign err = |bad_reg;

    end else begin : g_ikr
        // per library pattern: offset of its tap-th kept position, and whether it is usable.
        // Boolean, no counters: bit n of kept_before[q] = "mask bits 0..q-1 keep exactly n positions",
        // built by the recurrence below, so synthesis sees a 9-input function per bit
        // (a few LUT levels) instead of a chain of adders (issue 22: 40 levels before).
        localparam NPOS = `CONV_TAPS;
        reg [IKR_P*SEL_W-1:0] offset;
        reg [IKR_P-1:0]       usable;       // keeps exactly IKR_K positions
        reg [IKR_P-1:0]       malformed;    // keeps neither 0 nor IKR_K positions
        localparam CNT_W = NPOS + 1;        // one-hot count 0..NPOS
        reg [(NPOS+1)*CNT_W-1:0] kept_before;    // kept_before[q] at [q*CNT_W +: CNT_W]
        reg [NPOS-1:0]        mask;
        integer p, q, n, d;
        always @* begin
            for (p = 0; p < IKR_P; p = p + 1) begin
                mask = table_bits[p*`CONV_PB_PATTERN_BITS +: NPOS];
                kept_before[0 +: CNT_W] = {{NPOS{1'b0}}, 1'b1};
                for (q = 0; q < NPOS; q = q + 1) begin
                    kept_before[(q+1)*CNT_W +: CNT_W] = mask[q] ? {kept_before[q*CNT_W +: NPOS], 1'b0}
                                                       : kept_before[q*CNT_W +: CNT_W];
                end
                // offset d when position tap + d is the tap-th kept one: kept, with tap kept
                // positions before it (at most one d hits)
                offset[p*SEL_W +: SEL_W] = {SEL_W{1'b0}};
                for (d = 0; d < NPOS + 1 - IKR_K; d = d + 1) begin
                    for (n = 0; n < IKR_K; n = n + 1) begin
                        if (tap == n[TAP_W-1:0] && mask[n+d] && kept_before[(n+d)*CNT_W + n]) begin
                            offset[p*SEL_W +: SEL_W] = d[SEL_W-1:0];
                        end
                    end
                end
                usable[p]    = kept_before[NPOS*CNT_W + IKR_K];
                malformed[p] = !kept_before[NPOS*CNT_W] && !kept_before[NPOS*CNT_W + IKR_K];
            end
        end

        // per lane: a plain IKR_P:1 read of the shared (offset, usable) entry of its pattern
        // id; an unusable pattern (or an id >= IKR_P, entry 0) reads offset 0. The gating is
        // done once per pattern, not per lane.
        localparam ENTRY_W = SEL_W + 1;
        localparam ENTRIES = 1 << IDX_W;
        reg [ENTRIES*ENTRY_W-1:0] entry;    // {usable, usable ? offset : 0} of pattern p
        always @* begin
            entry = {(ENTRIES*ENTRY_W){1'b0}};
            for (p = 0; p < IKR_P; p = p + 1) begin
                entry[p*ENTRY_W +: ENTRY_W] = {usable[p], offset[p*SEL_W +: SEL_W] & {SEL_W{usable[p]}}};
            end
        end

        reg [LANES-1:0] bad;
        reg [LANES*SEL_W-1:0] lane_sel;
        reg [ENTRIES*ENTRY_W-1:0] tree;     // binary mux tree, one pattern-id bit a level
        integer l, lvl, e;
        always @* begin
            for (l = 0; l < LANES; l = l + 1) begin
                tree = entry;
                for (lvl = 0; lvl < IDX_W; lvl = lvl + 1) begin
                    for (e = 0; e < (ENTRIES >> (lvl + 1)); e = e + 1) begin
                        tree[e*ENTRY_W +: ENTRY_W] = idx[l*IDX_W + lvl] ? tree[(2*e+1)*ENTRY_W +: ENTRY_W]
                                                                        : tree[(2*e)*ENTRY_W +: ENTRY_W];
                    end
                end
                bad[l] = !tree[SEL_W];
                lane_sel[l*SEL_W +: SEL_W] = tree[SEL_W-1:0];
            end
        end
        reg [LANES-1:0]  bad_reg;
        reg [IKR_P-1:0]  malformed_reg;
        always @(posedge clk) begin
            sel           <= lane_sel;
            bad_reg       <= bad;
            malformed_reg <= malformed;
        end
        assign err = (|bad_reg) || (|malformed_reg);
    end
endgenerate

endmodule
`default_nettype wire
