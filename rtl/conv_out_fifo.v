`default_nettype none
// Output FIFO towards m_axis_out. It never refuses a push: the engine only starts a
// pixel while (count + pixels in flight) < DEPTH, so back-pressure stalls the datapath
// at pixel boundaries instead of dropping data. Storage maps onto distributed RAM.
module conv_out_fifo #(
    parameter DATA_W = 513,             // tdata width + 1 (tlast)
    parameter DEPTH  = 8,               // entries, power of two
    parameter CNT_W  = $clog2(DEPTH) + 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              push,
    input  wire [DATA_W-1:0] push_data,
    output wire [DATA_W-1:0] m_data,
    output wire              m_valid,
    input  wire              m_ready,
    output wire [CNT_W-1:0]  count
);

localparam PTR_W = $clog2(DEPTH);

generate
    if (DEPTH < 2 || (1 << PTR_W) != DEPTH || CNT_W != PTR_W + 1) begin : g_bad_params
        initial begin
            $display("ERROR: conv_out_fifo: DEPTH=%0d must be a power of two >= 2", DEPTH);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

reg [DATA_W-1:0] mem [0:DEPTH-1];
reg [PTR_W:0]    wr_ptr_reg;
reg [PTR_W:0]    rd_ptr_reg;

wire pop = m_valid && m_ready;

assign count   = wr_ptr_reg - rd_ptr_reg;
assign m_valid = (wr_ptr_reg != rd_ptr_reg);
assign m_data  = mem[rd_ptr_reg[PTR_W-1:0]];

always @(posedge clk) begin
    if (push) begin
        mem[wr_ptr_reg[PTR_W-1:0]] <= push_data;
    end
end

always @(posedge clk) begin
    if (rst) begin
        wr_ptr_reg <= {(PTR_W+1){1'b0}};
        rd_ptr_reg <= {(PTR_W+1){1'b0}};
    end else begin
        if (push) begin
            wr_ptr_reg <= wr_ptr_reg + 1'b1;
        end
        if (pop) begin
            rd_ptr_reg <= rd_ptr_reg + 1'b1;
        end
    end
end

endmodule
`default_nettype wire
