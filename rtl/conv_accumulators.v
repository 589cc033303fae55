`default_nettype none
// The PAR_OUT output-lane accumulators: per step, acc = first ? sum : acc + sum. A step's
// lane sum is bounded by the layer bound that sizes ACC_BITS, so a wider adder-tree sum is
// truncated to ACC_BITS (its top bits are redundant sign copies).
module conv_accumulators #(
    parameter PAR_OUT  = 16,
    parameter SUM_W    = 20,    // signed adder-tree sum width
    parameter ACC_BITS = 28     // signed accumulator width
) (
    input  wire                        clk,
    input  wire                        in_valid,
    input  wire                        in_first,    // first step of a pixel: load
    input  wire [PAR_OUT*SUM_W-1:0]    lane_sums,
    output wire [PAR_OUT*ACC_BITS-1:0] acc
);

reg [PAR_OUT*ACC_BITS-1:0] acc_reg;
assign acc = acc_reg;

genvar o;
generate
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_acc
        wire signed [SUM_W-1:0]    lane_sum = lane_sums[o*SUM_W +: SUM_W];
        wire signed [ACC_BITS-1:0] lane_sum_acc;
        if (SUM_W >= ACC_BITS) begin : g_narrow
            assign lane_sum_acc = lane_sum[ACC_BITS-1:0];
        end else begin : g_widen
            assign lane_sum_acc = {{(ACC_BITS-SUM_W){lane_sum[SUM_W-1]}}, lane_sum};
        end
        always @(posedge clk) begin
            if (in_valid) begin
                acc_reg[o*ACC_BITS +: ACC_BITS] <= in_first ? lane_sum_acc :
                                                   acc_reg[o*ACC_BITS +: ACC_BITS] + lane_sum_acc;
            end
        end
    end
endgenerate

endmodule
`default_nettype wire
