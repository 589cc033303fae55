// The one kernel body of the conv3x3 HLS cores: 3x3, stride 1, zero padding 1, any Cin/Cout up
// to the configured maxima, PAR_IN x PAR_OUT products per cycle.
//
// Streams, parameter block and status bits are specified in docs/hls.md; the integer
// semantics (accumulator, requantization) in docs/engine.md. Per output tile of PAR_OUT
// channels the kernel
//   1. reads the tile's parameter block and weights into on-chip buffers,
//   2. preloads activation rows 0 and 1 into a 4-row line buffer,
//   3. walks the output map (y, x, cg, t) in one II=1 pipeline, streaming row y+2 in while
//      row y is computed, and writes one output beat per pixel.
// The 3x3 window of a (pixel, channel group) is assembled from a per-group register cache of
// the two previous columns plus one new column: each line-buffer bank is read once per step, at
// one address, and a register mux picks the rows (docs/hls.md, "II = 1, and why").
#ifndef CONV3X3_H
#define CONV3X3_H

#include "conv_config.h"  // first: it sets AP_INT_MAX_W before ap_int.h
#include "hls_stream.h"
#include "conv_axis.h"
#include "conv_format.h"
#include "conv_product.h"
#ifndef __SYNTHESIS__
#include <cstdio>
#include <cstdlib>
#endif

namespace conv {

// status bits (the contract, conv_contract.h; docs/hls.md)
static const int status_config = contract::HLS_STATUS_CONFIG_LSB;    // a dimension 0 or too large, or mode 0 with ACC_BITS > 32
static const int status_framing = contract::HLS_STATUS_FRAMING_LSB;  // `last` misplaced on s_axis_act / s_axis_wgt
static const int status_levels = contract::HLS_STATUS_LEVELS_LSB;    // a level exponent above LEVEL_EXP_MAX (product LUT)
static const int status_index = contract::HLS_STATUS_INDEX_LSB;      // KRP row 3, IKR id >= P, or an IKR mask without K positions

// Output stage (docs/engine.md): s = acc + bias; r = max(s, 0); round half up by `shift`;
// saturate to A_BITS. Exact for every 8-bit shift.
template <int ACC_BITS, int A_BITS>
ap_uint<A_BITS> requantize(ap_int<ACC_BITS> acc, ap_int<32> bias, ap_uint<8> shift) {
#pragma HLS INLINE
    const int S = cmax(ACC_BITS, 32) + 1;  // acc + bias cannot overflow
    ap_int<S> s = ap_int<S>(acc) + ap_int<S>(bias);
    if (s <= 0) return 0;
    ap_uint<S + 1> r = s;  // r < 2^(S-1)
    if (shift >= S) {
        r = 0;  // r + 2^(shift-1) < 2^shift
    } else if (shift > 0) {
        r = (r + (ap_uint<S + 1>(1) << (shift - 1))) >> shift;
    }
    const ap_uint<S + 1> top = (1 << A_BITS) - 1;
    return r > top ? ap_uint<A_BITS>(top) : ap_uint<A_BITS>(r);
}

#ifndef __SYNTHESIS__
// C-simulation only: proves the line buffer's DEPENDENCE pragma true. Records the step at which
// each (bank, x, cg) word was last written and aborts if a used read comes sooner than
// `distance` steps after it (the pragma would then hide a real dependence).
template <int W_MAX, int CG_MAX>
struct lb_distance_check {
    long long written[4][W_MAX][CG_MAX];
    void reset() {
        for (int s = 0; s < 4; ++s)
            for (int x = 0; x < W_MAX; ++x)
                for (int c = 0; c < CG_MAX; ++c) written[s][x][c] = -(1LL << 40);  // preloaded rows
    }
    void write(int s, int x, int cg, long long n) { written[s][x][cg] = n; }
    void read(int s, int x, int cg, long long n, int distance) const {
        if (n - written[s][x][cg] < distance) {
            std::fprintf(stderr, "conv3x3: line buffer bank %d (x=%d, cg=%d) read %lld step(s) after its write, "
                         "below the DEPENDENCE distance %d\n", s, x, cg, n - written[s][x][cg], distance);
            std::abort();
        }
    }
};
#endif

template <class CFG, class PRODUCT, class FORMAT>
struct engine {
    typedef CFG cfg;
    typedef PRODUCT product;
    typedef FORMAT format;
    static const int PI = CFG::par_in;
    static const int PO = CFG::par_out;
    static const int TAPS = FORMAT::taps;
    static const int NSEL = FORMAT::nsel;
    static const int BPC = TAPS + (FORMAT::has_idx ? 1 : 0);  // weight beats per channel group
    // accumulator: the worst case of any code set, 9 taps (the bound the golden vectors use)
    static const int ACC_BITS = sum_bits((unsigned long long)contract::TAPS * CFG::cin_max, CFG::a_bits, PRODUCT::max_w);
    static const int SUM_BITS = sum_bits(PI, CFG::a_bits, PRODUCT::max_w);  // one step's PAR_IN products
    // parameter block (the contract): PO x {bias, shift}, the level descriptors, the format's table
    static const int LEVELS_OFF = PO * contract::PB_CHANNEL_BITS;
    static const int TABLE_OFF = LEVELS_OFF + contract::PB_FIXED_BITS;
    static const int PARAM_BITS = TABLE_OFF + FORMAT::param_bits;
    static const int NPB = (PARAM_BITS + CFG::wgt_w - 1) / CFG::wgt_w;  // parameter beats per tile
    static_assert(FORMAT::idx_bits <= CFG::w_bits || !FORMAT::has_idx,
                  "an index beat must fit: index bits <= W_BITS");
    // The beat of row y+2 written at step (x, cg) is read first at step (x-1, cg) of the next
    // row: at least TAPS steps later (W = 1, one channel group), more otherwise (docs/hls.md).
    static const int LB_RAW_DISTANCE = TAPS;
    // Width ceilings (docs/hls.md): every ap_uint the kernel builds, and every AXI4-Stream beat
    // (data + TKEEP + TSTRB + TLAST), must fit Vitis HLS's ap_int limit.
    static_assert(NPB * CFG::wgt_w <= ap_int_max_w, "the parameter block (NPB weight beats) exceeds 4096 bits");
    static_assert(axis_fits(CFG::act_w), "s_axis_act beat (PAR_IN*A_BITS data + keep/strb/last) exceeds 4096 bits");
    static_assert(axis_fits(CFG::wgt_w),
                  "s_axis_wgt beat (PAR_IN*PAR_OUT*W_BITS data + keep/strb/last) exceeds 4096 bits: "
                  "at most 3275 data bits, 3272 in whole bytes (e.g. 16x24 int8 lanes = 3072 fit, 16x26 do not)");
    static_assert(axis_fits(CFG::out_w), "m_axis_out beat (PAR_OUT*32 data + keep/strb/last) exceeds 4096 bits");

