// Per-device running totals of the agent's device memory (Quota.h).
#include "Quota.h"

#include <limits>

namespace omega::cudagate {

bool Quota::reserve(int device, std::uint64_t bytes, std::int64_t& after) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::lock_guard lock(mutex_);
    std::uint64_t& total = totals_[device];
    if (bytes > kMax || total > kMax - bytes) return false;
    total += bytes;
    after = static_cast<std::int64_t>(total);
    return true;
}

void Quota::rollback(int device, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    totals_[device] -= bytes;
}

void Quota::commit(Kind kind, std::uint64_t id, int device, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    // A pointer the driver hands out again was freed behind the gate's back (by a path it does not see): the old
    // record is dropped so that the total does not keep it forever.
    auto [it, inserted] = live_.try_emplace(slot(kind, id), Allocation{device, bytes});
    if (!inserted) {
        totals_[it->second.device] -= it->second.bytes;
        it->second = {device, bytes};
    }
}

bool Quota::release(Kind kind, std::uint64_t id) {
    std::lock_guard lock(mutex_);
    auto it = live_.find(slot(kind, id));
    if (it == live_.end()) return false;
    totals_[it->second.device] -= it->second.bytes;
    live_.erase(it);
    return true;
}

std::int64_t Quota::total(int device) const {
    std::lock_guard lock(mutex_);
    auto it = totals_.find(device);
    return it == totals_.end() ? 0 : static_cast<std::int64_t>(it->second);
}

}  // namespace omega::cudagate
