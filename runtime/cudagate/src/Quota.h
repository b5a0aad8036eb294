// Device memory held by this process's agent, per device, for gpu.alloc's gpu.bytes_total (docs/gpu.md, "Quotas").
// An allocation reserves its bytes before the decision (so concurrent allocations count each other), and is
// committed to its pointer or handle once the driver succeeded, or rolled back when it was denied or failed.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace omega::cudagate {

class Quota {
public:
    enum class Kind : std::uint8_t { Pointer, Handle };  // a CUdeviceptr, or a cuMemCreate handle

    // Adds `bytes` to `device`'s total and sets `after` to the new total; false (nothing added) when the total
    // would pass INT64_MAX.
    bool reserve(int device, std::uint64_t bytes, std::int64_t& after);
    void rollback(int device, std::uint64_t bytes);
    // Records a reserved allocation under its pointer or handle, so that its free subtracts it.
    void commit(Kind kind, std::uint64_t id, int device, std::uint64_t bytes);
    // Subtracts a recorded allocation; false for one the gate did not record (nothing changes).
    bool release(Kind kind, std::uint64_t id);
    std::int64_t total(int device) const;

private:
    struct Allocation {
        int device;
        std::uint64_t bytes;
    };
    static std::uint64_t slot(Kind kind, std::uint64_t id) { return id ^ (kind == Kind::Handle ? 1ull << 63 : 0); }

    mutable std::mutex mutex_;
    std::unordered_map<int, std::uint64_t> totals_;
    std::unordered_map<std::uint64_t, Allocation> live_;
};

}  // namespace omega::cudagate