    typedef typename PRODUCT::act_t act_t;
    typedef typename PRODUCT::code_t code_t;
    typedef typename PRODUCT::prod_t prod_t;
    typedef typename PRODUCT::bank_t bank_t;
    typedef ap_uint<FORMAT::idx_bits> idx_t;
    static const int IDX_W = FORMAT::idx_bits;
    typedef ap_int<ACC_BITS> acc_t;
    typedef typename axis_t<CFG::act_w>::type act_beat_t;
    typedef typename axis_t<CFG::wgt_w>::type wgt_beat_t;
    typedef typename axis_t<CFG::out_w>::type out_beat_t;
};

template <class CFG, class PRODUCT, class FORMAT>
void conv3x3(hls::stream<typename engine<CFG, PRODUCT, FORMAT>::act_beat_t> &s_axis_act,
             hls::stream<typename engine<CFG, PRODUCT, FORMAT>::wgt_beat_t> &s_axis_wgt,
             hls::stream<typename engine<CFG, PRODUCT, FORMAT>::out_beat_t> &m_axis_out, ap_uint<16> h,
             ap_uint<16> w, ap_uint<16> cin, ap_uint<16> cout, ap_uint<1> mode, ap_uint<8> &status) {
    typedef engine<CFG, PRODUCT, FORMAT> E;
    typedef typename E::act_t act_t;
    typedef typename E::code_t code_t;
    typedef typename E::bank_t bank_t;
    typedef typename E::idx_t idx_t;
    typedef typename E::acc_t acc_t;
    typedef typename E::act_beat_t act_beat_t;
    typedef typename E::wgt_beat_t wgt_beat_t;
    const int PI = E::PI, PO = E::PO, TAPS = E::TAPS, NSEL = E::NSEL, BPC = E::BPC;
    const int A = CFG::a_bits, WB = CFG::w_bits;

    ap_uint<8> st = 0;
    if (h == 0 || h > CFG::h_max || w == 0 || w > CFG::w_max || cin == 0 || cin > CFG::cin_max ||
        cout == 0 || cout > CFG::cout_max || (mode == 0 && E::ACC_BITS > contract::OUT_LANE_BITS)) {
        st[status_config] = 1;
        status = st;
        return;
    }
    const int H = h, W = w, CIN = cin;
    const int cg_n = (int(cin) + PI - 1) / PI;
    const int ot_n = (int(cout) + PO - 1) / PO;

    // Weights of one output tile: entry cg*TAPS + t holds the PAR_OUT x PAR_IN codes of step t,
    // ibuf[cg] the per-lane row index / pattern id of the group. Reshaped over the lanes, each
    // entry is one wide word: one read per step. (Per-lane arrays rather than ap_uint words
    // sliced per lane: the same hardware, and a C-simulation 10x faster than ap_uint slicing.)
    static code_t wbuf[CFG::cg_max * TAPS][PO][PI];
#pragma HLS ARRAY_RESHAPE variable = wbuf complete dim = 2
#pragma HLS ARRAY_RESHAPE variable = wbuf complete dim = 3
    static idx_t ibuf[FORMAT::has_idx ? CFG::cg_max : 1][PO][PI];
#pragma HLS ARRAY_RESHAPE variable = ibuf complete dim = 2
#pragma HLS ARRAY_RESHAPE variable = ibuf complete dim = 3
    // Line buffer: 4 banks (rows y-1, y, y+1 read while y+2 is written), one memory each, the
    // PAR_IN lanes of a beat reshaped into one word.
    static act_t lb[4][CFG::w_max][CFG::cg_max][PI];
#pragma HLS ARRAY_PARTITION variable = lb complete dim = 1
#pragma HLS ARRAY_RESHAPE variable = lb complete dim = 4
    // Window cache: columns x-1 and x (3 rows each) of every channel group, in registers: with
    // one group (cg_n == 1) a step reads what the step before wrote, a dependence a memory with
    // a read latency could not meet at II=1. A cg_max:1 register mux selects the group.
    static act_t wcache[CFG::cg_max][2][3][PI];
#pragma HLS ARRAY_PARTITION variable = wcache complete dim = 0
#ifndef __SYNTHESIS__
    static lb_distance_check<CFG::w_max, CFG::cg_max> lb_check;
#endif

    ap_int<contract::PB_BIAS_BITS> bias[PO];
    ap_uint<8> shift[PO];
#pragma HLS ARRAY_PARTITION variable = bias complete
#pragma HLS ARRAY_PARTITION variable = shift complete
    level_table levels;
#pragma HLS ARRAY_PARTITION variable = levels.neg complete
#pragma HLS ARRAY_PARTITION variable = levels.mant complete
#pragma HLS ARRAY_PARTITION variable = levels.exp complete
    typename FORMAT::table_t table;
#pragma HLS ARRAY_PARTITION variable = table.pos complete dim = 0

TILES:
    for (int ot = 0; ot < ot_n; ++ot) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::ot_max
        // 1a. parameter block: bias, shift, level descriptors, IKR pattern library
        ap_uint<E::NPB * CFG::wgt_w> pblk = 0;
    PARAMS:
        for (int b = 0; b < E::NPB; ++b) {
            wgt_beat_t beat = s_axis_wgt.read();
            pblk(b * CFG::wgt_w + CFG::wgt_w - 1, b * CFG::wgt_w) = beat.data;
            if (beat.last) st[status_framing] = 1;  // weight beats always follow
        }
        const int BB = contract::PB_BIAS_BITS, SB = contract::PB_SHIFT_BITS;
        for (int o = 0; o < PO; ++o) {
#pragma HLS UNROLL
            bias[o] = pblk(o * BB + BB - 1, o * BB);
            shift[o] = pblk(PO * BB + o * SB + SB - 1, PO * BB + o * SB);
        }
        for (int j = 0; j < n_levels; ++j) {
#pragma HLS UNROLL
            const int LB = contract::PB_LEVEL_BITS;
            levels.set(j, pblk(E::LEVELS_OFF + j * LB + LB - 1, E::LEVELS_OFF + j * LB));
        }
        if (!PRODUCT::levels_ok(levels)) st[status_levels] = 1;
        if (!FORMAT::load_table(pblk, E::TABLE_OFF, table)) st[status_index] = 1;

        // 1b. per channel group: [index beat], TAPS code beats
    WEIGHTS:
        for (int k = 0, cg = 0, j = 0; k < cg_n * BPC; ++k) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::cg_max * E::BPC
            wgt_beat_t beat = s_axis_wgt.read();
            if (bool(beat.last) != (k == cg_n * BPC - 1)) st[status_framing] = 1;
            if (FORMAT::has_idx && j == 0) {
                for (int o = 0; o < PO; ++o) {
                    for (int i = 0; i < PI; ++i) {
                        const int l = o * PI + i;
                        const idx_t idx = beat.data(l * E::IDX_W + E::IDX_W - 1, l * E::IDX_W);
                        if (!FORMAT::idx_ok(idx)) st[status_index] = 1;
                        ibuf[cg][o][i] = idx;
                    }
                }
            } else {
                const int t = FORMAT::has_idx ? j - 1 : j;
                for (int o = 0; o < PO; ++o) {
                    for (int i = 0; i < PI; ++i) {
                        const int l = o * PI + i;
                        wbuf[cg * TAPS + t][o][i] = beat.data(l * WB + WB - 1, l * WB);
                    }
                }
            }
            if (++j == BPC) {
                j = 0;
                ++cg;
            }
        }

