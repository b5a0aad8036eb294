// Timing single calls with the TSC for latency percentiles (median, p99) beside Google Benchmark's means.
#pragma once

#include <x86intrin.h>

#include <chrono>
#include <cstdint>

namespace omega::bench {

// Nanoseconds per TSC tick, measured against steady_clock once (200 ms).
inline double nsPerTick() {
    static const double value = [] {
        auto t0 = std::chrono::steady_clock::now();
        std::uint64_t c0 = __rdtsc();
        while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
        }
        std::uint64_t c1 = __rdtsc();
        double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        return ns / static_cast<double>(c1 - c0);
    }();
    return value;
}

// The TSC between fences, so that the timed call neither starts early nor finishes late.
inline std::uint64_t fencedTsc() {
    _mm_lfence();
    const std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

}  // namespace omega::bench
