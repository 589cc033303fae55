`default_nettype none
// Per-lane candidate index: which of the step's NCAND candidate window positions
// (conv_window_select) output lane o uses for input lane i.
//   dense  always 0 (one candidate, the tap itself)
//   KRP    the lane's kept row (2-bit row index of the channel group's index beat)
//   IKR    pos(pattern id, tap) - tap, where pos(p, j) is the j-th kept position
//          (ascending ky*3+kx) of library pattern p (9-bit masks in the parameter block)
// `err` (combinational, for the step being indexed) flags a KRP row index 3, an IKR
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
        always @(posedge clk) begin
            for (l = 0; l < LANES; l = l + 1) begin
                sel[l*SEL_W +: SEL_W] <= bad[l] ? 2'd0 : idx[l*2 +: 2];
            end
        end
        assign err = |bad;

    end else begin : g_ikr
        // per library pattern: offset of its tap-th kept position, and whether it is usable
        reg [IKR_P*SEL_W-1:0] offset;
        reg [IKR_P-1:0]       usable;       // keeps exactly IKR_K positions
        reg [IKR_P-1:0]       malformed;    // keeps neither 0 nor IKR_K positions
        integer p, q, n;
        always @* begin
            for (p = 0; p < IKR_P; p = p + 1) begin
                n = 0;
                offset[p*SEL_W +: SEL_W] = {SEL_W{1'b0}};
                for (q = 0; q < `CONV_TAPS; q = q + 1) begin
                    if (table_bits[p*`CONV_PB_PATTERN_BITS + q]) begin
                        if (n == {{(32-TAP_W){1'b0}}, tap}) begin
                            offset[p*SEL_W +: SEL_W] = q[SEL_W-1:0] - tap[SEL_W-1:0];
                        end
                        n = n + 1;
                    end
                end
                usable[p]    = (n == IKR_K);
                malformed[p] = (n != 0) && (n != IKR_K);
            end
        end

        reg [LANES-1:0] bad;
        reg [LANES*SEL_W-1:0] lane_sel;
        integer l;
        always @* begin
            for (l = 0; l < LANES; l = l + 1) begin
                bad[l] = 1'b1;
                lane_sel[l*SEL_W +: SEL_W] = {SEL_W{1'b0}};
                for (p = 0; p < IKR_P; p = p + 1) begin
                    if (idx[l*IDX_W +: IDX_W] == p[IDX_W-1:0] && usable[p]) begin
                        bad[l] = 1'b0;
                        lane_sel[l*SEL_W +: SEL_W] = offset[p*SEL_W +: SEL_W];
                    end
                end
            end
        end
        always @(posedge clk) begin
            sel <= lane_sel;
        end
        assign err = (|bad) || (|malformed);
    end
endgenerate

endmodule
`default_nettype wire
