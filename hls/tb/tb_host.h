// The host side of the C-sim testbenches: packs a golden vector set into the kernel's streams
// (docs/hls.md), runs the kernel in both output modes and compares every output lane.
//
//   tb_conv_<kernel> [--modes 0,1] [--unchecked-expected] DIR [DIR...]
// (--unchecked-expected is a test hook: expected acc/out are not checked against the inputs, so
// a deliberately wrong one reaches the comparison below.)
// exit 0: every set bit-exact; 1: a mismatch, a framing or status problem; 2: a bad vector set
// or a set this build cannot run (wrong scheme, widths, format or sizes).
#ifndef TB_HOST_H
#define TB_HOST_H

#include <chrono>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "conv3x3.h"
#include "vector_io.h"

namespace tb {

static const char *format_names[] = {"dense", "krp", "ikr"};

template <class E>
struct Host {
    typedef typename E::cfg CFG;
    typedef typename E::format FORMAT;
    typedef typename E::act_beat_t act_beat_t;
    typedef typename E::wgt_beat_t wgt_beat_t;
    typedef typename E::out_beat_t out_beat_t;
    typedef void (*top_t)(hls::stream<act_beat_t> &, hls::stream<wgt_beat_t> &, hls::stream<out_beat_t> &,
                          ap_uint<16>, ap_uint<16>, ap_uint<16>, ap_uint<16>, ap_uint<1>, ap_uint<8> &);
    static const int PI = CFG::par_in, PO = CFG::par_out, A = CFG::a_bits, WB = CFG::w_bits;

    // Why this build cannot run the set ("" if it can): the kernel-independent checks.
    static std::string incompatible(const vio::VectorSet &v) {
        if (v.a_bits != A) return "a_bits " + std::to_string(v.a_bits) + ", this build has CONV_A_BITS=" + std::to_string(A);
        if (v.w_bits != WB) return "w_bits " + std::to_string(v.w_bits) + ", this build has CONV_W_BITS=" + std::to_string(WB);
        if (v.h > CFG::h_max || v.w > CFG::w_max || v.cin > CFG::cin_max || v.cout > CFG::cout_max)
            return "layer " + std::to_string(v.cin) + "->" + std::to_string(v.cout) + " " + std::to_string(v.h) + "x" +
                   std::to_string(v.w) + " exceeds this build's maxima (CONV_CIN_MAX/COUT_MAX/H_MAX/W_MAX)";
        if (v.acc_bits > E::ACC_BITS)
            return "acc_bits " + std::to_string(v.acc_bits) + " > the kernel's ACC_BITS " + std::to_string(E::ACC_BITS);
        if (FORMAT::id == 1 && v.pruning != "krp")
            return "pruning '" + v.pruning + "': a KRP build needs a krp set (one kept row per kernel)";
        if (FORMAT::id == 2) {
            if (v.pruning != "ikr") return "pruning '" + v.pruning + "': an IKR build needs an ikr set";
            if (int(v.patterns.size()) > CONV_IKR_P)
                return std::to_string(v.patterns.size()) + " IKR patterns, this build has CONV_IKR_P=" + std::to_string(CONV_IKR_P);
            for (uint16_t m : v.patterns)
                if (__builtin_popcount(m) != CONV_IKR_K)
                    return "IKR patterns keep " + std::to_string(__builtin_popcount(m)) +
                           " weights per kernel, this build has CONV_IKR_K=" + std::to_string(CONV_IKR_K);
        }
        return "";
    }

    // The activation map's beats (the host sends the same map once per output tile).
    static std::vector<act_beat_t> act_beats(const vio::VectorSet &v) {
        const int cg_n = (v.cin + PI - 1) / PI, hw = v.h * v.w;
        std::vector<act_beat_t> beats;
        beats.reserve(size_t(hw) * cg_n);
        for (int y = 0; y < v.h; ++y)
            for (int x = 0; x < v.w; ++x)
                for (int cg = 0; cg < cg_n; ++cg) {
                    ap_uint<CFG::act_w> d = 0;
                    for (int i = 0; i < PI; ++i) {
                        const int ci = cg * PI + i;
                        if (ci < v.cin) d(i * A + A - 1, i * A) = v.act[ci * hw + y * v.w + x];
                    }
                    beats.push_back(conv::axis_beat<CFG::act_w>(d, y == v.h - 1 && x == v.w - 1 && cg == cg_n - 1));
                }
        return beats;
    }

