// Golden vector sets (docs/vector_format.md) for the C++ testbenches: manifest.json, the
// sha256 of every listed file, and the $readmemh hex files. The rules are those of
// docs/vector_format.md, "What a valid set is" (pymodel/vector_schema.py is the same schema in
// Python): strict JSON within size and nesting limits, the manifest schema, the manifest's own
// content hash over its canonical serialisation, exactly the set's files as regular files in
// the set folder, and every hex file's syntax, widths and cross-file semantics. Anything
// malformed throws vio::Error with a one-line "<file>: <problem>" message, as
// pymodel.vectors.load_vectors does; tests/test_malformed_sets.py holds both readers to the same
// verdict.
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

namespace vio {

static const int kFormatVersion = 2;
// Limits (docs/vector_format.md; pymodel/vector_schema.py holds the same numbers).
static const int kMaxJsonDepth = 8;
static const long long kMaxManifestBytes = 1LL << 20;
static const long long kMaxFileBytes = 256LL << 20;
static const long long kMaxDim = 65535;
static const long long kMaxCount = 1LL << 31;
static const size_t kMaxText = 4096;

struct Error : std::runtime_error {
    explicit Error(const std::string &m) : std::runtime_error(m) {}
};

// ---------------------------------------------------------------------------------------------
// JSON, strict RFC 8259 (what Python's json module accepts, minus NaN/Infinity, duplicate keys
// and lone surrogate escapes). Numbers keep their text, which the canonical serialisation copies.
struct Json {
    enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
    bool b = false;
    bool is_int = false;  // a number without fraction or exponent
    std::string text;     // number text, or the string's UTF-8 value
    std::vector<Json> arr;
    std::vector<std::pair<std::string, Json>> obj;

    const Json *find(const std::string &key) const {
        for (const auto &kv : obj)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
};

// Byte offset of the first invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF), or npos:
// the sequences Python's strict utf-8 decoder refuses.
inline size_t utf8_error(const std::string &s) {
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = s[i];
        const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0 || i + n >= s.size()) return i;  // a bad lead byte, or a sequence cut off by the end
        uint32_t cp = n ? c & (0x3f >> n) : c;
        for (int k = 1; k <= n; ++k) {
            const unsigned char d = s[i + k];
            if ((d >> 6) != 2) return i;
            cp = cp << 6 | (d & 0x3f);
        }
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n + 1;
    }
    return std::string::npos;
}

// A string from the files, quoted and escaped for an error message (which stays one line).
inline std::string q(const std::string &s) {
    std::string out = "'";
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out += char(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out + "'";
}

inline void put_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xc0 | cp >> 6);
        out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += char(0xe0 | cp >> 12);
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    } else {
        out += char(0xf0 | cp >> 18);
        out += char(0x80 | ((cp >> 12) & 0x3f));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    }
}

