`default_nettype none
// Tap-select stage. The line buffer delivers the same column (x+dx, cg) of all four
// row slots; this stage picks the row slot of the current tap row dy for all PAR_IN
// lanes at once (shared dy select) and substitutes zeros for taps in the zero padding.
// The pruning-aware cores replace this module by a per-lane select (KRP row index /
// IKR pattern) without touching the rest of the pipeline. Latency 1.
module conv_tap_select #(
    parameter PAR_IN = 16,  // lanes
    parameter A_BITS = 8    // activation width
) (
    input  wire                       clk,
    input  wire [4*PAR_IN*A_BITS-1:0] slot_data,   // slot s at [s*PAR_IN*A_BITS +: ...]
    input  wire [1:0]                 slot,        // row slot of tap row dy
    input  wire                       tap_inside,  // tap row and column inside the image
    output reg  [PAR_IN*A_BITS-1:0]   act
);

localparam LANES_W = PAR_IN * A_BITS;

always @(posedge clk) begin
    act <= tap_inside ? slot_data[slot*LANES_W +: LANES_W] : {LANES_W{1'b0}};
end

endmodule
`default_nettype wire
