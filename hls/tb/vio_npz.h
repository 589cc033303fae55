// Part of the vector reader (hls/tb/vector_io.h): vectors.npz.
#ifndef VIO_NPZ_H
#define VIO_NPZ_H

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>
#include "vio_base.h"

namespace vio {

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

}  // namespace vio

#endif
