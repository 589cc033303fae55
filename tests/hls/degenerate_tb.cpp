// Synthetic layers at the shapes the golden tile sets do not cover (one column, one channel
// group, a single row), on the multiplier kernel in mode 0 against a direct convolution here.
// They are where the line buffer's read-after-write distance is smallest (TAPS steps), so with
// the kernel's C-simulation check they prove its DEPENDENCE pragma true (tests/hls/test_hls_kernel.py).
//   degenerate_tb H W CIN COUT [H W CIN COUT ...]   exit 0 when every output matches
#include <cstdio>
#include <cstdlib>

#include "conv_mult.h"
#include "tb_host.h"

typedef tb::Host<conv_mult_engine> host;
typedef conv_mult_engine::format FORMAT;

static int run_shape(int h, int w, int cin, int cout, unsigned seed) {
    std::srand(seed);
    vio::VectorSet v;
    v.name = "degenerate";
    v.pruning = tb::format_names[FORMAT::id];
    v.cin = cin, v.cout = cout, v.h = h, v.w = w, v.a_bits = CONV_A_BITS, v.w_bits = CONV_W_BITS;
    v.act.resize(size_t(cin) * h * w);
    for (auto &a : v.act) a = std::rand() % (1 << CONV_A_BITS);
    v.wcode.resize(size_t(cout) * cin * 9);
    for (auto &c : v.wcode) c = std::rand() % (1 << CONV_W_BITS);
    v.bias.assign(cout, 0);
    v.shift.assign(cout, 0);
    v.level_desc.assign(16, 0);
    v.row_idx.resize(size_t(cout) * cin);
    v.pattern_id.resize(size_t(cout) * cin);
    for (int p = 0; p < CONV_IKR_P; ++p) {  // pattern p keeps positions p, p+2, p+4, ... (mod 9): K distinct
        uint16_t m = 0;
        for (int j = 0; j < CONV_IKR_K; ++j) m |= 1u << ((p + j * 2) % 9);
        v.patterns.push_back(m);
    }
    // the weights a format drops are zero in the reference
    for (int k = 0; k < cout * cin; ++k) {
        v.row_idx[k] = std::rand() % 3;
        v.pattern_id[k] = std::rand() % CONV_IKR_P;
        for (int q = 0; q < 9; ++q) {
            const bool kept = FORMAT::id == 0 || (FORMAT::id == 1 && q / 3 == v.row_idx[k]) ||
                              (FORMAT::id == 2 && ((v.patterns[v.pattern_id[k]] >> q) & 1));
            if (!kept) v.wcode[size_t(k) * 9 + q] = 0;
        }
    }
    const int ot_n = (cout + CONV_PAR_OUT - 1) / CONV_PAR_OUT;
    hls::stream<host::act_beat_t> a;
    hls::stream<host::wgt_beat_t> wg;
    hls::stream<host::out_beat_t> o;
    for (int t = 0; t < ot_n; ++t) {
        host::push_weights(v, t, wg);
        host::push_act(v, a);
    }
    ap_uint<8> status = 0;
    conv_mult(a, wg, o, h, w, cin, cout, 0, status);
    int bad = status != 0 || !a.empty() || !wg.empty();
    for (int t = 0; t < ot_n; ++t)
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                if (o.empty()) return 1;
                const host::out_beat_t beat = o.read();
                for (int l = 0; l < CONV_PAR_OUT; ++l) {
                    const int co = t * CONV_PAR_OUT + l;
                    if (co >= cout) continue;
                    long long ref = 0;
                    for (int ci = 0; ci < cin; ++ci)
                        for (int q = 0; q < 9; ++q) {
                            const int yy = y + q / 3 - 1, xx = x + q % 3 - 1;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            const int code = v.wcode[(size_t(co) * cin + ci) * 9 + q];
                            const int wv = code >= (1 << (CONV_W_BITS - 1)) ? code - (1 << CONV_W_BITS) : code;
                            ref += (long long)v.act[(size_t(ci) * h + yy) * w + xx] * wv;
                        }
                    const long long got = ap_int<32>(beat.data(l * 32 + 31, l * 32)).to_int64();
                    if (got != ref) {
                        if (bad < 5) std::printf("  %dx%d %d->%d: (y=%d x=%d co=%d) expected %lld, got %lld\n", h, w,
                                                 cin, cout, y, x, co, ref, got);
                        ++bad;
                    }
                }
            }
    return bad || !o.empty();
}

int main(int argc, char **argv) {
    int failed = 0;
    for (int i = 1; i + 3 < argc; i += 4) {
        const int h = std::atoi(argv[i]), w = std::atoi(argv[i + 1]), cin = std::atoi(argv[i + 2]),
                  cout = std::atoi(argv[i + 3]);
        const int bad = run_shape(h, w, cin, cout, 1000u + i);
        std::printf("%s %dx%d %d->%d\n", bad ? "FAIL" : "PASS", h, w, cin, cout);
        failed += bad != 0;
    }
    return failed ? 1 : 0;
}
