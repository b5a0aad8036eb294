// The per-thread cache of approved launches (docs/gpu.md, "Caching"): a launch whose every request value matches
// an entry approved by the bundle still loaded, with no module unloaded since, skips the monitor. Two-way set
// associative, fixed size, no locks: each thread owns its cache.
#pragma once

#include <cstddef>
#include <cstdint>

namespace omega::cudagate {

// Every value of a gpu.launch request besides the agent (fixed per process): the launched handle stands for
// kernel.module and kernel.name, which the gate derived from it.
struct LaunchKey {
    std::uintptr_t function = 0;
    std::int64_t grid = 0, block = 0, shared = 0;
    std::int32_t device = 0;
    friend bool operator==(const LaunchKey&, const LaunchKey&) = default;
};

// An entry is valid for one monitor generation (a reload changes it) and one gate epoch (a module or library
// unload changes it, since the driver may reuse the handles of what it unloaded).
class DecisionCache {
public:
    static constexpr std::size_t kSets = 128;

    bool find(const LaunchKey& key, std::uint64_t generation, std::uint64_t epoch) const {
        if (generation == 0) return false;
        const Set& set = sets_[index(key)];
        for (const Slot& s : set.ways)
            if (s.generation == generation && s.epoch == epoch && s.key == key) return true;
        return false;
    }

    // Generation 0 (no bundle) is never cached: it is what marks an empty slot.
    void insert(const LaunchKey& key, std::uint64_t generation, std::uint64_t epoch) {
        if (generation == 0) return;
        Set& set = sets_[index(key)];
        Slot& slot = set.ways[set.next];
        set.next ^= 1;
        slot = {key, generation, epoch};
    }

private:
    struct Slot {
        LaunchKey key;
        std::uint64_t generation = 0;
        std::uint64_t epoch = 0;
    };
    struct Set {
        Slot ways[2];
        std::uint8_t next = 0;  // the way the next insertion replaces
    };

    static std::size_t index(const LaunchKey& k) {
        // Handles are heap pointers (low bits mostly zero); shapes repeat. A multiplicative mix of all fields.
        std::uint64_t h = k.function >> 4;
        h = (h ^ static_cast<std::uint64_t>(k.grid)) * 0x9E3779B97F4A7C15ull;
        h = (h ^ static_cast<std::uint64_t>(k.block) ^ (static_cast<std::uint64_t>(k.shared) << 20) ^
             (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.device)) << 40)) *
            0xC2B2AE3D27D4EB4Full;
        return static_cast<std::size_t>(h >> 57) % kSets;
    }

    Set sets_[kSets];
};

}  // namespace omega::cudagate
