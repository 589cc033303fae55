`default_nettype none
// Pipelined signed adder tree: N_IN leaves of IN_W bits, one register per level, each
// level one bit wider than the one below (so it cannot overflow). An odd node passes
// through to the next level. Latency LEVELS = max(1, clog2(N_IN)).
module conv_adder_tree #(
    parameter N_IN  = 16,   // number of leaves
    parameter IN_W  = 17,   // signed leaf width
    parameter LEVELS = (N_IN > 1) ? $clog2(N_IN) : 1,   // latency (do not override)
    parameter OUT_W  = IN_W + LEVELS                     // signed sum width
) (
    input  wire                 clk,
    input  wire [N_IN*IN_W-1:0] leaves,
    output wire [OUT_W-1:0]     sum
);

// nodes at a level: ceil(N_IN / 2^level)
function integer level_nodes;
    input integer level;
    integer n, l;
    begin
        n = N_IN;
        for (l = 0; l < level; l = l + 1) begin
            n = (n + 1) / 2;
        end
        level_nodes = n;
    end
endfunction

// bit offset of a level in the flat node storage (level 0 = the leaves)
function integer level_offset;
    input integer level;
    integer l, off;
    begin
        off = 0;
        for (l = 0; l < level; l = l + 1) begin
            off = off + level_nodes(l) * (IN_W + l);
        end
        level_offset = off;
    end
endfunction

localparam STORE_W = level_offset(LEVELS + 1);

wire [STORE_W-1:0] nodes;
assign nodes[level_offset(1)-1:0] = leaves;

genvar l, n;
generate
    if (N_IN < 1 || IN_W < 1 || LEVELS != ((N_IN > 1) ? $clog2(N_IN) : 1) || OUT_W != IN_W + LEVELS) begin : g_bad_params
        initial begin
            $display("ERROR: conv_adder_tree: illegal N_IN=%0d IN_W=%0d LEVELS=%0d OUT_W=%0d",
                     N_IN, IN_W, LEVELS, OUT_W);
            $finish;
        end
        conv_illegal_parameter u_stop_elaboration ();
    end
    for (l = 1; l <= LEVELS; l = l + 1) begin : g_level
        localparam NODES_IN = level_nodes(l - 1);
        localparam W_IN     = IN_W + l - 1;
        localparam OFF_IN   = level_offset(l - 1);
        localparam OFF_OUT  = level_offset(l);
        for (n = 0; n < level_nodes(l); n = n + 1) begin : g_node
            reg signed [W_IN:0] node_reg;
            wire signed [W_IN-1:0] left = nodes[OFF_IN + (2*n)*W_IN +: W_IN];
            if (2*n + 1 < NODES_IN) begin : g_add
                wire signed [W_IN-1:0] right = nodes[OFF_IN + (2*n+1)*W_IN +: W_IN];
                always @(posedge clk) begin
                    node_reg <= left + right;
                end
            end else begin : g_pass
                always @(posedge clk) begin
                    node_reg <= {left[W_IN-1], left};
                end
            end
            assign nodes[OFF_OUT + n*(W_IN+1) +: W_IN+1] = node_reg;
        end
    end
endgenerate

assign sum = nodes[level_offset(LEVELS) +: OUT_W];

endmodule
`default_nettype wire
