// Golden vector sets (docs/vector_format.md) for the C++ testbenches: manifest.json, the
// sha256 of every listed file, and the $readmemh hex files. The rules are those of
// docs/vector_format.md, "What a valid set is" (pymodel/vector_schema.py is the same schema in
// Python): strict JSON within size and nesting limits, the manifest schema, the manifest's own
// content hash over its canonical serialisation, exactly the set's files as regular files in
// the set folder, and every hex file's syntax, widths and cross-file semantics. Anything
// malformed throws vio::Error with a one-line "<file>: <problem>" message, as
// pymodel.vectors.load_vectors does; tests/test_malformed_sets.py holds both readers to the same
// verdict.
// Parts: vio_base.h (limits, vio::Error), vio_json.h, vio_sha256.h, vio_npz.h.
#ifndef VECTOR_IO_H
#define VECTOR_IO_H

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "../include/conv_contract.h"  // hex widths, orders, signedness: the contract
#include "vio_base.h"
#include "vio_json.h"
#include "vio_npz.h"
#include "vio_sha256.h"

namespace vio {

// The bytes of `path`: a regular file (not a symlink, device or FIFO) of at most max_bytes.
inline std::string read_regular_file(const std::string &path, const std::string &label, long long max_bytes) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) throw Error(label + ": missing");
    if (!S_ISREG(st.st_mode)) throw Error(label + ": not a regular file (symlinks, devices and FIFOs are refused)");
    if ((long long)st.st_size > max_bytes)
        throw Error(label + ": " + std::to_string((long long)st.st_size) + " bytes, more than the limit of " + std::to_string(max_bytes));
    const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) throw Error(label + ": cannot be read (" + std::strerror(errno) + ")");
    std::string data;
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            close(fd);
            throw Error(label + ": cannot be read (" + std::strerror(errno) + ")");
        }
        if (n == 0) break;
        data.append(buf, size_t(n));
        if ((long long)data.size() > max_bytes) {
            close(fd);
            throw Error(label + ": grew past the limit of " + std::to_string(max_bytes) + " bytes while read");
        }
    }
    close(fd);
    return data;
}

inline bool is_dir(const std::string &p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}


// ---------------------------------------------------------------------------------------------
// A vector set: the arrays the kernels need, in their natural index order.
struct VectorSet {
    std::string dir, name, scheme, scheme_tag, pruning, weights_source;
    int cin = 0, cout = 0, h = 0, w = 0, a_bits = 0, w_bits = 0, exp1_bits = 0, exp2_bits = 0, acc_bits = 0;
    std::vector<uint8_t> act;       // [cin][h][w]
    std::vector<uint8_t> wcode;     // [cout][cin][9]
    std::vector<int64_t> bias;      // [cout]
    std::vector<uint8_t> shift;     // [cout]
    std::vector<uint8_t> level_desc;// [16]
    std::vector<int64_t> acc;       // [cout][h][w]
    std::vector<uint8_t> out;       // [cout][h][w]
    std::vector<uint8_t> row_idx;   // [cout][cin]   (krp)
    std::vector<uint8_t> pattern_id;// [cout][cin]   (ikr)
    std::vector<uint16_t> patterns; // [P] 9-bit masks, bit ky*3+kx (ikr)
    bool acc_fits_32() const { return acc_bits <= 32; }
};

namespace ct = conv::contract;  // spec/conv_engine.hjson, generated

// the contract's entry for hex file `f`, or nullptr
inline const ct::hex_file *hex_file_of(const std::string &f) {
    for (const ct::hex_file &h : ct::HEX_FILES)
        if (f == h.name) return &h;
    return nullptr;
}

class Loader {
  public:
    // check_expected=false is a test hook only (tb_host --unchecked-expected): it skips the
    // checks that acc/out follow from the inputs, so a deliberately wrong expected value
    // reaches the testbench's comparison (tests/hls: the comparison bites).
    explicit Loader(const std::string &dir, bool check_expected = true) : dir_(dir), check_expected_(check_expected) {}

