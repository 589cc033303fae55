// Product policies of the conv3x3 engine: how a lane turns (activation, weight code) into a
// product. One engine, swappable arithmetic (cf. hls4ml's weight_exponential policy).
//
// A policy provides
//   max_w                      largest |w| a code decodes to (sizes products and accumulators)
//   act_t, code_t, prod_t      activation, weight code and product types
//   bank_t                     what is computed once per activation and shared by every
//                              output lane (the product bank of the LUT policy; the
//                              activation itself for the others)
//   bank(a, levels)            build the bank of activation a
//   product(bank, code)        one lane's product from a shared bank (dense: one candidate)
//   direct(a, code, levels)    one lane's product from the lane's own activation, no bank:
//                              KRP/IKR select the activation per lane first (as the
//                              pruning-aware RTL does), so a bank per candidate position would
//                              be built for nothing; equal to product(bank(a, levels), code)
//   levels_ok(levels)          whether run-time level descriptors fit the hardware bound
// Codes and level descriptors are laid out as in docs/engine.md.
#ifndef CONV_PRODUCT_H
#define CONV_PRODUCT_H

#include "conv_config.h"  // first: it sets AP_INT_MAX_W before ap_int.h

namespace conv {

static const int n_levels = contract::PB_LEVELS;  // level descriptors in the parameter block

// The 16 level descriptors {neg, mant[2:0], exp[3:0]} of the product-LUT scheme; sent in every
// tile's parameter block, ignored by the other policies.
// Decoded once per tile, so a bank only muxes and shifts.
struct level_table {
    bool neg[n_levels];
    ap_uint<3> mant[n_levels];
    ap_uint<4> exp[n_levels];
    void set(int j, ap_uint<8> desc) {
        neg[j] = desc[7];
        mant[j] = desc(6, 4);
        exp[j] = desc(3, 0);
    }
};

// Multiplier baseline: two's-complement W_BITS codes, one a*w multiply per lane (a DSP).
template <class CFG>
struct product_mult {
    static const unsigned long long max_w = 1ULL << (CFG::w_bits - 1);
    static const int prod_bits = sum_bits(1, CFG::a_bits, max_w);
    typedef ap_uint<CFG::a_bits> act_t;
    typedef ap_uint<CFG::w_bits> code_t;
    typedef ap_int<prod_bits> prod_t;
    typedef act_t bank_t;
    static_assert(CFG::w_bits >= 2, "int codes need at least 2 bits");

    static bank_t bank(act_t a, const level_table &) { return a; }
    static prod_t product(bank_t a, code_t code) {
        ap_int<CFG::w_bits> w = code;  // reinterpret the code as two's complement
        return prod_t(a) * w;
    }
    static prod_t direct(act_t a, code_t code, const level_table &) { return product(a, code); }
    static bool levels_ok(const level_table &) { return true; }
};

// Shift-add: one (EXP2_BITS == 0, pot) or two (apot) power-of-two terms {s, m}, each
// 0 if m == 0 else (-1)^s * (a << (m-1)). No multiplier: a barrel shift and an add per lane.
template <class CFG, int EXP1_BITS, int EXP2_BITS>
struct product_shift {
    static const unsigned long long max_term1 = 1ULL << ((1 << EXP1_BITS) - 2);
    static const unsigned long long max_term2 = EXP2_BITS ? 1ULL << ((1 << EXP2_BITS) - 2) : 0;
    static const unsigned long long max_w = max_term1 + max_term2;
    static const int prod_bits = sum_bits(1, CFG::a_bits, max_w);
    typedef ap_uint<CFG::a_bits> act_t;
    typedef ap_uint<CFG::w_bits> code_t;
    typedef ap_int<prod_bits> prod_t;
    typedef act_t bank_t;
    static_assert(EXP1_BITS >= 1 && EXP1_BITS <= 4 && EXP2_BITS >= 0 && EXP2_BITS <= 4,
                  "shift codes: EXP1_BITS 1..4, EXP2_BITS 0..4");
    static_assert(CFG::w_bits == (EXP2_BITS ? 2 + EXP1_BITS + EXP2_BITS : 1 + EXP1_BITS),
                  "shift codes: W_BITS must be 1+EXP1_BITS (pot) or 2+EXP1_BITS+EXP2_BITS (apot)");