        // 2. rows 0 and 1 of the map into the line buffer
#ifndef __SYNTHESIS__
        lb_check.reset();
#endif
        const int pre_rows = H < 2 ? H : 2;
    PRELOAD:
        for (int n = 0, y = 0, x = 0, cg = 0; n < pre_rows * W * cg_n; ++n) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 2 * CFG::w_max * CFG::cg_max
            act_beat_t beat = s_axis_act.read();
            const bool end = y == H - 1 && x == W - 1 && cg == cg_n - 1;
            if (bool(beat.last) != end) st[status_framing] = 1;
            for (int i = 0; i < PI; ++i) lb[y][x][cg][i] = beat.data(i * A + A - 1, i * A);
            if (++cg == cg_n) {
                cg = 0;
                if (++x == W) {
                    x = 0;
                    ++y;
                }
            }
        }

        // 3. the output map. x == -1 is a one-cycle-per-group step that fetches column 0
        // into the window cache; every other (x, cg) takes TAPS cycles. Each step reads every
        // memory at most once: the four line-buffer banks once each at (x+1, cg), wbuf and ibuf
        // once; the window cache and the window are registers (docs/hls.md, "II = 1").
        act_t win[contract::TAPS][PI];  // the current window, position ky*3+kx
#pragma HLS ARRAY_PARTITION variable = win complete dim = 0
        acc_t acc[PO];
