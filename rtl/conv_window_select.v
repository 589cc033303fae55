`default_nettype none
// Candidate select: from the 3x3 window of one channel group (the line buffer's four row
// slots x three column banks), pick the NCAND candidate window positions of step `tap`
// (fmt_cand_pos) for all PAR_IN input lanes and zero the taps in the zero padding.
// Shared by every output lane; the per-lane choice among the candidates is made in the
// product unit (conv_lane_select, or PLUT's bank select). Latency 1.
module conv_window_select #(
    parameter FORMAT = 0,   // 0 dense, 1 KRP, 2 IKR
    parameter IKR_K  = 4,   // IKR: kept weights per kernel
    parameter PAR_IN = 16,  // lanes
    parameter A_BITS = 8,   // activation width
    parameter NCAND  = 1,   // candidates per step (fmt_ncand)
    parameter TAP_W  = 4    // width of the step counter
) (
    input  wire                            clk,
    input  wire [12*PAR_IN*A_BITS-1:0]     window,     // slot s, bank b at [(s*3+b)*PAR_IN*A_BITS +: ...]
    input  wire [TAP_W-1:0]                tap,        // step within the channel group
    input  wire [1:0]                      slot0,      // row slot of window row ky = 0
    input  wire [1:0]                      bank0,      // column bank of window column kx = 0
    input  wire [2:0]                      row_inside, // window row ky in_image the image
    input  wire [2:0]                      col_inside, // window column kx in_image the image
    output reg  [NCAND*PAR_IN*A_BITS-1:0]  cand        // candidate c at [c*PAR_IN*A_BITS +: ...]
);

`include "conv_prod_info.vh"

localparam LANES_W = PAR_IN * A_BITS;

// 12:1 word select as a case (a variable part-select becomes a wide shifter in Yosys)
function [LANES_W-1:0] select_word;
    input [12*LANES_W-1:0] words;
    input [3:0]            index;
    begin
        case (index)
            4'd0:    select_word = words[ 0*LANES_W +: LANES_W];
            4'd1:    select_word = words[ 1*LANES_W +: LANES_W];
            4'd2:    select_word = words[ 2*LANES_W +: LANES_W];
            4'd3:    select_word = words[ 3*LANES_W +: LANES_W];
            4'd4:    select_word = words[ 4*LANES_W +: LANES_W];
            4'd5:    select_word = words[ 5*LANES_W +: LANES_W];
            4'd6:    select_word = words[ 6*LANES_W +: LANES_W];
            4'd7:    select_word = words[ 7*LANES_W +: LANES_W];
            4'd8:    select_word = words[ 8*LANES_W +: LANES_W];
            4'd9:    select_word = words[ 9*LANES_W +: LANES_W];
            4'd10:   select_word = words[10*LANES_W +: LANES_W];
            default: select_word = words[11*LANES_W +: LANES_W];
        endcase
    end
endfunction

generate
    if (NCAND != fmt_ncand(FORMAT, IKR_K) || (1 << TAP_W) < fmt_taps(FORMAT, IKR_K)) begin : g_bad_params
        initial begin
            $display("ERROR: conv_window_select: NCAND=%0d / TAP_W=%0d do not match FORMAT=%0d",
                     NCAND, TAP_W, FORMAT);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

// (slot0 + k) mod 4 wraps by itself in two bits; (bank0 + k) mod 3 is a table (an add and a
// compare would put a carry chain on the select path)
function [1:0] rot_slot;
    input [1:0] base;
    input [1:0] k;
    begin
        rot_slot = base + k;
    end
endfunction

function [1:0] rot_bank;
    input [1:0] base;   // 0..2
    input [1:0] k;      // 0..2
    begin
        case ({base, k})
            4'b00_00, 4'b01_10, 4'b10_01: rot_bank = 2'd0;
            4'b00_01, 4'b01_00, 4'b10_10: rot_bank = 2'd1;
            default:                      rot_bank = 2'd2;
        endcase
    end
endfunction

// 3:1 word select (index 3 reads word 2: it does not occur)
function [LANES_W-1:0] select3;
    input [3*LANES_W-1:0] words;
    input [1:0]           index;
    begin
        case (index)
            2'd0:    select3 = words[0*LANES_W +: LANES_W];
            2'd1:    select3 = words[1*LANES_W +: LANES_W];
            default: select3 = words[2*LANES_W +: LANES_W];
        endcase
    end
endfunction

