// The C++ vector reader alone (no kernel): `vector_check DIR...` loads each set with
// vio::load as the testbenches do. exit 0 and "ok <name>" per set, or exit 2 with one line
// "error: DIR: <file>: <problem>". tests/test_malformed_sets.py compares its verdicts with
// pymodel's on the same malformed sets.
#include <cstdio>
#include <new>

#include "vector_io.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: vector_check VECTOR_SET_DIR...\n");
        return 2;
    }
    for (int a = 1; a < argc; ++a) {
        try {
            const vio::VectorSet v = vio::load(argv[a]);
            std::printf("ok %s\n", v.name.c_str());
        } catch (const vio::Error &e) {
            std::fprintf(stderr, "error: %s: %s\n", argv[a], e.what());
            return 2;
        } catch (const std::bad_alloc &) {
            std::fprintf(stderr, "error: %s: out of memory while reading the vector set\n", argv[a]);
            return 2;
        } catch (const std::exception &e) {
            std::fprintf(stderr, "error: %s: %s\n", argv[a], e.what());
            return 2;
        }
    }
    return 0;
}
