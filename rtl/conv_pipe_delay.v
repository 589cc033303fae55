`default_nettype none
// Fixed-latency delay line for the control flags that travel beside the datapath.
// DEPTH = 0 is a plain wire.
module conv_pipe_delay #(
    parameter WIDTH = 1,    // flag vector width
    parameter DEPTH = 1     // latency in cycles (>= 0)
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] in_data,
    output wire [WIDTH-1:0] out_data
);

generate
    if (DEPTH < 0 || WIDTH < 1) begin : g_bad_params
        initial begin
            $display("ERROR: conv_pipe_delay: WIDTH=%0d DEPTH=%0d", WIDTH, DEPTH);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    if (DEPTH == 0) begin : g_wire
        assign out_data = in_data;
    end else if (DEPTH == 1) begin : g_one
        reg [WIDTH-1:0] stage_reg;
        always @(posedge clk) begin
            if (rst) begin
                stage_reg <= {WIDTH{1'b0}};
            end else begin
                stage_reg <= in_data;
            end
        end
        assign out_data = stage_reg;
    end else begin : g_chain
        reg [WIDTH*DEPTH-1:0] stages_reg;
        always @(posedge clk) begin
            if (rst) begin
                stages_reg <= {WIDTH*DEPTH{1'b0}};
            end else begin
                stages_reg <= {stages_reg[WIDTH*DEPTH-WIDTH-1:0], in_data};
            end
        end
        assign out_data = stages_reg[WIDTH*DEPTH-1 -: WIDTH];
    end
endgenerate

endmodule
`default_nettype wire
