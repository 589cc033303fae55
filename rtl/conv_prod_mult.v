`default_nettype none
// MULT product unit: PAR_IN x PAR_OUT signed products a*w with two registers per product
// (MREG and PREG of a DSP48E1, so synthesis maps each product onto one DSP slice).
// Latency 2. Products of output lane o are at prod[(o*PAR_IN+i)*PROD_W +: PROD_W].
(* use_dsp = "yes" *)
module conv_prod_mult #(
    parameter PAR_IN  = 16,     // input lanes
    parameter PAR_OUT = 16,     // output lanes
    parameter A_BITS  = 8,      // unsigned activation width
    parameter W_BITS  = 8,      // two's complement weight code width
    parameter PROD_W  = A_BITS + W_BITS + 1     // signed product width
) (
    input  wire                              clk,
    input  wire [PAR_IN*A_BITS-1:0]          act,
    input  wire [PAR_OUT*PAR_IN*W_BITS-1:0]  codes,
    output wire [PAR_OUT*PAR_IN*PROD_W-1:0]  prod
);

genvar o, i;
generate
    if (PROD_W != A_BITS + W_BITS + 1) begin : g_bad_params
        initial begin
            $display("ERROR: conv_prod_mult: PROD_W must be A_BITS+W_BITS+1");
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    for (o = 0; o < PAR_OUT; o = o + 1) begin : g_out
        for (i = 0; i < PAR_IN; i = i + 1) begin : g_in
            wire signed [A_BITS:0]   a_signed = {1'b0, act[i*A_BITS +: A_BITS]};
            wire signed [W_BITS-1:0] w_signed = codes[(o*PAR_IN+i)*W_BITS +: W_BITS];
            reg  signed [PROD_W-1:0] mul_reg;
            reg  signed [PROD_W-1:0] prod_reg;
            always @(posedge clk) begin
                mul_reg  <= a_signed * w_signed;
                prod_reg <= mul_reg;
            end
            assign prod[(o*PAR_IN+i)*PROD_W +: PROD_W] = prod_reg;
        end
    end
endgenerate

endmodule
`default_nettype wire
