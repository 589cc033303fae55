`default_nettype none
// Behavioural RAMB18E1 / RAMB36E1 for the post-synthesis netlist simulation (scripts/netlist_sim.py).
//
// Yosys 0.23's xilinx/cells_sim.v declares both block RAMs with ports and parameters only (no
// behaviour: their outputs would read 0), and Xilinx's unisims are not available here. These models
// cover exactly what Yosys's memory mapping makes of our conv_sdp_ram: simple dual port (RAM_MODE
// "SDP", 36 bits wide on a RAMB18E1, 72 on a RAMB36E1), port A reads, port B writes with byte
// enables WEBWE (byte k = data bits 8k+7..8k and parity bit k), READ_FIRST (a read of the address
// being written returns the old word), no output register (DO*_REG 0), no resets, initial
// contents 0. Any other configuration stops the simulation at time 0 ($fatal), so a netlist these
// models do not describe can never pass as bit-exact. Data layout per UG473 (7 Series FPGAs
// Memory Resources), SDP: DI = {DIBDI, DIADI}, DIP = {DIPBDIP, DIPADIP}; DO, DOP the same way.
// The read port's address bits are ADDRARDADDR[13:5] (RAMB18E1 x36) / [14:6] (RAMB36E1 x72).

module RAMB18E1 #(
    parameter integer DOA_REG = 0,
    parameter integer DOB_REG = 0,
    parameter RAM_MODE = "TDP",
    parameter integer READ_WIDTH_A = 0,
    parameter integer READ_WIDTH_B = 0,
    parameter integer WRITE_WIDTH_A = 0,
    parameter integer WRITE_WIDTH_B = 0,
    parameter WRITE_MODE_A = "WRITE_FIRST",
    parameter WRITE_MODE_B = "WRITE_FIRST",
    // contents and reset values: accepted, not modelled (Yosys leaves them undefined for our RAMs)
    parameter SRVAL_A = 0,
    parameter SRVAL_B = 0,
    parameter INIT_A = 0,
    parameter INIT_B = 0,
    parameter INIT_FILE = "NONE",
    parameter SIM_DEVICE = "7SERIES",
    parameter INIT_00 = 256'h0, INIT_01 = 256'h0, INIT_02 = 256'h0, INIT_03 = 256'h0, INIT_04 = 256'h0, INIT_05 = 256'h0, INIT_06 = 256'h0, INIT_07 = 256'h0,
    parameter INIT_08 = 256'h0, INIT_09 = 256'h0, INIT_0A = 256'h0, INIT_0B = 256'h0, INIT_0C = 256'h0, INIT_0D = 256'h0, INIT_0E = 256'h0, INIT_0F = 256'h0,
    parameter INIT_10 = 256'h0, INIT_11 = 256'h0, INIT_12 = 256'h0, INIT_13 = 256'h0, INIT_14 = 256'h0, INIT_15 = 256'h0, INIT_16 = 256'h0, INIT_17 = 256'h0,
    parameter INIT_18 = 256'h0, INIT_19 = 256'h0, INIT_1A = 256'h0, INIT_1B = 256'h0, INIT_1C = 256'h0, INIT_1D = 256'h0, INIT_1E = 256'h0, INIT_1F = 256'h0,
    parameter INIT_20 = 256'h0, INIT_21 = 256'h0, INIT_22 = 256'h0, INIT_23 = 256'h0, INIT_24 = 256'h0, INIT_25 = 256'h0, INIT_26 = 256'h0, INIT_27 = 256'h0,
    parameter INIT_28 = 256'h0, INIT_29 = 256'h0, INIT_2A = 256'h0, INIT_2B = 256'h0, INIT_2C = 256'h0, INIT_2D = 256'h0, INIT_2E = 256'h0, INIT_2F = 256'h0,
    parameter INIT_30 = 256'h0, INIT_31 = 256'h0, INIT_32 = 256'h0, INIT_33 = 256'h0, INIT_34 = 256'h0, INIT_35 = 256'h0, INIT_36 = 256'h0, INIT_37 = 256'h0,
    parameter INIT_38 = 256'h0, INIT_39 = 256'h0, INIT_3A = 256'h0, INIT_3B = 256'h0, INIT_3C = 256'h0, INIT_3D = 256'h0, INIT_3E = 256'h0, INIT_3F = 256'h0,
    parameter INITP_00 = 256'h0, INITP_01 = 256'h0, INITP_02 = 256'h0, INITP_03 = 256'h0, INITP_04 = 256'h0, INITP_05 = 256'h0, INITP_06 = 256'h0, INITP_07 = 256'h0,
    parameter IS_CLKARDCLK_INVERTED = 1'b0,
    parameter IS_CLKBWRCLK_INVERTED = 1'b0
) (
    input  wire        CLKARDCLK,
    input  wire        CLKBWRCLK,
    input  wire        ENARDEN,
    input  wire        ENBWREN,
    input  wire        REGCEAREGCE,
    input  wire        REGCEB,
    input  wire        RSTRAMARSTRAM,
    input  wire        RSTRAMB,
    input  wire        RSTREGARSTREG,
    input  wire        RSTREGB,
    input  wire [13:0] ADDRARDADDR,
    input  wire [13:0] ADDRBWRADDR,
    input  wire [15:0] DIADI,
    input  wire [15:0] DIBDI,
    input  wire [1:0]  DIPADIP,
    input  wire [1:0]  DIPBDIP,
    input  wire [1:0]  WEA,
    input  wire [3:0]  WEBWE,
    output wire [15:0] DOADO,
    output wire [15:0] DOBDO,
    output wire [1:0]  DOPADOP,
    output wire [1:0]  DOPBDOP
);
    initial begin
        if (RAM_MODE != "SDP" || READ_WIDTH_A != 36 || WRITE_WIDTH_B != 36 || DOA_REG != 0 || DOB_REG != 0
                || WRITE_MODE_A != "READ_FIRST" || WRITE_MODE_B != "READ_FIRST"
                || IS_CLKARDCLK_INVERTED != 1'b0 || IS_CLKBWRCLK_INVERTED != 1'b0)
            $fatal(1, "RAMB18E1 %m: configuration not modelled (verif/netlist/xilinx_bram_sim.v: SDP x36, READ_FIRST, no DO register)");
    end
    reg [31:0] data [0:511];
    reg [3:0]  parity [0:511];
    reg [31:0] rd_data;
    reg [3:0]  rd_parity;
    integer i;
    initial begin
        rd_data = 32'h0;
        rd_parity = 4'h0;
        for (i = 0; i < 512; i = i + 1) begin
            data[i] = 32'h0;
            parity[i] = 4'h0;
        end
    end
    wire [8:0] rd_addr = ADDRARDADDR[13:5];
    wire [8:0] wr_addr = ADDRBWRADDR[13:5];
    wire [31:0] wr_data = {DIBDI, DIADI};
    wire [3:0] wr_parity = {DIPBDIP, DIPADIP};
    integer k;
    always @(posedge CLKBWRCLK) begin
        if (ENBWREN) begin
            for (k = 0; k < 4; k = k + 1) begin
                if (WEBWE[k]) begin
                    data[wr_addr][8*k +: 8] <= wr_data[8*k +: 8];
                    parity[wr_addr][k] <= wr_parity[k];
                end
            end
        end
    end
    always @(posedge CLKARDCLK) begin
        if (ENARDEN) begin
            rd_data <= data[rd_addr];
            rd_parity <= parity[rd_addr];
        end
    end
    assign {DOBDO, DOADO} = rd_data;
    assign {DOPBDOP, DOPADOP} = rd_parity;
endmodule

module RAMB36E1 #(
    parameter integer DOA_REG = 0,
    parameter integer DOB_REG = 0,
    parameter RAM_MODE = "TDP",
    parameter integer READ_WIDTH_A = 0,
    parameter integer READ_WIDTH_B = 0,
    parameter integer WRITE_WIDTH_A = 0,
    parameter integer WRITE_WIDTH_B = 0,
    parameter WRITE_MODE_A = "WRITE_FIRST",
    parameter WRITE_MODE_B = "WRITE_FIRST",
    // contents and reset values: accepted, not modelled (Yosys leaves them undefined for our RAMs)
    parameter SRVAL_A = 0,
    parameter SRVAL_B = 0,
    parameter INIT_A = 0,
    parameter INIT_B = 0,
    parameter INIT_FILE = "NONE",
    parameter SIM_DEVICE = "7SERIES",
    parameter INIT_00 = 256'h0, INIT_01 = 256'h0, INIT_02 = 256'h0, INIT_03 = 256'h0, INIT_04 = 256'h0, INIT_05 = 256'h0, INIT_06 = 256'h0, INIT_07 = 256'h0,
    parameter INIT_08 = 256'h0, INIT_09 = 256'h0, INIT_0A = 256'h0, INIT_0B = 256'h0, INIT_0C = 256'h0, INIT_0D = 256'h0, INIT_0E = 256'h0, INIT_0F = 256'h0,
    parameter INIT_10 = 256'h0, INIT_11 = 256'h0, INIT_12 = 256'h0, INIT_13 = 256'h0, INIT_14 = 256'h0, INIT_15 = 256'h0, INIT_16 = 256'h0, INIT_17 = 256'h0,
    parameter INIT_18 = 256'h0, INIT_19 = 256'h0, INIT_1A = 256'h0, INIT_1B = 256'h0, INIT_1C = 256'h0, INIT_1D = 256'h0, INIT_1E = 256'h0, INIT_1F = 256'h0,
    parameter INIT_20 = 256'h0, INIT_21 = 256'h0, INIT_22 = 256'h0, INIT_23 = 256'h0, INIT_24 = 256'h0, INIT_25 = 256'h0, INIT_26 = 256'h0, INIT_27 = 256'h0,
    parameter INIT_28 = 256'h0, INIT_29 = 256'h0, INIT_2A = 256'h0, INIT_2B = 256'h0, INIT_2C = 256'h0, INIT_2D = 256'h0, INIT_2E = 256'h0, INIT_2F = 256'h0,
    parameter INIT_30 = 256'h0, INIT_31 = 256'h0, INIT_32 = 256'h0, INIT_33 = 256'h0, INIT_34 = 256'h0, INIT_35 = 256'h0, INIT_36 = 256'h0, INIT_37 = 256'h0,
    parameter INIT_38 = 256'h0, INIT_39 = 256'h0, INIT_3A = 256'h0, INIT_3B = 256'h0, INIT_3C = 256'h0, INIT_3D = 256'h0, INIT_3E = 256'h0, INIT_3F = 256'h0,
    parameter INIT_40 = 256'h0, INIT_41 = 256'h0, INIT_42 = 256'h0, INIT_43 = 256'h0, INIT_44 = 256'h0, INIT_45 = 256'h0, INIT_46 = 256'h0, INIT_47 = 256'h0,
    parameter INIT_48 = 256'h0, INIT_49 = 256'h0, INIT_4A = 256'h0, INIT_4B = 256'h0, INIT_4C = 256'h0, INIT_4D = 256'h0, INIT_4E = 256'h0, INIT_4F = 256'h0,
    parameter INIT_50 = 256'h0, INIT_51 = 256'h0, INIT_52 = 256'h0, INIT_53 = 256'h0, INIT_54 = 256'h0, INIT_55 = 256'h0, INIT_56 = 256'h0, INIT_57 = 256'h0,
    parameter INIT_58 = 256'h0, INIT_59 = 256'h0, INIT_5A = 256'h0, INIT_5B = 256'h0, INIT_5C = 256'h0, INIT_5D = 256'h0, INIT_5E = 256'h0, INIT_5F = 256'h0,
    parameter INIT_60 = 256'h0, INIT_61 = 256'h0, INIT_62 = 256'h0, INIT_63 = 256'h0, INIT_64 = 256'h0, INIT_65 = 256'h0, INIT_66 = 256'h0, INIT_67 = 256'h0,
    parameter INIT_68 = 256'h0, INIT_69 = 256'h0, INIT_6A = 256'h0, INIT_6B = 256'h0, INIT_6C = 256'h0, INIT_6D = 256'h0, INIT_6E = 256'h0, INIT_6F = 256'h0,
    parameter INIT_70 = 256'h0, INIT_71 = 256'h0, INIT_72 = 256'h0, INIT_73 = 256'h0, INIT_74 = 256'h0, INIT_75 = 256'h0, INIT_76 = 256'h0, INIT_77 = 256'h0,
    parameter INIT_78 = 256'h0, INIT_79 = 256'h0, INIT_7A = 256'h0, INIT_7B = 256'h0, INIT_7C = 256'h0, INIT_7D = 256'h0, INIT_7E = 256'h0, INIT_7F = 256'h0,
    parameter INITP_00 = 256'h0, INITP_01 = 256'h0, INITP_02 = 256'h0, INITP_03 = 256'h0, INITP_04 = 256'h0, INITP_05 = 256'h0, INITP_06 = 256'h0, INITP_07 = 256'h0,
    parameter INITP_08 = 256'h0, INITP_09 = 256'h0, INITP_0A = 256'h0, INITP_0B = 256'h0, INITP_0C = 256'h0, INITP_0D = 256'h0, INITP_0E = 256'h0, INITP_0F = 256'h0,
    parameter RAM_EXTENSION_A = "NONE",
    parameter RAM_EXTENSION_B = "NONE",
    parameter IS_CLKARDCLK_INVERTED = 1'b0,
    parameter IS_CLKBWRCLK_INVERTED = 1'b0
) (
    input  wire        CLKARDCLK,
    input  wire        CLKBWRCLK,
    input  wire        ENARDEN,
    input  wire        ENBWREN,
    input  wire        REGCEAREGCE,
    input  wire        REGCEB,
    input  wire        RSTRAMARSTRAM,
    input  wire        RSTRAMB,
    input  wire        RSTREGARSTREG,
    input  wire        RSTREGB,
    input  wire        CASCADEINA,
    input  wire        CASCADEINB,
    input  wire        INJECTDBITERR,
    input  wire        INJECTSBITERR,
    input  wire [15:0] ADDRARDADDR,
    input  wire [15:0] ADDRBWRADDR,
    input  wire [31:0] DIADI,
    input  wire [31:0] DIBDI,
    input  wire [3:0]  DIPADIP,
    input  wire [3:0]  DIPBDIP,
    input  wire [3:0]  WEA,
    input  wire [7:0]  WEBWE,
    output wire [31:0] DOADO,
    output wire [31:0] DOBDO,
    output wire [3:0]  DOPADOP,
    output wire [3:0]  DOPBDOP,
    output wire        CASCADEOUTA,
    output wire        CASCADEOUTB,
    output wire        DBITERR,
    output wire        SBITERR,
    output wire [7:0]  ECCPARITY,
    output wire [8:0]  RDADDRECC
);
    initial begin
        if (RAM_MODE != "SDP" || READ_WIDTH_A != 72 || WRITE_WIDTH_B != 72 || DOA_REG != 0 || DOB_REG != 0
                || WRITE_MODE_A != "READ_FIRST" || WRITE_MODE_B != "READ_FIRST"
                || RAM_EXTENSION_A != "NONE" || RAM_EXTENSION_B != "NONE"
                || IS_CLKARDCLK_INVERTED != 1'b0 || IS_CLKBWRCLK_INVERTED != 1'b0)
            $fatal(1, "RAMB36E1 %m: configuration not modelled (verif/netlist/xilinx_bram_sim.v: SDP x72, READ_FIRST, no DO register)");
    end
    reg [63:0] data [0:511];
    reg [7:0]  parity [0:511];
    reg [63:0] rd_data;
    reg [7:0]  rd_parity;
    integer i;
    initial begin
        rd_data = 64'h0;
        rd_parity = 8'h0;
        for (i = 0; i < 512; i = i + 1) begin
            data[i] = 64'h0;
            parity[i] = 8'h0;
        end
    end
    wire [8:0] rd_addr = ADDRARDADDR[14:6];
    wire [8:0] wr_addr = ADDRBWRADDR[14:6];
    wire [63:0] wr_data = {DIBDI, DIADI};
    wire [7:0] wr_parity = {DIPBDIP, DIPADIP};
    integer k;
    always @(posedge CLKBWRCLK) begin
        if (ENBWREN) begin
            for (k = 0; k < 8; k = k + 1) begin
                if (WEBWE[k]) begin
                    data[wr_addr][8*k +: 8] <= wr_data[8*k +: 8];
                    parity[wr_addr][k] <= wr_parity[k];
                end
            end
        end
    end
    always @(posedge CLKARDCLK) begin
        if (ENARDEN) begin
            rd_data <= data[rd_addr];
            rd_parity <= parity[rd_addr];
        end
    end
    assign {DOBDO, DOADO} = rd_data;
    assign {DOPBDOP, DOPADOP} = rd_parity;
    assign {CASCADEOUTA, CASCADEOUTB, DBITERR, SBITERR} = 4'b0;
    assign ECCPARITY = 8'h0;
    assign RDADDRECC = 9'h0;
endmodule
`default_nettype wire
