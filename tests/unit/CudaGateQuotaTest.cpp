// The agent's device-memory totals (runtime/cudagate/src/Quota.h): reserve, commit, roll back, release, per
// device, with overflow refused.
#include "Quota.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace omega::cudagate {
namespace {

TEST(CudaGateQuota, ReserveCommitRelease) {
    Quota q;
    std::int64_t after = 0;
    ASSERT_TRUE(q.reserve(0, 600, after));
    EXPECT_EQ(after, 600);
    q.commit(Quota::Kind::Pointer, 0xA000, 0, 600);
    ASSERT_TRUE(q.reserve(0, 300, after));
    EXPECT_EQ(after, 900);
    q.rollback(0, 300);  // denied, or the driver failed
    EXPECT_EQ(q.total(0), 600);
    EXPECT_TRUE(q.release(Quota::Kind::Pointer, 0xA000));
    EXPECT_EQ(q.total(0), 0);
    EXPECT_FALSE(q.release(Quota::Kind::Pointer, 0xA000));  // twice: nothing more to subtract
    EXPECT_FALSE(q.release(Quota::Kind::Pointer, 0xB000));  // never recorded
    EXPECT_EQ(q.total(0), 0);
}

TEST(CudaGateQuota, PerDeviceAndPerKind) {
    Quota q;
    std::int64_t after = 0;
    ASSERT_TRUE(q.reserve(0, 100, after));
    q.commit(Quota::Kind::Pointer, 42, 0, 100);
    ASSERT_TRUE(q.reserve(1, 50, after));
    EXPECT_EQ(after, 50);
    q.commit(Quota::Kind::Handle, 42, 1, 50);  // a cuMemCreate handle with the same value as a pointer
    EXPECT_TRUE(q.release(Quota::Kind::Handle, 42));
    EXPECT_EQ(q.total(0), 100);
    EXPECT_EQ(q.total(1), 0);
    EXPECT_EQ(q.total(-1), 0);  // no current context: a device of its own
}

TEST(CudaGateQuota, OverflowIsRefused) {
    Quota q;
    std::int64_t after = 0;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    EXPECT_FALSE(q.reserve(0, kMax + 1, after));
    ASSERT_TRUE(q.reserve(0, kMax - 10, after));
    EXPECT_FALSE(q.reserve(0, 11, after));
    EXPECT_EQ(q.total(0), static_cast<std::int64_t>(kMax - 10));
    ASSERT_TRUE(q.reserve(0, 10, after));
    EXPECT_EQ(after, std::numeric_limits<std::int64_t>::max());
}

TEST(CudaGateQuota, AReusedPointerDropsTheStaleRecord) {
    Quota q;
    std::int64_t after = 0;
    ASSERT_TRUE(q.reserve(0, 100, after));
    q.commit(Quota::Kind::Pointer, 0xA000, 0, 100);
    // Freed by a path the gate does not see, then handed out again by the driver.
    ASSERT_TRUE(q.reserve(0, 30, after));
    q.commit(Quota::Kind::Pointer, 0xA000, 0, 30);
    EXPECT_EQ(q.total(0), 30);
    EXPECT_TRUE(q.release(Quota::Kind::Pointer, 0xA000));
    EXPECT_EQ(q.total(0), 0);
}

TEST(CudaGateQuota, ConcurrentReservationsCountEachOther) {
    Quota q;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&q, t] {
            for (int i = 0; i < 1000; ++i) {
                std::int64_t after = 0;
                ASSERT_TRUE(q.reserve(0, 8, after));
                q.commit(Quota::Kind::Pointer, static_cast<std::uint64_t>(t * 1000 + i), 0, 8);
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(q.total(0), 4 * 1000 * 8);
    for (std::uint64_t id = 0; id < 4000; ++id) EXPECT_TRUE(q.release(Quota::Kind::Pointer, id));
    EXPECT_EQ(q.total(0), 0);
}

}  // namespace
}  // namespace omega::cudagate
