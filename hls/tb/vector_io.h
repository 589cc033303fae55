// Golden vector sets (docs/vector_format.md) for the C++ testbenches: manifest.json, the
// sha256 of every listed file, and the $readmemh hex files. Anything malformed throws
// vio::Error with a one-line "<file>: <problem>" message, as pymodel.vectors.load_vectors does.
// (The manifest's own content hash needs Python's exact JSON serialisation; `python -m
// pymodel check` verifies it. Everything the kernels consume is checked here.)
#ifndef VECTOR_IO_H
#define VECTOR_IO_H

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace vio {

static const int kFormatVersion = 2;

struct Error : std::runtime_error {
    explicit Error(const std::string &m) : std::runtime_error(m) {}
};

// ---------------------------------------------------------------------------------------------
// JSON (RFC 8259 subset: everything manifest.json uses; numbers keep their text)
struct Json {
    enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
    bool b = false;
    std::string text;  // number text or string value
    std::vector<Json> arr;
    std::vector<std::pair<std::string, Json>> obj;

    const Json *find(const std::string &key) const {
        for (const auto &kv : obj)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
};

class JsonParser {
  public:
    JsonParser(const std::string &s, const std::string &file) : s_(s), file_(file) {}
    Json parse() {
        Json v = value();
        ws();
        if (p_ != s_.size()) fail("trailing characters");
        return v;
    }

  private:
    const std::string &s_;
    std::string file_;
    size_t p_ = 0;

    [[noreturn]] void fail(const std::string &what) {
        throw Error(file_ + ": not valid JSON (" + what + " at byte " + std::to_string(p_) + ")");
    }
    void ws() {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
    }
    bool lit(const char *w) {
        size_t n = std::strlen(w);
        if (s_.compare(p_, n, w) == 0) {
            p_ += n;
            return true;
        }
        return false;
    }
    Json value() {
        ws();
        if (p_ >= s_.size()) fail("unexpected end");
        Json v;
        char c = s_[p_];
        if (c == '{') {
            v.kind = Json::Obj;
            ++p_;
            ws();
            if (p_ < s_.size() && s_[p_] == '}') {
                ++p_;
                return v;
            }
            for (;;) {
                ws();
                if (p_ >= s_.size() || s_[p_] != '"') fail("expected a key");
                std::string k = str();
                ws();
                if (p_ >= s_.size() || s_[p_] != ':') fail("expected ':'");
                ++p_;
                v.obj.emplace_back(k, value());
                ws();
                if (p_ < s_.size() && s_[p_] == ',') {
                    ++p_;
                    continue;
                }
                if (p_ < s_.size() && s_[p_] == '}') {
                    ++p_;
                    return v;
                }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = Json::Arr;
            ++p_;
            ws();
            if (p_ < s_.size() && s_[p_] == ']') {
                ++p_;
                return v;
            }
            for (;;) {
                v.arr.push_back(value());
                ws();
                if (p_ < s_.size() && s_[p_] == ',') {
                    ++p_;
                    continue;
                }
                if (p_ < s_.size() && s_[p_] == ']') {
                    ++p_;
                    return v;
                }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = Json::Str;
            v.text = str();
            return v;
        }
        if (lit("true")) {
            v.kind = Json::Bool;
            v.b = true;
            return v;
        }
        if (lit("false")) {
            v.kind = Json::Bool;
            return v;
        }
        if (lit("null")) return v;
        if (lit("NaN") || lit("Infinity") || lit("-Infinity")) {  // Python's json.dumps extension
            v.kind = Json::Num;
            v.text = "nan";
            return v;
        }
        size_t start = p_;
        if (s_[p_] == '-') ++p_;
        while (p_ < s_.size() && (std::isdigit((unsigned char)s_[p_]) || std::strchr(".eE+-", s_[p_]))) ++p_;
        if (p_ == start) fail("unexpected character");
        v.kind = Json::Num;
        v.text = s_.substr(start, p_ - start);
        return v;
    }
    std::string str() {
        ++p_;  // opening quote
        std::string out;
        while (p_ < s_.size() && s_[p_] != '"') {
            char c = s_[p_++];
            if (c == '\\') {
                if (p_ >= s_.size()) fail("bad escape");
                char e = s_[p_++];
                switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u':
                    if (p_ + 4 > s_.size()) fail("bad \\u escape");
                    p_ += 4;
                    out += '?';  // non-ASCII text only appears in descriptive fields
                    break;
                default: out += e;
                }
            } else {
                out += c;
            }
        }
        if (p_ >= s_.size()) fail("unterminated string");
        ++p_;
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// SHA-256 (FIPS 180-4)
class Sha256 {
  public:
    Sha256() { reset(); }
    void update(const unsigned char *d, size_t n) {
        len_ += n;
        while (n) {
            size_t k = std::min(n, size_t(64) - fill_);
            std::memcpy(buf_ + fill_, d, k);
            fill_ += k;
            d += k;
            n -= k;
            if (fill_ == 64) {
                block(buf_);
                fill_ = 0;
            }
        }
    }
    std::string hex() {
        uint64_t bits = len_ * 8;
        unsigned char pad = 0x80;
        update(&pad, 1);
        unsigned char z = 0;
        while (fill_ != 56) update(&z, 1);
        unsigned char lenb[8];
        for (int i = 0; i < 8; ++i) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
        update(lenb, 8);
        char out[65];
        for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h_[i]);
        return std::string(out, 64);
    }

  private:
    uint32_t h_[8];
    unsigned char buf_[64];
    size_t fill_ = 0;
    uint64_t len_ = 0;
    static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
    void reset() {
        static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        std::memcpy(h_, init, sizeof h_);
        fill_ = 0;
        len_ = 0;
    }
    void block(const unsigned char *p) {
        static const uint32_t k[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; ++i) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
        for (int i = 0; i < 64; ++i) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h_[0] += a;
        h_[1] += b;
        h_[2] += c;
        h_[3] += d;
        h_[4] += e;
        h_[5] += f;
        h_[6] += g;
        h_[7] += h;
    }
};

inline std::string read_file(const std::string &path, const std::string &label) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(label + ": cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
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

class Loader {
  public:
    explicit Loader(const std::string &dir) : dir_(dir) {}

    VectorSet load() {
        VectorSet v;
        v.dir = dir_;
        if (!is_dir(dir_)) throw Error(dir_ + ": not a directory (expected a vector set from `make vectors`)");
        const std::string text = read_file(dir_ + "/manifest.json", "manifest.json");
        m_ = JsonParser(text, "manifest.json").parse();
        if (m_.kind != Json::Obj) throw Error("manifest.json: not a JSON object");
        if (str(m_, "format") != "conv-vectors")
            throw Error("manifest.json: format is '" + str(m_, "format") + "', expected 'conv-vectors'");
        const long long version = num(m_, "version");
        if (version != kFormatVersion)
            throw Error("manifest.json: vector format version " + std::to_string(version) + ", this testbench reads version " +
                        std::to_string(kFormatVersion) + " (re-export with `make vectors`)");
        v.name = str(m_, "name");
        v.scheme = str(m_, "scheme");
        v.scheme_tag = str(m_, "scheme_tag");
        v.pruning = str(m_, "pruning");
        v.weights_source = str(m_, "weights_source");
        v.a_bits = int(num(m_, "a_bits"));
        v.w_bits = int(num(m_, "w_bits"));
        v.exp1_bits = int(num(m_, "exp1_bits"));
        v.exp2_bits = int(num(m_, "exp2_bits"));
        v.acc_bits = int(num(m_, "acc_bits"));
        const Json &layer = obj(m_, "layer");
        v.cin = int(num(layer, "cin", "layer."));
        v.cout = int(num(layer, "cout", "layer."));
        v.h = int(num(layer, "h", "layer."));
        v.w = int(num(layer, "w", "layer."));
        if (num(layer, "k", "layer.") != 3 || num(layer, "stride", "layer.") != 1 || num(layer, "pad", "layer.") != 1)
            throw Error("manifest.json: layer is not 3x3, stride 1, pad 1");
        if (v.cin <= 0 || v.cout <= 0 || v.h <= 0 || v.w <= 0) throw Error("manifest.json: layer dimensions must be positive");
        if (v.a_bits < 4 || v.a_bits > 8) throw Error("manifest.json: a_bits " + std::to_string(v.a_bits) + " not in 4..8");
        if (v.w_bits < 1 || v.w_bits > 8) throw Error("manifest.json: w_bits " + std::to_string(v.w_bits) + " not in 1..8");

        check_files();
        const long long ci = v.cin, co = v.cout, hw = (long long)v.h * v.w;
        // act.hex is (y, x, ci): transpose to [ci][y][x]
        std::vector<int64_t> a = hex("act.hex", v.a_bits, false, hw * ci);
        v.act.resize(a.size());
        for (long long p = 0; p < hw; ++p)
            for (long long c = 0; c < ci; ++c) v.act[c * hw + p] = uint8_t(a[p * ci + c]);
        v.wcode = narrow<uint8_t>(hex("wcode.hex", v.w_bits, false, co * ci * 9));
        v.bias = hex("bias.hex", 32, true, co);
        v.shift = narrow<uint8_t>(hex("shift.hex", 8, false, co));
        v.level_desc = narrow<uint8_t>(hex("levels.hex", 8, false, 16));
        v.acc = hex("acc.hex", v.acc_bits > 32 ? v.acc_bits : 32, true, co * hw);
        v.out = narrow<uint8_t>(hex("out.hex", 8, false, co * hw));
        for (long long i = 0; i < co * hw; ++i)
            if (v.out[i] >= (1 << v.a_bits)) throw Error("out.hex: value " + std::to_string(v.out[i]) + " >= 2^a_bits");
        if (v.pruning == "krp") {
            v.row_idx = narrow<uint8_t>(hex("rowidx.hex", 2, false, co * ci));
            for (uint8_t r : v.row_idx)
                if (r > 2) throw Error("rowidx.hex: row index " + std::to_string(r) + " (must be 0..2)");
        }
        if (v.pruning == "ikr") {
            const Json &spec = hex_spec("patterns.hex");
            const long long p = num(spec, "count", "hex.patterns.hex.");
            if (p < 1 || p > 65536) throw Error("manifest.json: patterns.hex count " + std::to_string(p) + " out of range");
            std::vector<int64_t> pats = hex("patterns.hex", 9, false, p);
            v.patterns.assign(pats.begin(), pats.end());
            const int id_bits = int(num(hex_spec("patid.hex"), "bits", "hex.patid.hex."));
            v.pattern_id = narrow<uint8_t>(hex("patid.hex", id_bits, false, co * ci));
            for (uint8_t id : v.pattern_id)
                if (id >= p) throw Error("patid.hex: pattern id " + std::to_string(id) + " >= " + std::to_string(p) + " patterns");
        }
        return v;
    }

  private:
    std::string dir_;
    Json m_;
    std::map<std::string, std::string> data_;  // every listed file, read once by check_files()

    const Json &obj(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json *j = o.find(key);
        if (!j || j->kind != Json::Obj) throw Error("manifest.json: missing or non-object key '" + ctx + key + "'");
        return *j;
    }
    std::string str(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json *j = o.find(key);
        if (!j || j->kind != Json::Str) throw Error("manifest.json: missing or non-string key '" + ctx + key + "'");
        return j->text;
    }
    long long num(const Json &o, const std::string &key, const std::string &ctx = "") {
        const Json *j = o.find(key);
        if (!j || j->kind != Json::Num) throw Error("manifest.json: missing or non-numeric key '" + ctx + key + "'");
        char *end = nullptr;
        long long x = std::strtoll(j->text.c_str(), &end, 10);
        if (*end) throw Error("manifest.json: key '" + ctx + key + "' is not an integer (" + j->text + ")");
        return x;
    }
    const Json &hex_spec(const std::string &file) {
        const Json &hx = obj(m_, "hex");
        const Json *s = hx.find(file);
        if (!s || s->kind != Json::Obj) throw Error("manifest.json: no hex entry for " + file);
        return *s;
    }

    // Every file the manifest lists: present, of the recorded size, with the recorded sha256.
    void check_files() {
        const Json &files = obj(m_, "files");
        for (const auto &kv : files.obj) {
            const std::string &f = kv.first;
            const std::string path = dir_ + "/" + f;
            struct stat st;
            if (stat(path.c_str(), &st) != 0) throw Error(f + ": listed in manifest.json but missing");
            const long long bytes = num(kv.second, "bytes", "files." + f + ".");
            if ((long long)st.st_size != bytes)
                throw Error(f + ": " + std::to_string((long long)st.st_size) + " bytes, manifest says " + std::to_string(bytes) +
                            " (truncated or replaced)");
            const std::string &data = data_[f] = read_file(path, f);
            Sha256 sha;
            sha.update(reinterpret_cast<const unsigned char *>(data.data()), data.size());
            if (sha.hex() != str(kv.second, "sha256", "files." + f + "."))
                throw Error(f + ": sha256 mismatch (file changed since export)");
        }
    }

    // A hex file: `count` lines of exactly ceil(bits/4) lowercase hex digits, as manifest.hex
    // records; signed fields are sign-extended.
    std::vector<int64_t> hex(const std::string &file, int bits, bool sign, long long count) {
        const Json &spec = hex_spec(file);
        if (num(spec, "bits", "hex." + file + ".") != bits)
            throw Error("manifest.json: " + file + " is " + std::to_string(num(spec, "bits", "hex." + file + ".")) +
                        " bits wide, expected " + std::to_string(bits));
        if (num(spec, "count", "hex." + file + ".") != count)
            throw Error("manifest.json: " + file + " has count " + std::to_string(num(spec, "count", "hex." + file + ".")) +
                        ", the layer needs " + std::to_string(count));
        const auto listed = data_.find(file);
        if (listed == data_.end()) throw Error("manifest.json: " + file + " is not listed in files (no sha256)");
        const std::string &data = listed->second;
        const int digits = (bits + 3) / 4;
        std::vector<int64_t> out;
        out.reserve(count);
        size_t p = 0;
        long long line = 0;
        while (p < data.size()) {
            size_t e = data.find('\n', p);
            if (e == std::string::npos) throw Error(file + ": last line has no newline (truncated?)");
            ++line;
            if (e - p != size_t(digits))
                throw Error(file + " line " + std::to_string(line) + ": expected " + std::to_string(digits) + " hex digits");
            uint64_t x = 0;
            for (size_t i = p; i < e; ++i) {
                char c = data[i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0) throw Error(file + " line " + std::to_string(line) + ": '" + data.substr(p, e - p) + "' is not lowercase hex");
                x = x << 4 | uint64_t(d);
            }
            if (bits < 64 && (x >> bits)) throw Error(file + " line " + std::to_string(line) + ": value wider than " + std::to_string(bits) + " bits");
            int64_t val = int64_t(x);
            if (sign && bits < 64 && (x >> (bits - 1)) & 1) val = int64_t(x) - (int64_t(1) << bits);
            out.push_back(val);
            p = e + 1;
        }
        if ((long long)out.size() != count)
            throw Error(file + ": " + std::to_string(out.size()) + " values, expected " + std::to_string(count));
        return out;
    }

    template <class T>
    static std::vector<T> narrow(const std::vector<int64_t> &v) {
        return std::vector<T>(v.begin(), v.end());
    }
};

inline VectorSet load(const std::string &dir) { return Loader(dir).load(); }

}  // namespace vio

#endif