    VectorSet load() {
        VectorSet v;
        v.dir = dir_;
        if (!is_dir(dir_)) throw Error(dir_ + ": not a directory (expected a vector set from `make vectors`)");
        const std::string text = read_regular_file(dir_ + "/manifest.json", "manifest.json", kMaxManifestBytes);
        m_ = JsonParser(text, "manifest.json").parse();
        if (m_.kind != Json::Obj) throw Error("manifest.json: not a JSON object");
        const Json *fmt = m_.find("format");
        if (!fmt || fmt->kind != Json::Str || fmt->text != "conv-vectors")
            throw Error("manifest.json: not a conv-vectors manifest (format)");
        const Json *ver = m_.find("version");
        if (!ver || ver->kind != Json::Num || !ver->is_int || ver->text != std::to_string(kFormatVersion))
            throw Error("manifest.json: vector format version " + (ver && ver->kind == Json::Num ? ver->text : std::string("?")) +
                        ", this testbench reads version " + std::to_string(kFormatVersion) + " (re-export with `make vectors`)");
        check_schema(v);
        std::string body;
        canonical(body, m_, true);
        if (sha256_hex(body) != str(m_, "manifest_sha256"))
            throw Error("manifest.json: content hash mismatch (manifest edited since export)");
        check_values(v);
        check_files();
        read_hex_files(v);
        check_npz(v);
        return v;
    }

  private:
    std::string dir_;
    bool check_expected_;
    Json m_;
    std::map<std::string, std::string> data_;  // every listed file, read once by check_files()
    std::vector<int64_t> lut_;
    long long levels_[16] = {0};

    [[noreturn]] static void bad(const std::string &what) { throw Error("manifest.json: " + what); }