    // One term, in plain int: |term| < 2^(A_BITS + 2^EXP_BITS - 2) <= 2^22, a width HLS's range
    // analysis narrows to, and it keeps ap_int's generic shift out of the C-simulation's inner loop.
    static int term(unsigned a, unsigned s, unsigned m) {
#pragma HLS INLINE
        const int mag = m == 0 ? 0 : int(a << (m - 1));
        return s ? -mag : mag;
    }
    static bank_t bank(act_t a, const level_table &) { return a; }
    static prod_t product(bank_t a, code_t code) {
        const int lo_w = EXP2_BITS ? EXP2_BITS + 1 : 0;  // {s2, m2} field width
        const unsigned c = code.to_uint(), v = a.to_uint();
        const unsigned hi = c >> lo_w;                    // {s1, m1}
        int p = term(v, (hi >> EXP1_BITS) & 1, hi & ((1u << EXP1_BITS) - 1));
        if (EXP2_BITS) {
            const int e2 = EXP2_BITS ? EXP2_BITS : 1;     // keeps the shifts legal when unused
            p += term(v, (c >> e2) & 1, c & ((1u << e2) - 1));
        }
        return prod_t(p);
    }
    static prod_t direct(act_t a, code_t code, const level_table &) { return product(a, code); }
    static bool levels_ok(const level_table &) { return true; }
};

// Product look-up (IOS-PoT): the few odd multiples of an activation {a, 3a, 5a, 7a} are formed
// once, every level's product (mant*a) << exp is taken from them, and each output lane just
// indexes the 16-entry bank with its 4-bit code: an add per lane, no shifter or multiplier.
template <class CFG, int LEVEL_EXP_MAX>
struct product_lut {
    static const unsigned long long max_w = 7ULL << LEVEL_EXP_MAX;
    static const int prod_bits = sum_bits(1, CFG::a_bits, max_w);
    typedef ap_uint<CFG::a_bits> act_t;
    typedef ap_uint<CFG::w_bits> code_t;
    typedef ap_int<prod_bits> prod_t;
    struct bank_t {
        prod_t p[n_levels];
    };
    static_assert(CFG::w_bits == 4, "product-LUT codes index 16 levels: W_BITS must be 4");
    static_assert(LEVEL_EXP_MAX >= 0 && LEVEL_EXP_MAX <= 15, "LEVEL_EXP_MAX must be 0..15");

    // mant * a for mant 0..7, from shifts and the odd multiples 3a, 5a, 7a, and one level's
    // product (-1)^neg * (mant*a) << exp. Plain unsigned arithmetic: every value is below
    // 2^(A_BITS+3+LEVEL_EXP_MAX) <= 2^26, which HLS's range analysis narrows to, and it keeps
    // the C-simulation fast.
    static void multiples(act_t a, unsigned m[8]) {
#pragma HLS INLINE
        const unsigned v = a.to_uint();
        const unsigned m3 = (v << 1) + v;
        m[0] = 0u, m[1] = v, m[2] = v << 1, m[3] = m3, m[4] = v << 2, m[5] = (v << 2) + v, m[6] = m3 << 1;
        m[7] = (v << 3) - v;
    }
    static prod_t level(const unsigned m[8], const level_table &lv, int j) {
#pragma HLS INLINE
        const int e = lv.exp[j];
        const unsigned mag = m[lv.mant[j]] << (e > LEVEL_EXP_MAX ? 0 : e);
        return lv.neg[j] ? prod_t(-int(mag)) : prod_t(int(mag));
    }
    static bank_t bank(act_t a, const level_table &lv) {
#pragma HLS INLINE
        unsigned m[8];
#pragma HLS ARRAY_PARTITION variable = m complete
        multiples(a, m);
        bank_t b;
    LEVELS:
        for (int j = 0; j < n_levels; ++j) {
#pragma HLS UNROLL
            b.p[j] = level(m, lv, j);
        }
        return b;
    }
    static prod_t product(const bank_t &b, code_t code) { return b.p[code]; }
    // One lane, its own activation: the odd multiples of a, the code's descriptor (a 16:1 mux
    // of 8 bits), a shift by at most LEVEL_EXP_MAX and a negation. About a shift-add lane's cost.
    static prod_t direct(act_t a, code_t code, const level_table &lv) {
#pragma HLS INLINE
        unsigned m[8];
#pragma HLS ARRAY_PARTITION variable = m complete
        multiples(a, m);
        return level(m, lv, code.to_uint());
    }
    // A level exponent above LEVEL_EXP_MAX would not fit the bank (its products are invalid).
    static bool levels_ok(const level_table &lv) {
        bool ok = true;
        for (int j = 0; j < n_levels; ++j) ok &= lv.exp[j] <= LEVEL_EXP_MAX;
        return ok;
    }
};

}  // namespace conv

#endif
