// conv_mult: the 3x3 convolution core with the multiplier baseline: two's-complement codes, one a*w per lane (DSP).
// Sizes and weight format come from the CONV_* macros (include/conv_config.h, docs/hls.md).
#ifndef CONV_MULT_H
#define CONV_MULT_H

#include "conv3x3.h"

#ifndef CONV_W_BITS
#define CONV_W_BITS 8
#endif

typedef conv::cfg_base<CONV_PAR_IN, CONV_PAR_OUT, CONV_A_BITS, CONV_W_BITS, CONV_H_MAX, CONV_W_MAX, CONV_CIN_MAX,
                       CONV_COUT_MAX>
    conv_mult_cfg;
typedef conv::product_mult<conv_mult_cfg> conv_mult_product;
typedef conv::engine<conv_mult_cfg, conv_mult_product, conv::selected_format> conv_mult_engine;

void conv_mult(hls::stream<conv_mult_engine::act_beat_t> &s_axis_act, hls::stream<conv_mult_engine::wgt_beat_t> &s_axis_wgt,
             hls::stream<conv_mult_engine::out_beat_t> &m_axis_out, ap_uint<16> h, ap_uint<16> w, ap_uint<16> cin,
             ap_uint<16> cout, ap_uint<1> mode, ap_uint<8> &status);

#endif
