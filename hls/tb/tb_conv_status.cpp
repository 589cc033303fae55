// The kernel's own error handling (status bits, docs/hls.md), on the product-LUT KRP build:
// an illegal configuration reads nothing, and misplaced `last`, out-of-range level exponents and
// KRP row 3 are flagged. A small synthetic layer; exit 0 when every check holds.
#include <cstdio>

#include "conv_plut.h"
#include "tb_host.h"

#if CONV_FORMAT != 1
#error "tb_conv_status checks the KRP index error: build it with CONV_FORMAT=1"
#endif

typedef tb::Host<conv_plut_engine> host;

// the status bits of the contract (conv_contract.h, generated from spec/conv_engine.hjson)
static const unsigned CONFIG = 1u << conv::contract::HLS_STATUS_CONFIG_LSB;
static const unsigned FRAMING = 1u << conv::contract::HLS_STATUS_FRAMING_LSB;
static const unsigned LEVELS = 1u << conv::contract::HLS_STATUS_LEVELS_LSB;
static const unsigned INDEX = 1u << conv::contract::HLS_STATUS_INDEX_LSB;

static int failures = 0;

static void check(bool ok, const char *what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

static vio::VectorSet tiny() {
    vio::VectorSet v;
    v.name = "status-tiny";
    v.pruning = "krp";
    v.cin = 3, v.cout = 2, v.h = 2, v.w = 3, v.a_bits = CONV_A_BITS, v.w_bits = 4, v.acc_bits = 20;
    v.act.assign(size_t(v.cin) * v.h * v.w, 7);
    v.wcode.assign(size_t(v.cout) * v.cin * conv::contract::TAPS, 1);
    v.bias.assign(v.cout, 0);
    v.shift.assign(v.cout, 0);
    v.level_desc.assign(conv::contract::PB_LEVELS, 0x10);  // level +1
    v.row_idx.assign(size_t(v.cout) * v.cin, 1);
    return v;
}

// Runs the kernel on v's streams, optionally corrupting them first; returns status.
template <class EDIT>
static unsigned run(const vio::VectorSet &v, ap_uint<16> h, ap_uint<1> mode, EDIT edit, size_t *left = nullptr,
                    size_t *outputs = nullptr) {
    hls::stream<host::act_beat_t> a;
    hls::stream<host::wgt_beat_t> w;
    hls::stream<host::out_beat_t> o;
    const int ot_n = (v.cout + CONV_PAR_OUT - 1) / CONV_PAR_OUT;
    for (int t = 0; t < ot_n; ++t) {
        host::push_weights(v, t, w);
        host::push_act(v, a);
    }
    edit(a, w);
    ap_uint<8> status = 0;
    conv_plut(a, w, o, h, v.w, v.cin, v.cout, mode, status);
    if (left) *left = a.size() + w.size();
    if (outputs) *outputs = o.size();
    while (!a.empty()) a.read();  // drained: a stream left non-empty is reported at exit
    while (!w.empty()) w.read();
    while (!o.empty()) o.read();
    return status;
}

int main() {
    const vio::VectorSet v = tiny();
    auto none = [](hls::stream<host::act_beat_t> &, hls::stream<host::wgt_beat_t> &) {};
    size_t left = 0, outputs = 0;

    unsigned st = run(v, v.h, 1, none, &left, &outputs);
    check(st == 0 && left == 0 && outputs == size_t(v.h * v.w), "a clean layer: status 0, streams consumed");

    st = run(v, 0, 1, none, &left, &outputs);
    check(st == CONFIG && outputs == 0 && left > 0, "h = 0: config error, nothing read or written");
    st = run(v, CONV_H_MAX + 1, 1, none, &left, &outputs);
    check(st == CONFIG && outputs == 0, "h > H_MAX: config error");

    // drop `last` from the final activation beat
    st = run(v, v.h, 1, [](hls::stream<host::act_beat_t> &a, hls::stream<host::wgt_beat_t> &) {
        std::vector<host::act_beat_t> beats;
        while (!a.empty()) beats.push_back(a.read());
        beats.back().last = 0;
        for (auto &b : beats) a.write(b);
    });
    check(st == FRAMING, "activation map without last: framing error");

    // `last` on the first weight beat (a parameter beat)
    st = run(v, v.h, 1, [](hls::stream<host::act_beat_t> &, hls::stream<host::wgt_beat_t> &w) {
        std::vector<host::wgt_beat_t> beats;
        while (!w.empty()) beats.push_back(w.read());
        beats.front().last = 1;
        for (auto &b : beats) w.write(b);
    });
    check(st == FRAMING, "last on a parameter beat: framing error");

    if (CONV_LEVEL_EXP_MAX < 15) {
        vio::VectorSet lv = v;
        lv.level_desc[5] = 0x10 | (CONV_LEVEL_EXP_MAX + 1);
        st = run(lv, lv.h, 1, none);
        check(st == LEVELS, "level exponent > LEVEL_EXP_MAX: level error");
    }
    if (conv_plut_engine::ACC_BITS > conv::contract::OUT_LANE_BITS) {  // e.g. LEVEL_EXP_MAX = 15
        st = run(v, v.h, 0, none, &left, &outputs);
        check(st == CONFIG && outputs == 0, "mode 0 with ACC_BITS > 32: config error");
    } else {
        st = run(v, v.h, 0, none);
        check(st == 0, "mode 0 with ACC_BITS <= 32: runs");
    }

    vio::VectorSet rv = v;
    rv.row_idx[1] = 3;
    st = run(rv, rv.h, 1, none);
    check(st == INDEX, "KRP row index 3: index error");

    std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