genvar c;
generate
    if (NCAND == 1) begin : g_direct
        // dense: the one candidate is the tap itself, a 12:1 select of the slot/bank word
        reg [1:0] ky, kx;
        reg [3:0] word;     // slot*3 + bank
        reg       in_image;
        always @* begin
            ky = (tap < 3) ? 2'd0 : (tap < 6) ? 2'd1 : 2'd2;
            kx = (tap == 0 || tap == 3 || tap == 6) ? 2'd0 : (tap == 1 || tap == 4 || tap == 7) ? 2'd1 : 2'd2;
            word     = {rot_slot(slot0, ky), 2'b00} - {2'b00, rot_slot(slot0, ky)} + {2'b00, rot_bank(bank0, kx)};
            in_image = row_inside[ky] && col_inside[kx];
        end
        always @(posedge clk) begin
            cand <= in_image ? select_word(window, word) : {LANES_W{1'b0}};
        end
    end else begin : g_rows
        // pruned: the three window rows first (a 4:1 slot select of each bank), shared by
        // every candidate, then per candidate only its column / position (issue 22: the
        // per-candidate 12:1 of every step cost IKR 1.2 k LUTs at PAR_IN = 4)
        reg [9*LANES_W-1:0] rows;      // window row ky, bank b at [(ky*3+b)*LANES_W +: LANES_W]
        integer ky, b;
        always @* begin
            for (ky = 0; ky < 3; ky = ky + 1) begin
                for (b = 0; b < 3; b = b + 1) begin
                    case (rot_slot(slot0, ky[1:0]))
                        2'd0:    rows[(ky*3+b)*LANES_W +: LANES_W] = window[(0*3+b)*LANES_W +: LANES_W];
                        2'd1:    rows[(ky*3+b)*LANES_W +: LANES_W] = window[(1*3+b)*LANES_W +: LANES_W];
                        2'd2:    rows[(ky*3+b)*LANES_W +: LANES_W] = window[(2*3+b)*LANES_W +: LANES_W];
                        default: rows[(ky*3+b)*LANES_W +: LANES_W] = window[(3*3+b)*LANES_W +: LANES_W];
                    endcase
                end
            end
        end
        if (FORMAT == 1) begin : g_krp
            // KRP: candidate c is window row c at column kx = tap (bank (bank0 + tap) mod 3)
            wire [1:0] kx         = tap[1:0];
            wire [1:0] bank       = rot_bank(bank0, kx);
            wire       col_in_img = (kx == 2'd0) ? col_inside[0] : (kx == 2'd1) ? col_inside[1] : col_inside[2];
            for (c = 0; c < NCAND; c = c + 1) begin : g_cand
                always @(posedge clk) begin
                    cand[c*LANES_W +: LANES_W] <= (row_inside[c] && col_in_img)
                        ? select3(rows[c*3*LANES_W +: 3*LANES_W], bank) : {LANES_W{1'b0}};
                end
            end
            if (TAP_W > 2) begin : g_unused_tap
                wire unused_tap = &{1'b0, tap[TAP_W-1:2]};
            end
        end else begin : g_positions
            // IKR: the nine window positions (column kx: bank (bank0 + kx) mod 3), then per
            // candidate a select over the steps (candidate c at step t: position t + c)
            localparam TAPS   = fmt_taps(FORMAT, IKR_K);
            localparam TSEL_W = (TAPS > 1) ? $clog2(TAPS) : 1;
            reg [9*LANES_W-1:0] positions;     // position ky*3+kx
            integer kx;
            if (TAP_W > TSEL_W) begin : g_unused_tap
                wire unused_tap = &{1'b0, tap[TAP_W-1:TSEL_W]};
            end
            always @* begin
                for (ky = 0; ky < 3; ky = ky + 1) begin
                    for (kx = 0; kx < 3; kx = kx + 1) begin
                        positions[(ky*3+kx)*LANES_W +: LANES_W] =
                            select3(rows[ky*3*LANES_W +: 3*LANES_W], rot_bank(bank0, kx[1:0]));
                    end
                end
            end
            for (c = 0; c < NCAND; c = c + 1) begin : g_cand
                reg [LANES_W-1:0] word;
                reg               in_image;
                integer           t, pos_i;
                always @* begin
                    // the steps 0..TAPS-1 need only the low TSEL_W bits of tap (the rest are 0:
                    // comparing them costs a third more LUTs); an unused code reads step 0
                    pos_i    = fmt_cand_pos(FORMAT, 0, c);
                    word     = positions[pos_i*LANES_W +: LANES_W];
                    in_image = row_inside[pos_i / 3] && col_inside[pos_i % 3];
                    for (t = 1; t < TAPS; t = t + 1) begin
                        pos_i = fmt_cand_pos(FORMAT, t, c);
                        if (tap[TSEL_W-1:0] == t[TSEL_W-1:0]) begin
                            word     = positions[pos_i*LANES_W +: LANES_W];
                            in_image = row_inside[pos_i / 3] && col_inside[pos_i % 3];
                        end
                    end
                end
                always @(posedge clk) begin
                    cand[c*LANES_W +: LANES_W] <= in_image ? word : {LANES_W{1'b0}};
                end
            end
        end
    end
endgenerate

endmodule
`default_nettype wire
