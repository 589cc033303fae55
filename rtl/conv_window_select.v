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

genvar c;
generate
    for (c = 0; c < NCAND; c = c + 1) begin : g_cand
        reg [3:0] pos;
        reg [1:0] ky, kx, slot;
        reg [2:0] bank_sum;
        reg [3:0] word;     // slot*3 + bank
        reg       in_image;
        integer   t, pos_i;
        always @* begin
            // window position of candidate c at this step (a small constant table per c)
            pos = 4'd0;
            for (t = 0; t < fmt_taps(FORMAT, IKR_K); t = t + 1) begin
                pos_i = fmt_cand_pos(FORMAT, t, c);
                if (tap == t[TAP_W-1:0]) pos = pos_i[3:0];
            end
            case (pos)
                4'd0, 4'd1, 4'd2: ky = 2'd0;
                4'd3, 4'd4, 4'd5: ky = 2'd1;
                default:          ky = 2'd2;
            endcase
            case (pos)
                4'd0, 4'd3, 4'd6: kx = 2'd0;
                4'd1, 4'd4, 4'd7: kx = 2'd1;
                default:          kx = 2'd2;
            endcase
            slot     = slot0 + ky;                      // row slots wrap mod 4
            bank_sum = {1'b0, bank0} + {1'b0, kx};      // column banks wrap mod 3
            word     = {slot, 2'b00} - {2'b00, slot} +
                       ((bank_sum >= 3'd3) ? {1'b0, bank_sum - 3'd3} : {1'b0, bank_sum});
            in_image   = row_inside[ky] && col_inside[kx];
        end
        always @(posedge clk) begin
            cand[c*LANES_W +: LANES_W] <= in_image ? select_word(window, word) : {LANES_W{1'b0}};
        end
    end
endgenerate

endmodule
`default_nettype wire