    static void push_act(const vio::VectorSet &v, hls::stream<act_beat_t> &s) {
        for (const act_beat_t &b : act_beats(v)) s.write(b);
    }

    // Window position (ky*3+kx) of the j-th kept weight of an IKR mask.
    static int kept_pos(uint16_t mask, int j) {
        for (int q = 0; q < conv::contract::TAPS; ++q)
            if ((mask >> q) & 1 && j-- == 0) return q;
        return 0;
    }

    // One output tile's weight stream: parameter block, then per channel group [index], codes.
    static void push_weights(const vio::VectorSet &v, int ot, hls::stream<wgt_beat_t> &s) {
        const int cg_n = (v.cin + PI - 1) / PI;
        ap_uint<E::NPB * CFG::wgt_w> p = 0;
        // the parameter block's field widths (the contract, conv_contract.h)
        const int BB = conv::contract::PB_BIAS_BITS, SB = conv::contract::PB_SHIFT_BITS;
        const int LB = conv::contract::PB_LEVEL_BITS, MB = conv::contract::PB_PATTERN_BITS;
        for (int o = 0; o < PO; ++o) {
            const int co = ot * PO + o;
            if (co >= v.cout) continue;
            p(o * BB + BB - 1, o * BB) = ap_int<BB>(v.bias[co]);
            p(PO * BB + o * SB + SB - 1, PO * BB + o * SB) = v.shift[co];
        }
        for (int j = 0; j < conv::n_levels; ++j) p(E::LEVELS_OFF + j * LB + LB - 1, E::LEVELS_OFF + j * LB) = v.level_desc[j];
        for (size_t q = 0; FORMAT::id == 2 && q < v.patterns.size(); ++q)
            p(E::TABLE_OFF + int(q) * MB + MB - 1, E::TABLE_OFF + int(q) * MB) = v.patterns[q];
        for (int b = 0; b < E::NPB; ++b)
            s.write(conv::axis_beat<CFG::wgt_w>(p(b * CFG::wgt_w + CFG::wgt_w - 1, b * CFG::wgt_w), false));

        for (int cg = 0; cg < cg_n; ++cg) {
            for (int j = 0; j < E::BPC; ++j) {
                ap_uint<CFG::wgt_w> d = 0;
                const bool index_beat = FORMAT::has_idx && j == 0;
                const int t = FORMAT::has_idx ? j - 1 : j;
                for (int o = 0; o < PO; ++o)
                    for (int i = 0; i < PI; ++i) {
                        const int co = ot * PO + o, ci = cg * PI + i, l = o * PI + i;
                        if (co >= v.cout || ci >= v.cin) continue;  // padding lanes stay 0
                        const size_t k = size_t(co) * v.cin + ci;
                        if (index_beat) {
                            const int idx = FORMAT::id == 1 ? v.row_idx[k] : v.pattern_id[k];
                            d(l * FORMAT::idx_bits + FORMAT::idx_bits - 1, l * FORMAT::idx_bits) = idx;
                            continue;
                        }
                        int pos = t;  // dense: tap t
                        if (FORMAT::id == 1) pos = v.row_idx[k] * 3 + t;
                        if (FORMAT::id == 2) pos = kept_pos(v.patterns[v.pattern_id[k]], t);
                        d(l * WB + WB - 1, l * WB) = v.wcode[k * 9 + pos];
                    }
                s.write(conv::axis_beat<CFG::wgt_w>(d, cg == cg_n - 1 && j == E::BPC - 1));
            }
        }
    }

    // Pipeline steps of one layer (= cycles at II=1, without pipeline fill): the kernel's loops.
    static long long steps(const vio::VectorSet &v) {
        const long long cg_n = (v.cin + PI - 1) / PI, ot_n = (v.cout + PO - 1) / PO;
        const long long pre = (v.h < 2 ? v.h : 2) * v.w * cg_n;
        return ot_n * (E::NPB + cg_n * E::BPC + pre + v.h * cg_n * (1 + v.w * E::TAPS));
    }

    struct Result {
        long long checked = 0, mismatches = 0;
        double seconds = 0;
        bool ok = true;
    };

