// The vector reader's limits and its one error type (hls/tb/vector_io.h and its parts).
#ifndef VIO_BASE_H
#define VIO_BASE_H

#include <cstddef>
#include <stdexcept>
#include <string>

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

}  // namespace vio

#endif
