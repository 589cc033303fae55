// Weight formats of the conv3x3 engine: which window positions a lane multiplies at each tap.
//
// The engine walks `taps` steps per (pixel, channel group). At step t it offers `nsel`
// candidate window positions cand(t, c), c = 0..nsel-1 (the 3x3 window is numbered ky*3+kx),
// builds the product bank of each candidate once, and every lane (o, i) picks candidate
// select(idx, t, table) with its own per-kernel index idx:
//   dense  9 steps, 1 candidate   every lane takes tap t            (no index)
//   KRP    3 steps, 3 candidates  column t of the lane's kept row   (2-bit row index)
//   IKR    K steps, 9 candidates  the t-th kept position of the     (pattern id into a
//                                 lane's pattern                     library of P patterns)
// So KRP does a third and IKR K/9 of the dense work, and the stream carries only kept codes.
#ifndef CONV_FORMAT_H
#define CONV_FORMAT_H

#include "conv_config.h"  // first: it sets AP_INT_MAX_W before ap_int.h

namespace conv {

// Formats without a pattern library still have a (1x1) `pos`, so the engine's partition pragma
// on table.pos names a real array for every format.
struct no_table {
    ap_uint<4> pos[1][1];
};

struct format_dense {
    static const int id = contract::FORMAT_DENSE;
    static const int taps = contract::FORMAT_DENSE_TAPS;
    static const int nsel = 1;
    static const bool has_idx = false;
    static const int idx_bits = 1;  // unused; keeps ap_uint<idx_bits> legal
    static const int param_bits = 0;
    typedef no_table table_t;
    static int cand(int t, int) { return t; }
    static int select(ap_uint<idx_bits>, int, const table_t &) { return 0; }
    static bool idx_ok(ap_uint<idx_bits>) { return true; }
    template <class W>
    static bool load_table(const W &, int, table_t &) { return true; }
};

struct format_krp {
    static const int id = contract::FORMAT_KRP;
    static const int taps = contract::FORMAT_KRP_TAPS;
    static const int nsel = contract::KERNEL_ROWS;
    static const bool has_idx = true;
    static const int idx_bits = contract::FORMAT_KRP_INDEX_BITS;
    static const int param_bits = 0;
    typedef no_table table_t;
    static int cand(int t, int c) { return c * 3 + t; }  // row c, column t
    static int select(ap_uint<idx_bits> row, int, const table_t &) { return row == 3 ? 0 : int(row); }
    static bool idx_ok(ap_uint<idx_bits> row) { return row != 3; }
    template <class W>
    static bool load_table(const W &, int, table_t &) { return true; }
};

template <int K, int P>
struct format_ikr {
    static_assert(K >= contract::IKR_K_MIN && K <= contract::IKR_K_MAX, "IKR_K (kept weights per kernel) must be 1..9");
    static_assert(P >= contract::IKR_P_MIN && P <= contract::IKR_P_MAX, "IKR_P (patterns in the library) must be 1..256");
    static const int id = contract::FORMAT_IKR;
    static const int taps = K;
    static const int nsel = contract::TAPS;
    static const bool has_idx = true;
    static const int idx_bits = clog2(P) > 0 ? clog2(P) : 1;
    static const int param_bits = P * contract::PB_PATTERN_BITS;  // the library, one 9-bit mask per pattern
    // pos[p][j]: window position of the j-th kept weight of pattern p (ascending ky*3+kx)
    struct table_t {
        ap_uint<4> pos[P][K];
    };
    static int cand(int, int c) { return c; }
    static int select(ap_uint<idx_bits> pid, int t, const table_t &tab) {
        return pid < P ? int(tab.pos[int(pid)][t]) : 0;
    }
    static bool idx_ok(ap_uint<idx_bits> pid) { return pid < P; }
    // Unpack the 9-bit masks at bit `offset` of the parameter block; false if a mask keeps
    // neither K positions nor none (an unused slot); missing positions read window position 0.
    template <class W>
    static bool load_table(const W &params, int offset, table_t &tab) {
        bool ok = true;
    PATTERNS:
        for (int p = 0; p < P; ++p) {
            const int MB = contract::PB_PATTERN_BITS;
            ap_uint<MB> mask = params(offset + p * MB + MB - 1, offset + p * MB);
            int n = 0;
            for (int q = 0; q < contract::TAPS; ++q) {
                if (mask[q]) {
                    if (n < K) tab.pos[p][n] = q;
                    ++n;
                }
            }
            for (int j = 0; j < K; ++j) {
                if (j >= n) tab.pos[p][j] = 0;
            }
            ok &= n == K || n == 0;  // an all-zero mask is an unused library slot
        }
        return ok;
    }
};

}  // namespace conv

// The format a top is built with (CONV_FORMAT, conv_config.h).
#if CONV_FORMAT == 0
namespace conv { typedef format_dense selected_format; }
#elif CONV_FORMAT == 1
namespace conv { typedef format_krp selected_format; }
#elif CONV_FORMAT == 2
namespace conv { typedef format_ikr<CONV_IKR_K, CONV_IKR_P> selected_format; }
#else
#error "CONV_FORMAT must be 0 (dense), 1 (KRP) or 2 (IKR)"
#endif

#endif