    static Result run_mode(top_t top, const vio::VectorSet &v, int mode) {
        Result r;
        const int ot_n = (v.cout + PO - 1) / PO, hw = v.h * v.w;
        hls::stream<act_beat_t> s_act("s_axis_act");
        hls::stream<wgt_beat_t> s_wgt("s_axis_wgt");
        hls::stream<out_beat_t> m_out("m_axis_out");
        const std::vector<act_beat_t> map = act_beats(v);
        for (int ot = 0; ot < ot_n; ++ot) {
            push_weights(v, ot, s_wgt);
            for (const act_beat_t &b : map) s_act.write(b);
        }
        ap_uint<8> status = 0xff;
        auto t0 = std::chrono::steady_clock::now();
        top(s_act, s_wgt, m_out, v.h, v.w, v.cin, v.cout, mode, status);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        auto fail = [&](const std::string &msg) {
            if (r.mismatches < 8) std::printf("  %s mode %d: %s\n", v.name.c_str(), mode, msg.c_str());
            ++r.mismatches;
            r.ok = false;
        };
        if (status != 0) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "status = 0x%02x (expected 0; bits: 0 config, 1 framing, 2 levels, 3 index)",
                          unsigned(status));
            fail(buf);
        }
        if (!s_act.empty()) fail(std::to_string(s_act.size()) + " activation beats left unread");
        if (!s_wgt.empty()) fail(std::to_string(s_wgt.size()) + " weight beats left unread");
        for (int ot = 0; ot < ot_n; ++ot)
            for (int p = 0; p < hw; ++p) {
                const int y = p / v.w, x = p % v.w;
                if (m_out.empty()) {
                    fail("output stream ended early at tile " + std::to_string(ot) + " pixel " + std::to_string(p));
                    return r;
                }
                out_beat_t b = m_out.read();
                if (bool(b.last) != (p == hw - 1))
                    fail("tile " + std::to_string(ot) + " pixel (y=" + std::to_string(y) + ", x=" + std::to_string(x) + "): last=" +
                         std::to_string(int(b.last)));
                for (int o = 0; o < PO; ++o) {
                    const int co = ot * PO + o;
                    const int L = CFG::out_lane;
                    const ap_uint<L> lane = b.data(o * L + L - 1, o * L);
                    const long long got = mode ? (long long)lane.to_uint64() : (long long)ap_int<L>(lane).to_int64();
                    long long want = 0;
                    if (co < v.cout) {
                        ++r.checked;
                        const size_t k = size_t(co) * hw + p;
                        want = mode ? (long long)v.out[k] : (long long)v.acc[k];
                    }
                    if (got != want)
                        fail("tile " + std::to_string(ot) + " pixel (y=" + std::to_string(y) + ", x=" + std::to_string(x) + ") lane " +
                             std::to_string(o) + (co < v.cout ? " (co=" + std::to_string(co) + ")" : " (padding)") +
                             ": expected " + std::to_string(want) + ", got " + std::to_string(got));
                }
            }
        if (!m_out.empty()) fail(std::to_string(m_out.size()) + " extra output beats");
        return r;
    }

    // The testbench main: `accepts` adds the kernel's own scheme check.
    static int main(int argc, char **argv, const char *kernel, top_t top, std::string (*accepts)(const vio::VectorSet &)) {
        std::vector<int> modes = {0, 1};
        std::vector<std::string> dirs;
        bool check_expected = true;
        std::string json_path;  // --json: the results for a program to read (scripts/hls_csim.py)
        std::string records;
        for (int a = 1; a < argc; ++a) {
            std::string s = argv[a];
            if (s == "--modes" && a + 1 < argc) {
                std::string m = argv[++a];
                modes.clear();
                if (m == "0" || m == "0,1" || m == "1,0") modes.push_back(0);
                if (m == "1" || m == "0,1" || m == "1,0") modes.push_back(1);
                if (modes.empty()) {
                    std::fprintf(stderr, "%s: --modes must be 0, 1 or 0,1 (got '%s')\n", kernel, m.c_str());
                    return 2;
                }
            } else if (s == "--unchecked-expected") {
                check_expected = false;
            } else if (s == "--json" && a + 1 < argc) {
                json_path = argv[++a];
            } else if (!s.empty() && s[0] == '-') {
                std::fprintf(stderr, "usage: %s [--modes 0,1] [--json FILE] VECTOR_SET_DIR...\n", kernel);
                return 2;
            } else {
                dirs.push_back(s);
            }
        }
        if (dirs.empty()) {
            std::fprintf(stderr, "usage: %s [--modes 0,1] [--json FILE] VECTOR_SET_DIR...\n", kernel);
            return 2;
        }
        std::printf("%s: format %s, PAR_IN %d x PAR_OUT %d, A_BITS %d, W_BITS %d, ACC_BITS %d, maxima %dx%d %d->%d\n", kernel,
                    format_names[FORMAT::id], PI, PO, A, WB, E::ACC_BITS, CFG::h_max, CFG::w_max, CFG::cin_max, CFG::cout_max);
        int rc = 0;
        for (const std::string &dir : dirs) {
            vio::VectorSet v;
            try {
                v = vio::load(dir, check_expected);
            } catch (const vio::Error &e) {
                std::fprintf(stderr, "error: %s: %s\n", dir.c_str(), e.what());
                return 2;
            } catch (const std::bad_alloc &) {  // the reader bounds every size; this is a last resort
                std::fprintf(stderr, "error: %s: out of memory while reading the vector set\n", dir.c_str());
                return 2;
            } catch (const std::exception &e) {
                std::fprintf(stderr, "error: %s: %s\n", dir.c_str(), e.what());
                return 2;
            }
            std::string why = accepts(v);
            if (why.empty()) why = incompatible(v);
            if (!why.empty()) {
                std::fprintf(stderr, "error: %s: %s cannot run set %s: %s\n", dir.c_str(), kernel, v.name.c_str(), why.c_str());
                return 2;
            }
            bool ok = true;
            std::string summary, mode_records;
            for (int mode : modes) {
                char buf[160];
                if (mode == 0 && !v.acc_fits_32()) {
                    std::printf("  %s mode 0 skipped: acc_bits %d > 32 (raw accumulators do not fit the 32-bit lanes)\n",
                                v.name.c_str(), v.acc_bits);
                    std::snprintf(buf, sizeof buf, "%s\"0\": {\"skipped\": \"acc_bits %d > 32\"}",
                                  mode_records.empty() ? "" : ", ", v.acc_bits);
                    mode_records += buf;
                    continue;
                }
                Result r = run_mode(top, v, mode);
                ok &= r.ok;
                std::snprintf(buf, sizeof buf, " mode %d: %lld %s checked, %lld mismatches, %.2f s;", mode, r.checked,
                              mode ? "outputs" : "accumulators", r.mismatches, r.seconds);
                summary += buf;
                std::snprintf(buf, sizeof buf, "%s\"%d\": {\"checked\": %lld, \"mismatches\": %lld, \"seconds\": %.4f}",
                              mode_records.empty() ? "" : ", ", mode, r.checked, r.mismatches, r.seconds);
                mode_records += buf;
            }
            char head[160];
            std::snprintf(head, sizeof head, ", \"cin\": %d, \"cout\": %d, \"h\": %d, \"w\": %d, \"passed\": %s, \"steps\": %lld",
                          v.cin, v.cout, v.h, v.w, ok ? "true" : "false", steps(v));
            records += std::string(records.empty() ? "" : ",\n  ") + "{\"name\": " + json_string(v.name) +
                       ", \"dir\": " + json_string(dir) + head + ", \"modes\": {" + mode_records + "}}";
            std::printf("%s %s (%d->%d %dx%d):%s %lld pipeline steps per run (cycles at II=1)\n", ok ? "PASS" : "FAIL",
                        v.name.c_str(), v.cin, v.cout, v.h, v.w, summary.c_str(), steps(v));
            std::fflush(stdout);
            if (!ok) rc = 1;
        }
        if (!json_path.empty()) {
            std::FILE *f = std::fopen(json_path.c_str(), "w");
            char head[256];
            std::snprintf(head, sizeof head, "{\"kernel\": \"%s\", \"format\": \"%s\", \"par_in\": %d, \"par_out\": %d, "
                          "\"a_bits\": %d, \"w_bits\": %d, \"acc_bits\": %d,\n \"sets\": [\n  ", kernel,
                          format_names[FORMAT::id], PI, PO, A, WB, E::ACC_BITS);
            if (!f || std::fprintf(f, "%s%s]}\n", head, records.c_str()) < 0 || std::fclose(f) != 0) {
                std::fprintf(stderr, "error: --json %s: cannot write the results\n", json_path.c_str());
                return 2;
            }
        }
        return rc;
    }

    // A JSON string literal (names and paths come from the command line and the manifest).
    static std::string json_string(const std::string &text) {
        std::string out = "\"";
        for (unsigned char c : text) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += char(c);
            } else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
        return out + "\"";
    }
};

}  // namespace tb

#endif
