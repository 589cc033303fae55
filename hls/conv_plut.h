// conv_plut: the 3x3 convolution core with the product look-up: a 16-level bank per activation, one index per lane (IOS-PoT).
// Sizes and weight format come from the CONV_* macros (include/conv_config.h, docs/hls.md).
#ifndef CONV_PLUT_H
#define CONV_PLUT_H

#include "conv3x3.h"

#ifndef CONV_W_BITS
#define CONV_W_BITS 4
#endif

typedef conv::cfg_base<CONV_PAR_IN, CONV_PAR_OUT, CONV_A_BITS, CONV_W_BITS, CONV_H_MAX, CONV_W_MAX, CONV_CIN_MAX,
                       CONV_COUT_MAX>
    conv_plut_cfg;
typedef conv::product_lut<conv_plut_cfg, CONV_LEVEL_EXP_MAX> conv_plut_product;
typedef conv::engine<conv_plut_cfg, conv_plut_product, conv::selected_format> conv_plut_engine;

void conv_plut(hls::stream<conv_plut_engine::act_beat_t> &s_axis_act, hls::stream<conv_plut_engine::wgt_beat_t> &s_axis_wgt,
             hls::stream<conv_plut_engine::out_beat_t> &m_axis_out, ap_uint<16> h, ap_uint<16> w, ap_uint<16> cin,
             ap_uint<16> cout, ap_uint<1> mode, ap_uint<8> &status);

#endif
