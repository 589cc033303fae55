`default_nettype none
// Simple dual-port RAM: one write port, one registered read port with enable.
// Written in the plain inference style so Vivado and Yosys map it onto block RAM
// (or distributed RAM when small). The read register has no reset, as in a BRAM.
module conv_sdp_ram #(
    parameter DATA_W = 32,              // word width
    parameter DEPTH  = 256,             // number of words
    parameter ADDR_W = $clog2(DEPTH)    // address width (>= 1)
) (
    input  wire              clk,
    input  wire              wr_en,
    input  wire [ADDR_W-1:0] wr_addr,
    input  wire [DATA_W-1:0] wr_data,
    input  wire              rd_en,
    input  wire [ADDR_W-1:0] rd_addr,
    output reg  [DATA_W-1:0] rd_data
);

generate
    if (DEPTH < 1 || (1 << ADDR_W) < DEPTH) begin : g_bad_params
        initial begin
            $display("ERROR: conv_sdp_ram: DEPTH=%0d does not fit ADDR_W=%0d", DEPTH, ADDR_W);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
endgenerate

reg [DATA_W-1:0] mem [0:DEPTH-1];

always @(posedge clk) begin
    if (wr_en) begin
        mem[wr_addr] <= wr_data;
    end
    if (rd_en) begin
        rd_data <= mem[rd_addr];
    end
end

endmodule
`default_nettype wire
