// The per-thread decision cache (runtime/cudagate/src/Cache.h): exact keys, invalidation by monitor generation and
// by the gate's unload epoch, two ways per set.
#include "Cache.h"

#include <gtest/gtest.h>

#include <memory>

namespace omega::cudagate {
namespace {

TEST(CudaGateCache, EveryFieldIsPartOfTheKey) {
    auto cache = std::make_unique<DecisionCache>();
    const LaunchKey k{0x7f0000001000, 64, 256, 1024, 0};
    EXPECT_FALSE(cache->find(k, 1, 1));
    cache->insert(k, 1, 1);
    EXPECT_TRUE(cache->find(k, 1, 1));
    for (LaunchKey other : {LaunchKey{0x7f0000001010, 64, 256, 1024, 0}, LaunchKey{0x7f0000001000, 65, 256, 1024, 0},
                            LaunchKey{0x7f0000001000, 64, 512, 1024, 0}, LaunchKey{0x7f0000001000, 64, 256, 0, 0},
                            LaunchKey{0x7f0000001000, 64, 256, 1024, 1}, LaunchKey{0x7f0000001000, 64, 256, 1024, -1}})
        EXPECT_FALSE(cache->find(other, 1, 1));
}

TEST(CudaGateCache, ReloadAndUnloadInvalidate) {
    auto cache = std::make_unique<DecisionCache>();
    const LaunchKey k{0x1000, 1, 32, 0, 0};
    cache->insert(k, 3, 7);
    EXPECT_TRUE(cache->find(k, 3, 7));
    EXPECT_FALSE(cache->find(k, 4, 7));  // a reload: another generation
    EXPECT_FALSE(cache->find(k, 3, 8));  // an unload: another epoch
    cache->insert(k, 4, 7);
    EXPECT_TRUE(cache->find(k, 4, 7));  // the stale entry may stay in the other way: no lookup asks for it again
}

TEST(CudaGateCache, GenerationZeroIsNeverCached) {
    auto cache = std::make_unique<DecisionCache>();
    const LaunchKey zero{};
    cache->insert(zero, 0, 0);
    EXPECT_FALSE(cache->find(zero, 0, 0));  // nor does an empty slot answer for the all-zero key
    cache->insert(zero, 1, 0);
    EXPECT_TRUE(cache->find(zero, 1, 0));
}

TEST(CudaGateCache, HoldsManyKeysAndEvictsWithinASet) {
    auto cache = std::make_unique<DecisionCache>();
    // Sixty-four kernels of one shape: a handful may share a set, and the last two inserted into any set stay.
    for (std::uintptr_t f = 1; f <= 64; ++f) cache->insert({0x10000 + f * 0x40, 8, 128, 0, 0}, 1, 1);
    int found = 0;
    for (std::uintptr_t f = 1; f <= 64; ++f) found += cache->find({0x10000 + f * 0x40, 8, 128, 0, 0}, 1, 1);
    EXPECT_GE(found, 48);
    for (std::uintptr_t f = 61; f <= 64; ++f) EXPECT_TRUE(cache->find({0x10000 + f * 0x40, 8, 128, 0, 0}, 1, 1));
    // A wrong hit is impossible whatever was evicted: keys are compared whole.
    EXPECT_FALSE(cache->find({0x10000 + 65 * 0x40, 8, 128, 0, 0}, 1, 1));
}

}  // namespace
}  // namespace omega::cudagate
