// Synthesis top of conv_mult (see conv_mult.h): AXI4-Stream data, AXI4-Lite control.
#include "conv_mult.h"

void conv_mult(hls::stream<conv_mult_engine::act_beat_t> &s_axis_act, hls::stream<conv_mult_engine::wgt_beat_t> &s_axis_wgt,
             hls::stream<conv_mult_engine::out_beat_t> &m_axis_out, ap_uint<16> h, ap_uint<16> w, ap_uint<16> cin,
             ap_uint<16> cout, ap_uint<1> mode, ap_uint<8> &status) {
#pragma HLS INTERFACE axis port = s_axis_act
#pragma HLS INTERFACE axis port = s_axis_wgt
#pragma HLS INTERFACE axis port = m_axis_out
#pragma HLS INTERFACE s_axilite port = h bundle = ctrl
#pragma HLS INTERFACE s_axilite port = w bundle = ctrl
#pragma HLS INTERFACE s_axilite port = cin bundle = ctrl
#pragma HLS INTERFACE s_axilite port = cout bundle = ctrl
#pragma HLS INTERFACE s_axilite port = mode bundle = ctrl
#pragma HLS INTERFACE s_axilite port = status bundle = ctrl
#pragma HLS INTERFACE s_axilite port = return bundle = ctrl
    conv::conv3x3<conv_mult_cfg, conv_mult_product, conv::selected_format>(s_axis_act, s_axis_wgt, m_axis_out, h, w, cin,
                                                                          cout, mode, status);
}
