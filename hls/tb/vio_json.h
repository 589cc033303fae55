// Part of the vector reader (hls/tb/vector_io.h): strict JSON and its canonical serialisation.
#ifndef VIO_JSON_H
#define VIO_JSON_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>
#include "vio_base.h"

namespace vio {

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

}  // namespace vio

#endif