    static const Json &req(const Json &o, const std::string &key, const std::string &ctx) {
        const Json *j = o.find(key);
        if (!j) bad(ctx + key + ": missing");
        return *j;
    }
    static const Json &obj(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json &j = req(o, key, ctx);
        if (j.kind != Json::Obj) bad(ctx + key + ": not an object");
        return j;
    }
    static std::string str(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json &j = req(o, key, ctx);
        if (j.kind != Json::Str) bad(ctx + key + ": not a string");
        return j.text;
    }
    static bool boolean(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json &j = req(o, key, ctx);
        if (j.kind != Json::Bool) bad(ctx + key + ": not a boolean");
        return j.b;
    }
    // A JSON integer (no fraction, no exponent) in lo..hi.
    static long long integer(const Json &j, long long lo, long long hi, const std::string &what) {
        if (j.kind != Json::Num || !j.is_int) bad(what + ": not an integer");
        const std::string &t = j.text;
        const size_t digits = t.size() - (t[0] == '-');
        if (digits > 18) bad(what + ": " + t + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
        const long long x = std::strtoll(t.c_str(), nullptr, 10);
        if (x < lo || x > hi) bad(what + ": " + t + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
        return x;
    }
    static long long integer(const Json &o, const std::string &key, long long lo, long long hi, const std::string &ctx = "") {
        return integer(req(o, key, ctx), lo, hi, ctx + key);
    }
    static size_t code_points(const std::string &s) {
        size_t n = 0;
        for (unsigned char c : s) n += (c >> 6) != 2;
        return n;
    }
    static void text(const Json &o, const std::string &key, bool required) {
        const Json *j = o.find(key);
        if (!j && !required) return;
        if (!j) bad(key + ": missing");
        if (j->kind != Json::Str) bad(key + ": not a string");
        if (code_points(j->text) > kMaxText) bad(key + ": longer than " + std::to_string(kMaxText) + " characters");
    }
    static bool plain_name(const std::string &s) {  // ^[a-z0-9][a-z0-9._-]{0,127}$
        if (s.empty() || s.size() > 128) return false;
        for (size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
        }
        return true;
    }
    static bool sha_text(const std::string &s) {
        if (s.size() != 64) return false;
        for (char c : s)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        return true;
    }
    static bool known(const std::string &f, bool with_npz) {
        if (with_npz && f == "vectors.npz") return true;
        return hex_file_of(f) != nullptr;
    }
    static void numbers(const Json &o, const std::string &key) {
        const Json &a = req(o, key, "");
        if (a.kind != Json::Arr) bad(key + ": not an array");
        if ((long long)a.arr.size() > kMaxDim) bad(key + ": more than " + std::to_string(kMaxDim) + " entries");
        for (const Json &x : a.arr)
            if (x.kind != Json::Num) bad(key + ": an entry is not a number");
    }

    // The types and ranges of pymodel/vector_schema.py MANIFEST_SCHEMA.
    void check_schema(VectorSet &v) {
        v.name = str(m_, "name");
        if (!plain_name(v.name)) bad("name " + q(v.name) + " is not a plain lowercase set name");
        v.scheme = str(m_, "scheme");
        if (v.scheme != "int" && v.scheme != "pot" && v.scheme != "apot" && v.scheme != "ios") bad("scheme: unknown " + q(v.scheme));
        v.scheme_tag = str(m_, "scheme_tag");
        v.pruning = str(m_, "pruning");
        if (v.pruning != "dense" && v.pruning != "unstructured" && v.pruning != "krp" && v.pruning != "ikr")
            bad("pruning: unknown " + q(v.pruning));
        boolean(m_, "refit");
        boolean(m_, "stress");
        v.w_bits = int(integer(m_, "w_bits", ct::W_BITS_MIN, ct::W_BITS_MAX));
        v.exp1_bits = int(integer(m_, "exp1_bits", 0, 4));
        v.exp2_bits = int(integer(m_, "exp2_bits", 0, 4));
        v.a_bits = int(integer(m_, "a_bits", ct::A_BITS_MIN, ct::A_BITS_MAX));
        v.acc_bits = int(integer(m_, "acc_bits", ct::ACC_BITS_MIN, ct::ACC_BITS_MAX));
        integer(m_, "seed", 0, 0x7fffffffffffffffLL);
        for (const char *k : {"a_frac", "out_frac"})
            if (m_.find(k)) integer(m_, k, -64, 64);
        const Json &layer = obj(m_, "layer");
        for (const auto &kv : layer.obj)
            if (kv.first != "cin" && kv.first != "cout" && kv.first != "h" && kv.first != "w" && kv.first != "k" &&
                kv.first != "stride" && kv.first != "pad")
                bad("layer: unexpected key " + q(kv.first));
        v.cin = int(integer(layer, "cin", 1, kMaxDim, "layer."));
        v.cout = int(integer(layer, "cout", 1, kMaxDim, "layer."));
        v.h = int(integer(layer, "h", 1, kMaxDim, "layer."));
        v.w = int(integer(layer, "w", 1, kMaxDim, "layer."));
        integer(layer, "k", 3, 3, "layer.");
        integer(layer, "stride", 1, 1, "layer.");
        integer(layer, "pad", 1, 1, "layer.");
        const Json &tile = req(m_, "tile", "");
        if (tile.kind != Json::Null) {
            if (tile.kind != Json::Obj) bad("tile: not null or an object");
            static const char *keys[] = {"cin_offset", "cin", "cout_offset", "cout", "y0", "h", "x0", "w"};
            for (const auto &kv : tile.obj)
                if (std::find_if(std::begin(keys), std::end(keys), [&](const char *k) { return kv.first == k; }) == std::end(keys))
                    bad("tile: unexpected key " + q(kv.first));
            for (const char *k : keys) integer(tile, k, 0, kMaxDim, "tile.");
        }
        numbers(m_, "wscale");
        numbers(m_, "residual");
        const Json &hx = obj(m_, "hex");
        for (const auto &kv : hx.obj) {
            if (!known(kv.first, false)) bad("hex: unexpected entry " + q(kv.first));
            const std::string ctx = "hex." + kv.first + ".";
            if (kv.second.kind != Json::Obj) bad(ctx.substr(0, ctx.size() - 1) + ": not an object");
            for (const auto &f : kv.second.obj)
                if (f.first != "bits" && f.first != "signed" && f.first != "order" && f.first != "count")
                    bad(ctx.substr(0, ctx.size() - 1) + ": unexpected key " + q(f.first));
            integer(kv.second, "bits", 1, 64, ctx);
            boolean(kv.second, "signed", ctx);
            if (str(kv.second, "order", ctx).size() > 32) bad(ctx + "order: too long");
            integer(kv.second, "count", 0, kMaxCount, ctx);
        }
        const Json &files = obj(m_, "files");
        for (const auto &kv : files.obj) {
            // plain names from a fixed list: no path ever leaves the set folder
            if (!known(kv.first, true)) bad("files: unexpected entry " + q(kv.first));
            const std::string ctx = "files." + kv.first + ".";
            if (kv.second.kind != Json::Obj) bad(ctx.substr(0, ctx.size() - 1) + ": not an object");
            for (const auto &f : kv.second.obj)
                if (f.first != "sha256" && f.first != "bytes") bad(ctx.substr(0, ctx.size() - 1) + ": unexpected key " + q(f.first));
            if (!sha_text(str(kv.second, "sha256", ctx))) bad(ctx + "sha256: not 64 lowercase hex digits");
            integer(kv.second, "bytes", 0, kMaxFileBytes, ctx);
        }
        text(m_, "weights_source", true);
        text(m_, "activations_source", true);
        for (const char *k : {"layer_name", "tile_requant", "stress_requant"}) text(m_, k, false);
        const Json *qe = m_.find("quant_extra");
        if (qe && qe->kind != Json::Obj) bad("quant_extra: not an object");
        if (!sha_text(str(m_, "manifest_sha256"))) bad("manifest_sha256: not 64 lowercase hex digits");
        v.weights_source = str(m_, "weights_source");
    }

    std::vector<std::string> set_files(const std::string &pruning) const {
        std::vector<std::string> f;
        for (const ct::hex_file &h : ct::HEX_FILES)
            if (std::strcmp(h.pruning, "all") == 0 || pruning == h.pruning) f.push_back(h.name);
        return f;
    }
    static std::string order_of(const std::string &f) { return hex_file_of(f)->order; }

    // Rules across fields (pymodel.vectors._check_manifest_values).
    void check_values(VectorSet &v) {
        const std::string &s = v.scheme;
        const int wb = v.w_bits, e1 = v.exp1_bits, e2 = v.exp2_bits;
        const bool fmt_ok = s == "int" ? (wb >= 2 && wb <= 8)
                            : s == "pot" ? (e1 >= 1 && e1 <= 4 && wb == 1 + e1)
                            : s == "apot" ? (e1 >= 1 && e1 <= 4 && e2 >= 1 && e2 <= 4 && wb == 2 + e1 + e2)
                                          : wb == 4;
        if (!fmt_ok) bad("unsupported code format " + s + " w_bits=" + std::to_string(wb));
        const std::string tag = s == "ios" ? "ios4" : s + std::to_string(wb);
        if (v.scheme_tag != tag) bad("scheme_tag " + q(v.scheme_tag) + " does not match scheme/w_bits (" + q(tag) + ")");
        for (const char *key : {"wscale", "residual"}) {
            const Json &a = req(m_, key, "");
            if ((long long)a.arr.size() != v.cout)
                bad(std::string(key) + " has " + std::to_string(a.arr.size()) + " entries, layer.cout is " + std::to_string(v.cout));
            for (const Json &x : a.arr) {
                errno = 0;
                const double d = std::strtod(x.text.c_str(), nullptr);
                if (!std::isfinite(d) || !(d > 0)) bad(std::string(key) + " entry " + x.text + " is not a finite positive number");
            }
        }
        const Json &tile = req(m_, "tile", "");
        if (tile.kind == Json::Obj) {
            const Json &layer = obj(m_, "layer");
            for (const char *k : {"cin", "cout", "h", "w"})
                if (integer(tile, k, 0, kMaxDim, "tile.") != integer(layer, k, 1, kMaxDim, "layer."))
                    bad("tile cin/cout/h/w differ from layer");
        }
        const std::vector<std::string> want = set_files(v.pruning);
        const Json &hx = obj(m_, "hex");
        for (const auto &kv : hx.obj)
            if (std::find(want.begin(), want.end(), kv.first) == want.end())
                bad("unexpected hex entry " + kv.first + " for pruning '" + v.pruning + "'");
        for (const std::string &f : want) {
            const Json *spec = hx.find(f);
            if (!spec) bad("no hex entry for " + f);
            const bool sgn = hex_file_of(f)->is_signed;
            if (boolean(*spec, "signed") != sgn || str(*spec, "order") != order_of(f))
                bad("hex entry for " + f + " must be signed=" + (sgn ? "True" : "False") + ", order='" + order_of(f) + "'");
        }
        const Json &files = obj(m_, "files");
        std::vector<std::string> need = want;
        need.insert(need.begin(), "vectors.npz");
        for (const std::string &f : need)
            if (!files.find(f)) bad("does not list required file " + f);
        for (const auto &kv : files.obj)
            if (std::find(need.begin(), need.end(), kv.first) == need.end())
                bad("lists " + kv.first + ", which is not a file of a " + v.pruning + " set");
    }

    // Every listed file: a regular file in the set folder, of the recorded size and sha256.
    void check_files() {
        const Json &files = obj(m_, "files");
        for (const auto &kv : files.obj) {
            const std::string &f = kv.first;
            const std::string &data = data_[f] = read_regular_file(dir_ + "/" + f, f, kMaxFileBytes);
            const long long bytes = integer(kv.second, "bytes", 0, kMaxFileBytes, "files." + f + ".");
            if ((long long)data.size() != bytes)
                throw Error(f + ": " + std::to_string(data.size()) + " bytes, manifest says " + std::to_string(bytes) +
                            " (truncated or replaced)");
            if (sha256_hex(data) != str(kv.second, "sha256"))
                throw Error(f + ": sha256 mismatch (file changed since export)");
        }
    }


    // vectors.npz holds exactly the expected arrays, equal to the hex files, and the rules that
    // only it can show (pymodel.vectors._load_npz / _check_semantics): wint decodes from wcode,
    // is 0 where mask is False, the KRP/IKR masks follow the indices, acc is the convolution.
    void check_npz(const VectorSet &v) {
        std::map<std::string, NpyArray> z = read_npz(data_.at("vectors.npz"));
        const long long ci = v.cin, co = v.cout, h = v.h, w = v.w, hw = h * w;
        const long long p = (long long)v.patterns.size();
        struct Spec {
            const char *descr;
            std::vector<long long> shape;
        };
        std::map<std::string, Spec> spec = {
            {"act", {"|u1", {ci, h, w}}},          {"wcode", {"|u1", {co, ci, 3, 3}}}, {"wint", {"<i4", {co, ci, 3, 3}}},
            {"mask", {"|b1", {co, ci, 3, 3}}},     {"bias", {"<i4", {co}}},            {"shift", {"|u1", {co}}},
            {"level_desc", {"|u1", {16}}},         {"levels", {"<i4", {16}}},          {"lut", {"<i4", {1LL << v.a_bits, 16}}},
            {"acc", {"<i8", {co, h, w}}},          {"out", {"|u1", {co, h, w}}}};
        if (v.pruning == "krp") spec["row_idx"] = {"|u1", {co, ci}};
        if (v.pruning == "ikr") {
            spec["pattern_id"] = {"|u1", {co, ci}};
            spec["patterns"] = {"|b1", {p, 3, 3}};
        }
        for (const auto &kv : spec)
            if (!z.count(kv.first)) throw Error("vectors.npz: missing array " + q(kv.first));
        for (const auto &kv : z) {
            if (!spec.count(kv.first)) throw Error("vectors.npz: unexpected array " + q(kv.first) + " for pruning " + q(v.pruning));
            const Spec &sp = spec.at(kv.first);
            if (kv.second.descr != sp.descr) throw Error("vectors.npz: " + q(kv.first) + " has dtype " + q(kv.second.descr) + ", expected " + sp.descr);
            if (kv.second.shape != sp.shape) throw Error("vectors.npz: " + q(kv.first) + " has the wrong shape");
        }
        auto same = [&](const std::string &key, long long n, const std::function<int64_t(long long)> &want) {
            const NpyArray &a = z.at(key);
            for (long long i = 0; i < n; ++i)
                if (a.at(i) != want(i))
                    throw Error("vectors.npz: " + q(key) + " element " + std::to_string(i) + " is " + std::to_string(a.at(i)) +
                                ", the hex files give " + std::to_string(want(i)) + " (hex files and npz disagree)");
        };
        const NpyArray &mask = z.at("mask");
        for (long long i = 0; i < mask.size(); ++i)
            if (mask.at(i) > 1) throw Error("vectors.npz: 'mask' holds a bool other than 0/1");
        same("act", ci * hw, [&](long long i) { return v.act[i]; });
        same("wcode", co * ci * ct::TAPS, [&](long long i) { return v.wcode[i]; });
        same("bias", co, [&](long long i) { return v.bias[i]; });
        same("shift", co, [&](long long i) { return v.shift[i]; });
        same("level_desc", 16, [&](long long i) { return v.level_desc[i]; });
        same("levels", 16, [&](long long i) { return levels_[i]; });
        same("lut", 16LL << v.a_bits, [&](long long i) { return lut_[i]; });
        if (check_expected_) {
            same("acc", co * hw, [&](long long i) { return v.acc[i]; });
            same("out", co * hw, [&](long long i) { return v.out[i]; });
        }
        if (v.pruning == "krp") {
            same("row_idx", co * ci, [&](long long i) { return v.row_idx[i]; });
            same("mask", co * ci * ct::TAPS, [&](long long i) { return int64_t(i % ct::TAPS / ct::KERNEL_COLS == v.row_idx[i / ct::TAPS]); });
        }
        if (v.pruning == "ikr") {
            same("pattern_id", co * ci, [&](long long i) { return v.pattern_id[i]; });
            same("patterns", p * ct::TAPS, [&](long long i) { return int64_t(v.patterns[i / ct::TAPS] >> (i % ct::TAPS) & 1); });
            same("mask", co * ci * ct::TAPS, [&](long long i) { return int64_t(v.patterns[v.pattern_id[i / ct::TAPS]] >> (i % ct::TAPS) & 1); });
        }
        // wint = decode(wcode) (pymodel.codes.decode), 0 where pruned
        const int wb = v.w_bits, e1 = v.exp1_bits, e2 = v.exp2_bits;
        auto term = [](long long sign, long long mag) -> long long {
            const long long val = mag ? 1LL << (mag - 1) : 0;
            return sign ? -val : val;
        };
        auto decode = [&](long long c) -> long long {
            if (v.scheme == "int") return c >= (1LL << (wb - 1)) ? c - (1LL << wb) : c;
            if (v.scheme == "pot") return term(c >> e1, c & ((1LL << e1) - 1));
            if (v.scheme == "apot") {
                const long long lo = c & ((1LL << (e2 + 1)) - 1), hi = c >> (e2 + 1);
                return term(hi >> e1, hi & ((1LL << e1) - 1)) + term(lo >> e2, lo & ((1LL << e2) - 1));
            }
            return levels_[c];
        };
        std::vector<int32_t> wint(size_t(co * ci * ct::TAPS));
        for (long long i = 0; i < co * ci * ct::TAPS; ++i) wint[i] = int32_t(decode(v.wcode[i]));
        same("wint", co * ci * ct::TAPS, [&](long long i) { return wint[i]; });
        for (long long i = 0; i < co * ci * ct::TAPS; ++i)
            if (!mask.at(i) && wint[i]) throw Error("vectors.npz: 'wint' has non-zero weights at pruned ('mask' False) positions");
        // acc = conv3x3(act, wint), zero padding (the kernels' reference; = check_acc in Python)
        if (!check_expected_) return;
        std::vector<int64_t> acc(size_t(co * hw), 0);
        for (long long o = 0; o < co; ++o)
            for (long long c = 0; c < ci; ++c)
                for (int t = 0; t < ct::TAPS; ++t) {
                    const int64_t wt = wint[(o * ci + c) * ct::TAPS + t];
                    if (!wt) continue;
                    const int dy = t / 3 - 1, dx = t % 3 - 1;
                    for (long long y = std::max(0LL, -(long long)dy); y < std::min(h, h - dy); ++y)
                        for (long long x = std::max(0LL, -(long long)dx); x < std::min(w, w - dx); ++x)
                            acc[o * hw + y * w + x] += wt * v.act[c * hw + (y + dy) * w + (x + dx)];
                }
        for (long long i = 0; i < co * hw; ++i)
            if (acc[i] != v.acc[i]) throw Error("acc.hex: line " + std::to_string(i + 1) + ": not the convolution of act and the decoded wcode");
    }

    const Json &hex_spec(const std::string &file) { return obj(obj(m_, "hex"), file, "hex."); }

    static int ios_mant_ok(int d) {
        const int m = (d >> 4) & 7;
        return m == 0 || m == 1 || m == 3 || m == 5 || m == 7;
    }
    static long long level_value(int d) {
        const long long val = (long long)((d >> 4) & 7) << (d & 15);
        return (d >> 7) & 1 ? -val : val;
    }
    static int bit_length(unsigned long long x) {
        int n = 0;
        while (x) {
            ++n;
            x >>= 1;
        }
        return n;
    }

    // The hex files, and the semantics that follow from them alone (pymodel.vectors._check_semantics).
    void read_hex_files(VectorSet &v) {
        const long long ci = v.cin, co = v.cout, hw = (long long)v.h * v.w;
        // act.hex is (y, x, ci): transpose to [ci][y][x]
        std::vector<int64_t> a = hex("act.hex", v.a_bits, false, hw * ci);
        v.act.resize(a.size());
        for (long long p = 0; p < hw; ++p)
            for (long long c = 0; c < ci; ++c) v.act[c * hw + p] = uint8_t(a[p * ci + c]);
        v.wcode = narrow<uint8_t>(hex("wcode.hex", v.w_bits, false, co * ci * ct::TAPS));
        v.bias = hex("bias.hex", ct::HEX_BIAS_BITS, true, co);
        v.shift = narrow<uint8_t>(hex("shift.hex", ct::HEX_SHIFT_BITS, false, co));
        v.level_desc = narrow<uint8_t>(hex("levels.hex", ct::HEX_LEVELS_BITS, false, ct::PB_LEVELS));
        lut_ = hex("lut.hex", ct::HEX_LUT_BITS, true, (long long)ct::PB_LEVELS << v.a_bits);
        const std::vector<int64_t> &lut = lut_;
        v.acc = hex("acc.hex", std::max(v.acc_bits, ct::HEX_ACC_MIN_BITS), true, co * hw);
        v.out = narrow<uint8_t>(hex("out.hex", ct::HEX_OUT_BITS, false, co * hw));

        const bool ios = v.scheme == "ios";
        long long levels[16] = {0};
        long long max_w = 0;
        for (int j = 0; j < 16; ++j) {
            const int d = v.level_desc[j];
            if (!ios && d) throw Error("levels.hex: level descriptors must be zeros for scheme " + q(v.scheme));
            if (ios && !ios_mant_ok(d)) throw Error("levels.hex: line " + std::to_string(j + 1) + ": ios mantissa not in 0,1,3,5,7");
            levels[j] = levels_[j] = ios ? level_value(d) : 0;
            max_w = std::max(max_w, std::llabs(levels[j]));
        }
        for (long long x = 0; x < (1LL << v.a_bits); ++x)
            for (int j = 0; j < 16; ++j)
                if (lut[x * 16 + j] != x * levels[j]) throw Error("lut.hex: not the product table v*levels[j]");
        if (v.scheme == "int") max_w = 1LL << (v.w_bits - 1);
        if (v.scheme == "pot") max_w = 1LL << ((1 << v.exp1_bits) - 2);
        if (v.scheme == "apot") max_w = (1LL << ((1 << v.exp1_bits) - 2)) + (1LL << ((1 << v.exp2_bits) - 2));
        // acc_bits of pymodel.codes.acc_bits: bit length of the largest |sum| + 1 (exact in 128 bits)
        const unsigned __int128 bound = (unsigned __int128)ci * ct::TAPS * ((1u << v.a_bits) - 1) * (unsigned long long)max_w;
        int need = 1;
        for (unsigned __int128 b = bound; b; b >>= 1) ++need;
        if (v.acc_bits != need)
            throw Error("manifest.json: acc_bits=" + std::to_string(v.acc_bits) + ", the format needs " + std::to_string(need));
        for (long long c = 0; c < co; ++c)
            if (v.shift[c] > 31) throw Error("shift.hex: line " + std::to_string(c + 1) + ": shift exceeds 31");
        const long long lim = v.acc_bits >= 64 ? 0 : 1LL << (v.acc_bits - 1);
        for (long long i = 0; i < co * hw && v.acc_bits < 64; ++i)
            if (v.acc[i] < -lim || v.acc[i] >= lim) throw Error("acc.hex: line " + std::to_string(i + 1) + ": exceeds acc_bits");
        const long long top = (1LL << v.a_bits) - 1;
        for (long long c = 0; c < co && check_expected_; ++c) {
            const int sh = v.shift[c];
            for (long long p = 0; p < hw; ++p) {
                __int128 r = (__int128)v.acc[c * hw + p] + v.bias[c];
                if (r < 0) r = 0;
                r = (r + (sh ? (__int128)1 << (sh - 1) : 0)) >> sh;
                if (r > top) r = top;
                if (v.out[c * hw + p] != (long long)r)
                    throw Error("out.hex: line " + std::to_string(c * hw + p + 1) + ": not the output stage of acc, bias, shift");
            }
        }
        if (v.pruning == "krp") {
            v.row_idx = narrow<uint8_t>(hex("rowidx.hex", ct::HEX_ROWIDX_BITS, false, co * ci));
            for (size_t i = 0; i < v.row_idx.size(); ++i)
                if (v.row_idx[i] > 2) throw Error("rowidx.hex: line " + std::to_string(i + 1) + ": row index must be 0..2");
        }
        if (v.pruning == "ikr") {
            const long long p = integer(hex_spec("patterns.hex"), "count", 0, kMaxCount, "hex.patterns.hex.");
            if (p < 1 || p > 256) throw Error("manifest.json: patterns.hex count " + std::to_string(p) + ", IKR needs 1..256");
            std::vector<int64_t> pats = hex("patterns.hex", ct::HEX_PATTERNS_BITS, false, p);
            v.patterns.assign(pats.begin(), pats.end());
            const int k = __builtin_popcount(v.patterns[0]);
            for (uint16_t m : v.patterns)
                if (k < 1 || __builtin_popcount(m) != k)
                    throw Error("patterns.hex: patterns must all keep the same number K >= 1 of taps");
            const int id_bits = std::max(1, bit_length((unsigned long long)(p - 1)));
            v.pattern_id = narrow<uint8_t>(hex("patid.hex", id_bits, false, co * ci));
            for (size_t i = 0; i < v.pattern_id.size(); ++i)
                if (v.pattern_id[i] >= p)
                    throw Error("patid.hex: line " + std::to_string(i + 1) + ": pattern id " + std::to_string(v.pattern_id[i]) +
                                " >= " + std::to_string(p) + " patterns");
        }
    }

    // A hex file: `count` lines of exactly ceil(bits/4) lowercase hex digits, each value < 2^bits,
    // as manifest.hex records; signed fields are sign-extended. The size is checked before
    // anything is allocated.
    std::vector<int64_t> hex(const std::string &file, int bits, bool sign, long long count) {
        const Json &spec = hex_spec(file);
        const std::string ctx = "hex." + file + ".";
        const long long have_bits = integer(spec, "bits", 1, 64, ctx);
        if (have_bits != bits)
            throw Error("manifest.json: hex entry for " + file + " has bits=" + std::to_string(have_bits) + ", the format needs " +
                        std::to_string(bits));
        const long long have_count = integer(spec, "count", 0, kMaxCount, ctx);
        if (have_count != count)
            throw Error("manifest.json: hex entry for " + file + " has count=" + std::to_string(have_count) + ", the layer needs " +
                        std::to_string(count));
        const auto listed = data_.find(file);
        if (listed == data_.end()) throw Error("manifest.json: " + file + " is not listed in files (no sha256)");
        const std::string &data = listed->second;
        const int digits = (bits + 3) / 4;
        if ((long long)data.size() % (digits + 1) != 0)
            throw Error(file + ": size " + std::to_string(data.size()) + " is not a whole number of " + std::to_string(digits) +
                        "-digit lines");
        const long long lines = (long long)data.size() / (digits + 1);
        if (lines != count) throw Error(file + ": " + std::to_string(lines) + " values, expected " + std::to_string(count));
        std::vector<int64_t> out;
        out.reserve(size_t(count));
        for (long long line = 0; line < lines; ++line) {
            const size_t p = size_t(line) * (digits + 1);
            if (data[p + digits] != '\n')
                throw Error(file + " line " + std::to_string(line + 1) + ": expected " + std::to_string(digits) + " hex digits");
            uint64_t x = 0;
            for (size_t i = p; i < p + digits; ++i) {
                const char c = data[i];
                const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0)
                    throw Error(file + " line " + std::to_string(line + 1) + ": " + q(data.substr(p, digits)) + " is not lowercase hex");
                x = x << 4 | uint64_t(d);
            }
            if (bits < 64 && (x >> bits))
                throw Error(file + " line " + std::to_string(line + 1) + ": value wider than " + std::to_string(bits) + " bits");
            int64_t val = int64_t(x);
            if (sign && bits < 64 && (x >> (bits - 1)) & 1) val = int64_t(x) - (int64_t(1) << bits);
            out.push_back(val);
        }
        return out;
    }

    template <class T>
    static std::vector<T> narrow(const std::vector<int64_t> &v) {
        return std::vector<T>(v.begin(), v.end());
    }
};

inline VectorSet load(const std::string &dir, bool check_expected = true) { return Loader(dir, check_expected).load(); }

}  // namespace vio

#endif
