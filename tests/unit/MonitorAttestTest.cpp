// Monitor::attest: the binding of the loaded bundle (measurement and module root from one snapshot), the log head
// and the nonce into REPORT_DATA; the attestation logged after the head it binds; failures (no bundle, a failing
// provider, a refusing log) reported, never a report with other data.
#include "MonitorFixture.h"
#include "omega/attest/Merkle.h"
#include "omega/attest/Provider.h"
#include "omega/monitor/Monitor.h"
#include "omega/policy/Load.h"

#include <gtest/gtest.h>

using namespace omega;

namespace {

const char* kTenant = R"(policy shop version 2 by principal "tenant:shop";
agent helper { }
permit tool crm.lookup by agent helper;
)";
const char* kVendor = R"(policy vendor version 7 by principal "vendor:crm" governs tool crm.*;
tool crm.lookup(customer: string);
)";

// A provider that records what it was asked and answers with a report that carries it (the shape of a real one is
// AttestProviderTest's business; here only the data the monitor hands over matters).
class RecordingProvider : public attest::Provider {
public:
    std::string name() const override { return "recording"; }
    bool hardware() const override { return false; }
    attest::Result<attest::Evidence> report(const attest::ReportData& data) override {
        asked.push_back(data);
        if (!error.empty()) return attest::Error{error};
        attest::Evidence e;
        e.report.assign(attest::kReportSize, 0);
        std::copy(data.begin(), data.end(), e.report.begin() + attest::kReportDataAt);
        e.provider = "recording";
        e.certificates = "PEM";
        return e;
    }
    std::vector<attest::ReportData> asked;
    std::string error;
};

class MonitorAttestTest : public ::testing::Test {
protected:
    void SetUp() override {
        key = fixture::newKey();
        bytes = fixture::compileBundle({kTenant, kVendor}, &key);
        ASSERT_FALSE(bytes.empty());
    }
    monitor::Options options() {
        monitor::Options o;
        o.trusted.push_back(key.pub());
        o.log = [this](const monitor::LogEntry& e) -> monitor::Result<std::uint64_t> {
            if (!logError.empty()) return bundle::Error{logError};
            entries.push_back(e);
            return entries.size();
        };
        o.logHead = [this] {
            monitor::LogHead h;
            h.seq = entries.size();
            h.hash.fill(static_cast<std::uint8_t>(entries.size()));
            return h;
        };
        return o;
    }
    fixture::KeyPair key;
    std::vector<std::uint8_t> bytes;
    std::vector<monitor::LogEntry> entries;
    std::string logError;
};

TEST_F(MonitorAttestTest, BindsTheLoadedBundleTheHeadAndTheNonce) {
    monitor::Monitor m(options());
    ASSERT_TRUE(m.load(bytes));
    attest::Nonce nonce{};
    nonce.fill(0x5a);
    RecordingProvider provider;
    auto a = m.attest(nonce, provider);
    ASSERT_TRUE(a) << a.error();

    // The expected binding, computed here from the bundle itself.
    auto loaded = policy::load(bytes, {});
    ASSERT_TRUE(loaded);
    attest::Binding expected;
    expected.measurement = loaded->measurement.bytes;
    expected.modulesRoot = attest::modulesRoot(attest::moduleLeaves(loaded->engine.image()));
    expected.logSeq = 1;  // the load event
    expected.logHash.fill(1);
    expected.nonce = nonce;
    ASSERT_EQ(provider.asked.size(), 1u);
    EXPECT_EQ(provider.asked[0], attest::reportData(expected));
    EXPECT_EQ(a->reportData, attest::reportData(expected));
    EXPECT_EQ(a->binding.modulesRoot, expected.modulesRoot);
    EXPECT_EQ(a->binding.logSeq, 1u);
    EXPECT_EQ(a->generation, 1u);
    EXPECT_EQ(loaded->engine.image().modules.size(), 2u);

    // Logged after the head it binds, with the nonce and REPORT_DATA.
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_NE(entries[1].decision.find("\"event\":\"attest\""), std::string::npos);
    EXPECT_NE(entries[1].decision.find(attest::toHex(nonce)), std::string::npos);
    EXPECT_NE(entries[1].decision.find("\"log_head\":\"1:"), std::string::npos);

    // The evidence JSON carries every bound value and says it is not hardware evidence.
    const std::string json = a->json();
    EXPECT_NE(json.find("\"hardware\":false"), std::string::npos);
    EXPECT_NE(json.find("\"warning\":\"software evidence"), std::string::npos);
    EXPECT_NE(json.find("\"modules_root\":\"" + attest::toHex(expected.modulesRoot) + "\""), std::string::npos);
    EXPECT_NE(json.find("\"gpu_evidence\":null"), std::string::npos);

    // A second attestation binds the newer head; GPU evidence is folded in when given.
    attest::Sha384 gpu{};
    gpu.fill(0x77);
    auto b = m.attest(nonce, provider, gpu);
    ASSERT_TRUE(b);
    expected.logSeq = 2;
    expected.logHash.fill(2);
    expected.gpuEvidence = gpu;
    EXPECT_EQ(b->reportData, attest::reportData(expected));
    EXPECT_NE(b->json().find("\"gpu_evidence\":\"" + attest::toHex(gpu) + "\""), std::string::npos);
}

TEST_F(MonitorAttestTest, Failures) {
    monitor::Monitor m(options());
    RecordingProvider provider;
    attest::Nonce nonce{};
    auto none = m.attest(nonce, provider);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), "attest: no bundle is loaded");
    EXPECT_TRUE(provider.asked.empty());

    ASSERT_TRUE(m.load(bytes));
    provider.error = "the device is gone";
    auto failed = m.attest(nonce, provider);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error(), "attest: recording: the device is gone");

    provider.error.clear();
    logError = "disk full";
    auto unlogged = m.attest(nonce, provider);
    ASSERT_FALSE(unlogged);
    EXPECT_EQ(unlogged.error(), "attest: the decision log refused the record: disk full");
}

TEST_F(MonitorAttestTest, NoLogBindsAnEmptyHead) {
    monitor::Options o;
    o.trusted.push_back(key.pub());
    monitor::Monitor m(std::move(o));
    ASSERT_TRUE(m.load(bytes));
    RecordingProvider provider;
    auto a = m.attest(attest::Nonce{}, provider);
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->binding.logSeq, 0u);
    EXPECT_EQ(a->binding.logHash, attest::Sha256{});
}

}  // namespace
