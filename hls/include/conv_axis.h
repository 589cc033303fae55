// AXI4-Stream beat of the conv3x3 kernels: data + last (keep/strb all ones, no user/id/dest).
//
// Under Vitis HLS the beat is ap_axiu<W,0,0,0> from ap_axi_sdata.h (in every Vivado/Vitis HLS release), so `#pragma HLS INTERFACE axis`
// maps `last` to TLAST. The g++ C-simulation here has no Xilinx install (the ap_int headers
// come from hls4ml, which does not ship ap_axi_sdata.h), so a struct with the same fields
// stands in. Kernels touch only .data and .last, and fill keep/strb through axis_beat().
#ifndef CONV_AXIS_H
#define CONV_AXIS_H

#include "conv_config.h"  // first: it sets AP_INT_MAX_W before ap_int.h

#if defined(__SYNTHESIS__) || defined(__has_include)
#if defined(__SYNTHESIS__) || __has_include(<ap_axi_sdata.h>)
#define CONV_HAVE_AP_AXI 1
#endif
#endif

#ifdef CONV_HAVE_AP_AXI
#include "ap_axi_sdata.h"
namespace conv {
template <int W>
struct axis_t {
    typedef ap_axiu<W, 0, 0, 0> type;  // data, keep, strb, last (no user/id/dest)
};
}  // namespace conv
#else
namespace conv {
template <int W>
struct axis_word {
    ap_uint<W> data;
    ap_uint<(W + 7) / 8> keep;
    ap_uint<(W + 7) / 8> strb;
    ap_uint<1> last;
};
template <int W>
struct axis_t {
    typedef axis_word<W> type;
};
}  // namespace conv
#endif

namespace conv {
// A full beat (all bytes valid) carrying `data`.
template <int W>
inline typename axis_t<W>::type axis_beat(const ap_uint<W> &data, bool last) {
    typename axis_t<W>::type b;
    b.data = data;
    b.keep = -1;
    b.strb = -1;
    b.last = last;
    return b;
}
}  // namespace conv

#endif
