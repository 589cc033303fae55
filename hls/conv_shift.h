// conv_shift: the 3x3 convolution core with the shift-add: one- (pot) or two-term (apot) power-of-two codes, no multiplier.
// Sizes and weight format come from the CONV_* macros (include/conv_config.h, docs/hls.md).
#ifndef CONV_SHIFT_H
#define CONV_SHIFT_H

#include "conv3x3.h"

#ifndef CONV_W_BITS
#define CONV_W_BITS (CONV_EXP2_BITS ? 2 + CONV_EXP1_BITS + CONV_EXP2_BITS : 1 + CONV_EXP1_BITS)
#endif

typedef conv::cfg_base<CONV_PAR_IN, CONV_PAR_OUT, CONV_A_BITS, CONV_W_BITS, CONV_H_MAX, CONV_W_MAX, CONV_CIN_MAX,
                       CONV_COUT_MAX>
    conv_shift_cfg;
typedef conv::product_shift<conv_shift_cfg, CONV_EXP1_BITS, CONV_EXP2_BITS> conv_shift_product;
typedef conv::engine<conv_shift_cfg, conv_shift_product, conv::selected_format> conv_shift_engine;

void conv_shift(hls::stream<conv_shift_engine::act_beat_t> &s_axis_act, hls::stream<conv_shift_engine::wgt_beat_t> &s_axis_wgt,
             hls::stream<conv_shift_engine::out_beat_t> &m_axis_out, ap_uint<16> h, ap_uint<16> w, ap_uint<16> cin,
             ap_uint<16> cout, ap_uint<1> mode, ap_uint<8> &status);

#endif
