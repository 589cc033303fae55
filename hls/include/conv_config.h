// Compile-time configuration of the conv3x3 HLS kernels (docs/hls.md).
//
// Every CONV_* macro has a default (VGG16 conv8 at 16x16 lanes); a build overrides them with
// -D. The config struct carries the sizes as static constants the way hls4ml's nnet_utils
// configs do, and derives the widths so that no accumulator can overflow.
#ifndef CONV_CONFIG_H
#define CONV_CONFIG_H

// The int8 weight beat at 16x16 lanes is 2048 bits, above ap_int's default 1024-bit limit.
// It must be set before the first ap_int.h include (4096 is the Vitis HLS maximum).
#ifndef AP_INT_MAX_W
#define AP_INT_MAX_W 4096
#endif
#if AP_INT_MAX_W > 4096
#error "AP_INT_MAX_W above 4096: Vitis HLS caps ap_int/ap_uint at 4096 bits"
#endif
#include "ap_int.h"
#include "conv_contract.h"  // the hardware contract (generated from spec/conv_engine.hjson)

#ifndef CONV_FORMAT
#define CONV_FORMAT 0  // 0 dense, 1 KRP (one kept row per kernel), 2 IKR (pattern library)
#endif
#ifndef CONV_PAR_IN
#define CONV_PAR_IN 16
#endif
#ifndef CONV_PAR_OUT
#define CONV_PAR_OUT 16
#endif
#ifndef CONV_A_BITS
#define CONV_A_BITS 8
#endif
#ifndef CONV_EXP1_BITS
#define CONV_EXP1_BITS 3
#endif
#ifndef CONV_EXP2_BITS
#define CONV_EXP2_BITS 0
#endif
#ifndef CONV_LEVEL_EXP_MAX
#define CONV_LEVEL_EXP_MAX 8
#endif
#ifndef CONV_IKR_K
#define CONV_IKR_K 4
#endif
#ifndef CONV_IKR_P
#define CONV_IKR_P 8
#endif
#ifndef CONV_H_MAX
#define CONV_H_MAX 28
#endif
#ifndef CONV_W_MAX
#define CONV_W_MAX 28
#endif
#ifndef CONV_CIN_MAX
#define CONV_CIN_MAX 256
#endif
#ifndef CONV_COUT_MAX
#define CONV_COUT_MAX 512
#endif

namespace conv {

// constexpr helpers in C++11 form (Vivado HLS front ends are not all C++14).
constexpr unsigned long long cdiv(unsigned long long a, unsigned long long b) { return (a + b - 1) / b; }
constexpr int bit_length(unsigned long long v) { return v == 0 ? 0 : 1 + bit_length(v >> 1); }
constexpr int clog2(unsigned long long v) { return v <= 1 ? 0 : 1 + clog2((v + 1) >> 1); }
constexpr int cmax(int a, int b) { return a > b ? a : b; }

// Vitis HLS caps ap_int/ap_uint at 4096 bits (AP_INT_MAX_W); an AXI4-Stream beat of ap_axiu<W>
// is one W + W/8 (TKEEP) + W/8 (TSTRB) + 1 (TLAST) bit word on the interface, so W <= 3272.
static const int ap_int_max_w = 4096;
constexpr bool axis_fits(int data_w) { return data_w + 2 * ((data_w + 7) / 8) + 1 <= ap_int_max_w; }

// Signed width that holds any sum of `terms` products a*w, a < 2^a_bits, |w| <= max_w
// (pymodel.codes.acc_bits).
constexpr int sum_bits(unsigned long long terms, int a_bits, unsigned long long max_w) {
    return bit_length(terms * ((1ULL << a_bits) - 1) * max_w) + 1;
}

// Sizes of one kernel instance. Weight-code widths and the product bound come from the
// product policy; the tap count from the weight format.
template <int PAR_IN_, int PAR_OUT_, int A_BITS_, int W_BITS_, int H_MAX_, int W_MAX_, int CIN_MAX_,
          int COUT_MAX_>
struct cfg_base {
    static const int par_in = PAR_IN_;     // input channels per activation beat (unroll)
    static const int par_out = PAR_OUT_;   // output channels computed together (unroll)
    static const int a_bits = A_BITS_;     // activation and requantized output width
    static const int w_bits = W_BITS_;     // weight code width
    static const int h_max = H_MAX_;
    static const int w_max = W_MAX_;
    static const int cin_max = CIN_MAX_;
    static const int cout_max = COUT_MAX_;
    // derived
    static const int cg_max = (CIN_MAX_ + PAR_IN_ - 1) / PAR_IN_;    // activation beats per pixel
    static const int ot_max = (COUT_MAX_ + PAR_OUT_ - 1) / PAR_OUT_; // output tiles per layer
    static const int act_w = PAR_IN_ * A_BITS_;                      // s_axis_act data width
    static const int wgt_w = PAR_IN_ * PAR_OUT_ * W_BITS_;           // s_axis_wgt data width
    static const int out_lane = contract::OUT_LANE_BITS;
    static const int out_w = PAR_OUT_ * out_lane;                    // m_axis_out data width

    static_assert(PAR_IN_ >= 1 && PAR_OUT_ >= 1, "PAR_IN and PAR_OUT must be >= 1");
    static_assert(A_BITS_ >= contract::A_BITS_MIN && A_BITS_ <= contract::A_BITS_MAX, "A_BITS must be 4..8 (contract)");
    static_assert(W_BITS_ >= contract::W_BITS_MIN && W_BITS_ <= contract::W_BITS_MAX, "W_BITS must be 1..8 (contract)");
    static_assert(H_MAX_ >= contract::DIM_MIN && H_MAX_ <= contract::DIM_MAX && W_MAX_ >= contract::DIM_MIN &&
                      W_MAX_ <= contract::DIM_MAX,
                  "H_MAX/W_MAX: 1..65535");
    static_assert(CIN_MAX_ >= contract::DIM_MIN && CIN_MAX_ <= contract::DIM_MAX && COUT_MAX_ >= contract::DIM_MIN &&
                      COUT_MAX_ <= contract::DIM_MAX,
                  "CIN_MAX/COUT_MAX: 1..65535");
};

}  // namespace conv

#endif