#pragma HLS ARRAY_PARTITION variable = acc complete
    PIXELS:
        for (int n = 0, y = 0, x = -1, cg = 0, t = 0; n < H * cg_n * (1 + W * TAPS); ++n) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::h_max * CFG::cg_max * (1 + CFG::w_max * E::TAPS)
#pragma HLS DEPENDENCE variable = lb inter RAW distance = E::LB_RAW_DISTANCE true
            // (lb: the beat of row y+2 written at step (x, cg) is first read one row later, at
            // step (x-1, cg), at least LB_RAW_DISTANCE steps on; the C-simulation checks it.)
            // Every loop below is fully unrolled by the PIPELINE: PAR_OUT x PAR_IN lanes per cycle.
            if (t == 0) {
                const int xn = x + 1;  // the new window column
                // one read of each line-buffer bank at the same address, then a register mux
                // picks rows y-1..y+1 (zero outside the map)
                act_t bank_row[4][PI];
#pragma HLS ARRAY_PARTITION variable = bank_row complete dim = 0
                const int xr = xn < W ? xn : W - 1;
                for (int s = 0; s < 4; ++s) {
                    for (int i = 0; i < PI; ++i) bank_row[s][i] = lb[s][xr][cg][i];  // one word per bank
                }
#ifndef __SYNTHESIS__
                for (int ky = 0; ky < 3; ++ky) {
                    const int yy = y + ky - 1;
                    if (yy >= 0 && yy < H && xn < W) lb_check.read(yy & 3, xn, cg, n, E::LB_RAW_DISTANCE);
                }
#endif
                act_t col[3][PI];
#pragma HLS ARRAY_PARTITION variable = col complete dim = 0
                for (int ky = 0; ky < 3; ++ky) {
                    const int yy = y + ky - 1;
                    const bool inside = yy >= 0 && yy < H && xn < W;
                    const int s = (y + ky - 1) & 3;
                    for (int i = 0; i < PI; ++i) col[ky][i] = inside ? bank_row[s][i] : act_t(0);
                }
                // the window: columns x-1 and x from the group's cache, x+1 new
                for (int ky = 0; ky < 3; ++ky) {
                    for (int i = 0; i < PI; ++i) {
                        const act_t left = x < 0 ? act_t(0) : wcache[cg][0][ky][i];
                        const act_t mid = x < 0 ? act_t(0) : wcache[cg][1][ky][i];
                        win[ky * 3 + 0][i] = left;
                        win[ky * 3 + 1][i] = mid;
                        win[ky * 3 + 2][i] = col[ky][i];
                        wcache[cg][0][ky][i] = mid;
                        wcache[cg][1][ky][i] = col[ky][i];
                    }
                }
                // stream row y+2 in, one beat per (x, cg), into the bank row y-2 has left
                if (x >= 0 && y + 2 < H) {
                    act_beat_t beat = s_axis_act.read();
                    const bool end = y + 2 == H - 1 && x == W - 1 && cg == cg_n - 1;
                    if (bool(beat.last) != end) st[status_framing] = 1;
                    const int slot = (y + 2) & 3;
                    for (int s = 0; s < 4; ++s) {
                        if (s == slot) {
                            for (int i = 0; i < PI; ++i) lb[s][x][cg][i] = beat.data(i * A + A - 1, i * A);
                        }
                    }
#ifndef __SYNTHESIS__
                    lb_check.write(slot, x, cg, n);
#endif
                }
            }
            if (x >= 0) {
                // the step's candidate window positions, shared by all PAR_OUT lanes
                act_t cand[NSEL][PI];
#pragma HLS ARRAY_PARTITION variable = cand complete dim = 0
                for (int c = 0; c < NSEL; ++c) {
                    for (int i = 0; i < PI; ++i) cand[c][i] = win[FORMAT::cand(t, c)][i];
                }
                // dense (one candidate): the product bank of each input lane, shared by all
                // output lanes; KRP/IKR select the activation per lane first, then the product
                bank_t bank[PI];
#pragma HLS ARRAY_PARTITION variable = bank complete
                if (NSEL == 1) {
                    for (int i = 0; i < PI; ++i) bank[i] = PRODUCT::bank(cand[0][i], levels);
                }
                const int k = cg * TAPS + t;  // one weight word and one index word per step
                const int g = FORMAT::has_idx ? cg : 0;
            LANES:
                for (int o = 0; o < PO; ++o) {
#pragma HLS UNROLL
                    ap_int<E::SUM_BITS> sum = 0;  // an adder tree of PAR_IN products
                    for (int i = 0; i < PI; ++i) {
#pragma HLS UNROLL
                        const code_t code = wbuf[k][o][i];
                        typename E::prod_t p;
                        if (NSEL == 1) {
                            p = PRODUCT::product(bank[i], code);
                        } else {
                            const int c = FORMAT::select(ibuf[g][o][i], t, table);
                            p = PRODUCT::direct(cand[c][i], code, levels);
                        }
                        if (cg * PI + i < CIN) sum += p;  // padding lanes of the last group
                    }
                    acc[o] = (cg == 0 && t == 0 ? acc_t(0) : acc[o]) + sum;
                }
                if (t == TAPS - 1 && cg == cg_n - 1) {
                    ap_uint<CFG::out_w> data = 0;
                    for (int o = 0; o < PO; ++o) {
                        ap_uint<CFG::out_lane> lane = 0;
                        if (ot * PO + o < int(cout)) {
                            if (mode) lane = requantize<E::ACC_BITS, CFG::a_bits>(acc[o], bias[o], shift[o]);
                            else lane = ap_int<CFG::out_lane>(acc[o]);  // ACC_BITS <= 32 (checked above)
                        }
                        data(o * CFG::out_lane + CFG::out_lane - 1, o * CFG::out_lane) = lane;
                    }
                    m_axis_out.write(axis_beat<CFG::out_w>(data, y == H - 1 && x == W - 1));
                }
            }
            // advance (y, x, cg, t)
            if (x < 0) {
                if (++cg == cg_n) {
                    cg = 0;
                    x = 0;
                }
            } else if (++t == TAPS) {
                t = 0;
                if (++cg == cg_n) {
                    cg = 0;
                    if (++x == W) {
                        x = -1;
                        ++y;
                    }
                }
            }
        }
    }
    status = st;
}

}  // namespace conv

#endif