class JsonParser {
  public:
    JsonParser(const std::string &s, const std::string &file) : s_(s), file_(file) {}
    Json parse() {
        const size_t bad = utf8_error(s_);
        if (bad != std::string::npos) {
            p_ = bad;
            fail("not UTF-8");
        }
        Json v = value(0);
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
    bool digit() const { return p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9'; }
    Json value(int depth) {
        ws();
        if (p_ >= s_.size()) fail("unexpected end");
        Json v;
        char c = s_[p_];
        if (c == '{' || c == '[') {
            if (depth + 1 > kMaxJsonDepth) fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
            const bool is_obj = c == '{';
            v.kind = is_obj ? Json::Obj : Json::Arr;
            const char close = is_obj ? '}' : ']';
            ++p_;
            ws();
            if (p_ < s_.size() && s_[p_] == close) {
                ++p_;
                return v;
            }
            std::set<std::string> keys;
            for (;;) {
                ws();
                if (is_obj) {
                    if (p_ >= s_.size() || s_[p_] != '"') fail("expected a key");
                    std::string k = str();
                    if (!keys.insert(k).second) fail("duplicate key " + q(k));
                    ws();
                    if (p_ >= s_.size() || s_[p_] != ':') fail("expected ':'");
                    ++p_;
                    v.obj.emplace_back(k, value(depth + 1));
                } else {
                    v.arr.push_back(value(depth + 1));
                }
                ws();
                if (p_ < s_.size() && s_[p_] == ',') {
                    ++p_;
                    continue;
                }
                if (p_ < s_.size() && s_[p_] == close) {
                    ++p_;
                    return v;
                }
                fail(is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
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
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
        const size_t start = p_;
        if (s_[p_] == '-') ++p_;
        if (!digit()) fail("unexpected character");
        if (s_[p_] == '0') {
            ++p_;
        } else {
            while (digit()) ++p_;
        }
        v.is_int = true;
        if (p_ < s_.size() && s_[p_] == '.') {
            ++p_;
            if (!digit()) fail("bad number");
            while (digit()) ++p_;
            v.is_int = false;
        }
        if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
            ++p_;
            if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
            if (!digit()) fail("bad number");
            while (digit()) ++p_;
            v.is_int = false;
        }
        v.kind = Json::Num;
        v.text = s_.substr(start, p_ - start);
        return v;
    }
    unsigned hex4() {
        if (p_ + 4 > s_.size()) fail("bad \\u escape");
        unsigned x = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[p_++];
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) fail("bad \\u escape");
            x = x << 4 | unsigned(d);
        }
        return x;
    }
    std::string str() {
        ++p_;  // opening quote
        std::string out;
        while (p_ < s_.size() && s_[p_] != '"') {
            const unsigned char c = s_[p_++];
            if (c < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += char(c);
                continue;
            }
            if (p_ >= s_.size()) fail("bad escape");
            const char e = s_[p_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = hex4();
                if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone surrogate escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (s_.compare(p_, 2, "\\u") != 0) fail("lone surrogate escape");
                    p_ += 2;
                    const uint32_t lo = hex4();
                    if (lo < 0xdc00 || lo > 0xdfff) fail("lone surrogate escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                put_utf8(out, cp);
                break;
            }
            default: fail("bad escape");
            }
        }
        if (p_ >= s_.size()) fail("unterminated string");
        ++p_;
        return out;
    }
};

// The canonical serialisation the manifest hash covers (docs/vector_format.md): keys sorted by
// code point (= UTF-8 byte order), no whitespace, strings escaped as Python's json.dumps does
// (ASCII only, \uXXXX lowercase), numbers exactly as written in the file.
inline void canonical_string(std::string &out, const std::string &s) {
    static const char *hexd = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = s[i];
        uint32_t cp = c;
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : 3;
        if (n) cp = c & (0x3f >> n);
        for (int k = 1; k <= n; ++k) cp = cp << 6 | (uint32_t(s[i + k]) & 0x3f);
        i += n + 1;
        switch (cp) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        default: break;
        }
        if (cp >= 0x20 && cp <= 0x7e) {
            out += char(cp);
            continue;
        }
        auto u = [&](uint32_t x) {
            out += "\\u";
            for (int sh = 12; sh >= 0; sh -= 4) out += hexd[(x >> sh) & 15];
        };
        if (cp >= 0x10000) {
            u(0xd800 + ((cp - 0x10000) >> 10));
            u(0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            u(cp);
        }
    }
    out += '"';
}

inline void canonical(std::string &out, const Json &v, bool top = false) {
    switch (v.kind) {
    case Json::Null: out += "null"; return;
    case Json::Bool: out += v.b ? "true" : "false"; return;
    case Json::Num: out += v.text; return;
    case Json::Str: canonical_string(out, v.text); return;
    case Json::Arr:
        out += '[';
        for (size_t i = 0; i < v.arr.size(); ++i) {
            if (i) out += ',';
            canonical(out, v.arr[i]);
        }
        out += ']';
        return;
    case Json::Obj: {
        std::vector<const std::pair<std::string, Json> *> kv;
        for (const auto &e : v.obj)
            if (!(top && e.first == "manifest_sha256")) kv.push_back(&e);
        std::sort(kv.begin(), kv.end(), [](const std::pair<std::string, Json> *a, const std::pair<std::string, Json> *b) {
            return a->first < b->first;
        });
        out += '{';
        for (size_t i = 0; i < kv.size(); ++i) {
            if (i) out += ',';
            canonical_string(out, kv[i]->first);
            out += ':';
            canonical(out, kv[i]->second);
        }
        out += '}';
        return;
    }
    }
}

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

inline std::string sha256_hex(const std::string &data) {
    Sha256 sha;
    sha.update(reinterpret_cast<const unsigned char *>(data.data()), data.size());
    return sha.hex();
}

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
// vectors.npz as np.savez writes it: a zip of stored (uncompressed) .npy members, read through
// the local headers (zip64 sizes allowed), CRC-32 checked. Only little-endian u1/b1/i4/i8
// C-order arrays occur in a vector set.
struct NpyArray {
    std::string descr;
    std::vector<long long> shape;
    std::string data;  // raw little-endian bytes
    long long size() const {
        long long n = 1;
        for (long long d : shape) n *= d;
        return n;
    }
    int64_t at(long long i) const {
        const unsigned char *p = reinterpret_cast<const unsigned char *>(data.data());
        if (descr == "|u1") return p[i];
        if (descr == "|b1") return p[i];
        uint64_t x = 0;
        const int w = descr == "<i4" ? 4 : 8;
        for (int k = w - 1; k >= 0; --k) x = x << 8 | p[i * w + k];
        if (w == 4) return int64_t(int32_t(uint32_t(x)));
        return int64_t(x);
    }
};

inline uint32_t crc32(const std::string &d) {
    static uint32_t table[256];
    static bool init = false;
    if (!init) {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        init = true;
    }
    uint32_t c = 0xffffffffu;
    for (unsigned char b : d) c = table[(c ^ b) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

inline std::map<std::string, NpyArray> read_npz(const std::string &z) {
    auto fail = [](const std::string &what) -> void { throw Error("vectors.npz: not a readable numpy archive (" + what + ")"); };
    auto u16 = [&](size_t p) { return uint32_t((unsigned char)z[p]) | uint32_t((unsigned char)z[p + 1]) << 8; };
    auto u32 = [&](size_t p) { return u16(p) | u16(p + 2) << 16; };
    auto u64 = [&](size_t p) { return uint64_t(u32(p)) | uint64_t(u32(p + 4)) << 32; };
    std::map<std::string, NpyArray> out;
    size_t p = 0;
    while (p + 4 <= z.size() && u32(p) == 0x04034b50u) {
        if (p + 30 > z.size()) fail("truncated member header");
        const uint32_t flags = u16(p + 6), method = u16(p + 8), crc = u32(p + 14);
        uint64_t csize = u32(p + 18), usize = u32(p + 22);
        const size_t nlen = u16(p + 26), xlen = u16(p + 28);
        if (method != 0 || (flags & 0x9)) fail("a member is compressed, encrypted or streamed");
        if (p + 30 + nlen + xlen > z.size()) fail("truncated member header");
        const std::string name = z.substr(p + 30, nlen);
        for (size_t x = p + 30 + nlen; x + 4 <= p + 30 + nlen + xlen;) {  // zip64 extra field
            const uint32_t id = u16(x), len = u16(x + 2);
            if (id == 1) {
                size_t f = x + 4;
                if (usize == 0xffffffffu && f + 8 <= x + 4 + len) usize = u64(f), f += 8;
                if (csize == 0xffffffffu && f + 8 <= x + 4 + len) csize = u64(f);
            }
            x += 4 + len;
        }
        const size_t start = p + 30 + nlen + xlen;
        if (csize != usize || csize > z.size() - start) fail("member " + q(name) + " is truncated");
        const std::string data = z.substr(start, size_t(csize));
        if (crc32(data) != crc) fail("bad CRC-32 of member " + q(name));
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0) fail("member " + q(name) + " is not .npy");
        const std::string key = name.substr(0, name.size() - 4);
        if (out.count(key)) fail("member " + q(name) + " twice");
        // .npy: magic, version, header length, the header dict, the data
        if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0) fail(q(name) + " is not .npy");
        const int major = (unsigned char)data[6];
        const size_t hl_size = major == 1 ? 2 : 4;
        if (major < 1 || major > 3 || data.size() < 8 + hl_size) fail(q(name) + " has an unknown .npy version");
        size_t hlen = (unsigned char)data[8] | size_t((unsigned char)data[9]) << 8;
        if (hl_size == 4) hlen |= size_t((unsigned char)data[10]) << 16 | size_t((unsigned char)data[11]) << 24;
        const size_t body = 8 + hl_size + hlen;
        if (body > data.size()) fail(q(name) + " has a truncated header");
        const std::string hdr = data.substr(8 + hl_size, hlen);
        NpyArray a;
        const size_t d0 = hdr.find("'descr': '");
        const size_t s0 = hdr.find("'shape': (");
        if (d0 == std::string::npos || s0 == std::string::npos || hdr.find("'fortran_order': False") == std::string::npos)
            fail(q(name) + " header is not a C-order array");
        a.descr = hdr.substr(d0 + 10, 3);
        int item = a.descr == "|u1" || a.descr == "|b1" ? 1 : a.descr == "<i4" ? 4 : a.descr == "<i8" ? 8 : 0;
        if (!item) item = 0;
        const size_t s1 = hdr.find(')', s0);
        if (s1 == std::string::npos) fail(q(name) + " header has no shape");
        long long cur = -1, total = 1;
        for (size_t i = s0 + 10; i < s1; ++i) {
            const char c = hdr[i];
            if (c >= '0' && c <= '9') {
                cur = (cur < 0 ? 0 : cur) * 10 + (c - '0');
                if (cur > kMaxCount) fail(q(name) + " shape is too large");
            } else if (c == ',' || c == ' ') {
                if (cur >= 0) a.shape.push_back(cur), total *= cur, cur = -1;
                if (total > kMaxCount) fail(q(name) + " shape is too large");
            } else {
                fail(q(name) + " header has a bad shape");
            }
        }
        if (cur >= 0) a.shape.push_back(cur), total *= cur;
        if (total > kMaxCount) fail(q(name) + " shape is too large");
        if (item && (long long)(data.size() - body) != total * item) fail(q(name) + " data size does not match its shape");
        a.data = data.substr(body);
        out[key] = a;
        p = start + size_t(csize);
    }
    if (p + 4 > z.size() || u32(p) != 0x02014b50u) fail("no zip central directory after the members");
    return out;
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

static const char *const kHexNames[] = {"act.hex", "wcode.hex", "bias.hex", "shift.hex", "levels.hex", "lut.hex",
                                        "acc.hex", "out.hex", "rowidx.hex", "patid.hex", "patterns.hex"};

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
        for (const char *n : kHexNames)
            if (f == n) return true;
        return false;
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
        v.w_bits = int(integer(m_, "w_bits", 1, 8));
        v.exp1_bits = int(integer(m_, "exp1_bits", 0, 4));
        v.exp2_bits = int(integer(m_, "exp2_bits", 0, 4));
        v.a_bits = int(integer(m_, "a_bits", 4, 8));
        v.acc_bits = int(integer(m_, "acc_bits", 2, 64));
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
        std::vector<std::string> f(kHexNames, kHexNames + 8);
        if (pruning == "krp") f.push_back("rowidx.hex");
        if (pruning == "ikr") {
            f.push_back("patid.hex");
            f.push_back("patterns.hex");
        }
        return f;
    }
    static std::string order_of(const std::string &f) {
        static const std::map<std::string, std::string> o = {
            {"act.hex", "y,x,ci"}, {"wcode.hex", "co,ci,ky,kx"}, {"bias.hex", "co"},  {"shift.hex", "co"},
            {"levels.hex", "j"},   {"lut.hex", "v,j"},           {"acc.hex", "co,y,x"}, {"out.hex", "co,y,x"},
            {"rowidx.hex", "co,ci"}, {"patid.hex", "co,ci"},     {"patterns.hex", "p"}};
        return o.at(f);
    }

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
            const bool sgn = f == "bias.hex" || f == "lut.hex" || f == "acc.hex";
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
        same("wcode", co * ci * 9, [&](long long i) { return v.wcode[i]; });
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
            same("mask", co * ci * 9, [&](long long i) { return int64_t(i % 9 / 3 == v.row_idx[i / 9]); });
        }
        if (v.pruning == "ikr") {
            same("pattern_id", co * ci, [&](long long i) { return v.pattern_id[i]; });
            same("patterns", p * 9, [&](long long i) { return int64_t(v.patterns[i / 9] >> (i % 9) & 1); });
            same("mask", co * ci * 9, [&](long long i) { return int64_t(v.patterns[v.pattern_id[i / 9]] >> (i % 9) & 1); });
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
        std::vector<int32_t> wint(size_t(co * ci * 9));
        for (long long i = 0; i < co * ci * 9; ++i) wint[i] = int32_t(decode(v.wcode[i]));
        same("wint", co * ci * 9, [&](long long i) { return wint[i]; });
        for (long long i = 0; i < co * ci * 9; ++i)
            if (!mask.at(i) && wint[i]) throw Error("vectors.npz: 'wint' has non-zero weights at pruned ('mask' False) positions");
        // acc = conv3x3(act, wint), zero padding (the kernels' reference; = check_acc in Python)
        if (!check_expected_) return;
        std::vector<int64_t> acc(size_t(co * hw), 0);
        for (long long o = 0; o < co; ++o)
            for (long long c = 0; c < ci; ++c)
                for (int t = 0; t < 9; ++t) {
                    const int64_t wt = wint[(o * ci + c) * 9 + t];
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
        v.wcode = narrow<uint8_t>(hex("wcode.hex", v.w_bits, false, co * ci * 9));
        v.bias = hex("bias.hex", 32, true, co);
        v.shift = narrow<uint8_t>(hex("shift.hex", 8, false, co));
        v.level_desc = narrow<uint8_t>(hex("levels.hex", 8, false, 16));
        lut_ = hex("lut.hex", 32, true, 16LL << v.a_bits);
        const std::vector<int64_t> &lut = lut_;
        v.acc = hex("acc.hex", v.acc_bits > 32 ? v.acc_bits : 32, true, co * hw);
        v.out = narrow<uint8_t>(hex("out.hex", 8, false, co * hw));

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
        const unsigned __int128 bound = (unsigned __int128)ci * 9 * ((1u << v.a_bits) - 1) * (unsigned long long)max_w;
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
            v.row_idx = narrow<uint8_t>(hex("rowidx.hex", 2, false, co * ci));
            for (size_t i = 0; i < v.row_idx.size(); ++i)
                if (v.row_idx[i] > 2) throw Error("rowidx.hex: line " + std::to_string(i + 1) + ": row index must be 0..2");
        }
        if (v.pruning == "ikr") {
            const long long p = integer(hex_spec("patterns.hex"), "count", 0, kMaxCount, "hex.patterns.hex.");
            if (p < 1 || p > 256) throw Error("manifest.json: patterns.hex count " + std::to_string(p) + ", IKR needs 1..256");
            std::vector<int64_t> pats = hex("patterns.hex", 9, false, p);
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
