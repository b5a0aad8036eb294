// The SEV-SNP report format: the facts of the real Milan report (tests/data/sev-snp/README.md), every field at its
// offset for each known version, byte-exact re-encoding, the JSON of `omegac attest show`, and malformed input.
#include "AttestTestData.h"
#include "omega/attest/Binding.h"
#include "omega/attest/Report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

namespace omega::attest {
namespace {

using testdata::Bytes;

template <typename T>
void put(Bytes& b, std::size_t at, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) b.at(at + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

template <std::size_t N>
std::string hexOf(const std::array<std::uint8_t, N>& a) {
    return toHex(a);
}

// A report whose every byte differs from its neighbours' (i * 7 + 1), with the version and algorithm set.
Bytes patterned(std::uint32_t version) {
    Bytes b(kReportSize);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 1);
    put<std::uint32_t>(b, 0x000, version);
    put<std::uint32_t>(b, 0x034, 1);
    return b;
}

::testing::AssertionResult failsWith(const Result<Report>& result, const std::string& needle) {
    if (result.ok()) return ::testing::AssertionFailure() << "parsed; expected an error containing `" << needle << "`";
    if (result.error().find(needle) == std::string::npos) {
        return ::testing::AssertionFailure() << "error `" << result.error() << "` does not contain `" << needle << "`";
    }
    return ::testing::AssertionSuccess();
}

TEST(AttestReport, MilanFacts) {
    const Bytes bytes = testdata::milanReport();
    ASSERT_EQ(bytes.size(), kReportSize);
    auto r = parseReport(bytes);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->version, 2u);
    EXPECT_EQ(r->guestSvn, 0u);
    EXPECT_EQ(r->policy, 0x00000000000b0000u);
    EXPECT_TRUE(r->debugAllowed());
    EXPECT_EQ(r->vmpl, 0u);
    EXPECT_EQ(r->signatureAlgo, 1u);
    ReportData data{};
    std::copy_n("\x01\x02\x03\x04\x05", 5, data.begin());
    EXPECT_EQ(r->reportData, data);
    EXPECT_EQ(hexOf(r->measurement),
              "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
    EXPECT_EQ(r->hostData, (std::array<std::uint8_t, 32>{}));
    EXPECT_EQ(r->reportedTcb.raw, 0x4405000000000002u);
    EXPECT_EQ(r->reportedTcb.bootLoader(), 2);
    EXPECT_EQ(r->reportedTcb.tee(), 0);
    EXPECT_EQ(r->reportedTcb.snp(), 5);
    EXPECT_EQ(r->reportedTcb.microcode(), 0x44);
    // The rest, read off the bytes with xxd.
    EXPECT_EQ(r->currentTcb.raw, 0x4405000000000002u);
    EXPECT_EQ(r->committedTcb.raw, 0x4405000000000002u);
    EXPECT_EQ(r->launchTcb.raw, 0x4405000000000002u);
    EXPECT_EQ(r->platformInfo, 1u);  // SMT enabled
    EXPECT_EQ(r->flags, 0u);
    EXPECT_EQ(r->signingKey(), 0u);
    EXPECT_EQ(r->familyId, (std::array<std::uint8_t, 16>{}));
    EXPECT_EQ(r->imageId, (std::array<std::uint8_t, 16>{}));
    EXPECT_EQ(r->idKeyDigest, (std::array<std::uint8_t, 48>{}));  // launched without an ID block
    EXPECT_EQ(r->authorKeyDigest, (std::array<std::uint8_t, 48>{}));
    EXPECT_EQ(hexOf(r->reportId), "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
    EXPECT_EQ(hexOf(r->reportIdMa), std::string(64, 'f'));
    EXPECT_EQ(hexOf(r->chipId).substr(0, 16), "3ac3fe21e13fb099");
    EXPECT_EQ(r->cpuidFamId, 0);  // version 2: no CPUID fields
    EXPECT_EQ(r->currentMajor, 1);
    EXPECT_EQ(r->currentMinor, 0x31);
    EXPECT_EQ(r->currentBuild, 3);
    EXPECT_EQ(r->committedMajor, 1);
    EXPECT_EQ(r->committedMinor, 0x31);
    EXPECT_EQ(r->committedBuild, 3);
    EXPECT_EQ(hexOf(r->signatureR).substr(0, 8), "4f8e8b5a");
    EXPECT_EQ(hexOf(r->signatureS).substr(0, 8), "e689246b");
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), r->bytes.begin()));
}

TEST(AttestReport, MilanJsonHasTheFacts) {
    auto r = parseReport(testdata::milanReport());
    ASSERT_TRUE(r.ok()) << r.error();
    const std::string json = reportToJson(*r);
    for (const char* fact : {
             "\"version\": 2,",
             "\"guest_svn\": 0,",
             "\"raw\": \"0x00000000000b0000\"",
             "\"smt\": true,",
             "\"reserved_must_be_one\": true,",
             "\"migrate_ma\": false,",
             "\"debug\": true,",
             "\"single_socket\": false,",
             "\"vmpl\": 0,",
             "\"signature_algo\": 1,",
             "\"signature_algo_name\": \"ecdsa-p384-sha384\"",
             "\"report_data\": \"0102030405" /* then zeros */,
             "\"measurement\": \"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a60"
             "8eb0cf2e4872b01\"",
             "\"host_data\": \"0000000000000000000000000000000000000000000000000000000000000000\"",
             "\"raw\": \"0x4405000000000002\"",
             "\"microcode\": 68",
             "\"smt_en\": true,",
             "\"tsme_en\": false,",
             "\"signing_key_name\": \"vcek\"",
             "\"software_chip_id\": false",
             "\"current_minor\": 49,",
         }) {
        EXPECT_NE(json.find(fact), std::string::npos) << "missing " << fact << " in\n" << json;
    }
    EXPECT_NE(json.find("\"report_data\": \"0102030405" + std::string(118, '0') + "\""), std::string::npos);
    EXPECT_EQ(json.find("warning"), std::string::npos);
    EXPECT_EQ(json.find("\"fmc\""), std::string::npos);  // Milan's TCB has no FMC
    // Balanced and one object.
    EXPECT_EQ(std::count(json.begin(), json.end(), '{'), std::count(json.begin(), json.end(), '}'));
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(AttestReport, MilanReencodesByteForByte) {
    const Bytes bytes = testdata::milanReport();
    auto r = parseReport(bytes);
    ASSERT_TRUE(r.ok()) << r.error();
    const auto again = encodeReport(*r);
    EXPECT_TRUE(std::equal(again.begin(), again.end(), bytes.begin()));
}

TEST(AttestReport, EveryFieldAtItsOffset) {
    const Bytes b = patterned(5);
    auto r = parseReport(b);
    ASSERT_TRUE(r.ok()) << r.error();
    const auto le = [&](std::size_t at, std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
        return v;
    };
    const auto at = [&](std::size_t offset, auto const& field) {
        return std::equal(field.begin(), field.end(), b.begin() + static_cast<std::ptrdiff_t>(offset));
    };
    EXPECT_EQ(r->guestSvn, le(0x004, 4));
    EXPECT_EQ(r->policy, le(0x008, 8));
    EXPECT_TRUE(at(0x010, r->familyId));
    EXPECT_TRUE(at(0x020, r->imageId));
    EXPECT_EQ(r->vmpl, le(0x030, 4));
    EXPECT_EQ(r->currentTcb.raw, le(0x038, 8));
    EXPECT_EQ(r->platformInfo, le(0x040, 8));
    EXPECT_EQ(r->flags, le(0x048, 4));
    EXPECT_TRUE(at(0x050, r->reportData));
    EXPECT_TRUE(at(0x090, r->measurement));
    EXPECT_TRUE(at(0x0C0, r->hostData));
    EXPECT_TRUE(at(0x0E0, r->idKeyDigest));
    EXPECT_TRUE(at(0x110, r->authorKeyDigest));
    EXPECT_TRUE(at(0x140, r->reportId));
    EXPECT_TRUE(at(0x160, r->reportIdMa));
    EXPECT_EQ(r->reportedTcb.raw, le(0x180, 8));
    EXPECT_EQ(r->cpuidFamId, b[0x188]);
    EXPECT_EQ(r->cpuidModId, b[0x189]);
    EXPECT_EQ(r->cpuidStep, b[0x18A]);
    EXPECT_TRUE(at(0x1A0, r->chipId));
    EXPECT_EQ(r->committedTcb.raw, le(0x1E0, 8));
    EXPECT_EQ(r->currentBuild, b[0x1E8]);
    EXPECT_EQ(r->currentMinor, b[0x1E9]);
    EXPECT_EQ(r->currentMajor, b[0x1EA]);
    EXPECT_EQ(r->committedBuild, b[0x1EC]);
    EXPECT_EQ(r->committedMinor, b[0x1ED]);
    EXPECT_EQ(r->committedMajor, b[0x1EE]);
    EXPECT_EQ(r->launchTcb.raw, le(0x1F0, 8));
    EXPECT_EQ(r->launchMitVector, le(0x1F8, 8));
    EXPECT_EQ(r->currentMitVector, le(0x200, 8));
    EXPECT_TRUE(at(0x2A0, r->signatureR));
    EXPECT_TRUE(at(0x2E8, r->signatureS));
}

TEST(AttestReport, VersionGatedFields) {
    // Version 2 has neither the CPUID fields nor the mitigation vectors; 3 and 4 have the CPUID fields; 5 both.
    for (std::uint32_t version : {2u, 3u, 4u, 5u}) {
        auto r = parseReport(patterned(version));
        ASSERT_TRUE(r.ok()) << r.error();
        EXPECT_EQ(r->version, version);
        const Bytes b = patterned(version);
        EXPECT_EQ(r->cpuidFamId, version >= 3 ? b[0x188] : 0) << version;
        EXPECT_EQ(r->cpuidStep, version >= 3 ? b[0x18A] : 0) << version;
        EXPECT_EQ(r->launchMitVector != 0, version >= 5) << version;
        EXPECT_EQ(r->currentMitVector != 0, version >= 5) << version;
    }
}

TEST(AttestReport, EncodeRoundTripsEveryVersionWithZeroReservedBytes) {
    for (std::uint32_t version : {2u, 3u, 4u, 5u}) {
        // The patterned report with what each version reserves set to zero.
        auto r = parseReport(patterned(version));
        ASSERT_TRUE(r.ok()) << r.error();
        const auto canonical = encodeReport(*r);
        auto again = parseReport(canonical);
        ASSERT_TRUE(again.ok()) << again.error();
        EXPECT_EQ(encodeReport(*again), canonical) << version;
        EXPECT_EQ(reportToJson(*again), reportToJson(*r)) << version;
        // Reserved ranges are zero; fields are kept.
        EXPECT_EQ(canonical[0x04C], 0);
        EXPECT_EQ(canonical[0x18B], 0);
        EXPECT_EQ(canonical[0x1EB], 0);
        EXPECT_EQ(canonical[0x208], 0);
        EXPECT_EQ(canonical[0x330], 0);
        EXPECT_EQ(canonical[0x1F8] != 0, version >= 5);
        EXPECT_EQ(canonical[0x188] != 0, version >= 3);
    }
}

TEST(AttestReport, WrongSizes) {
    const Bytes milan = testdata::milanReport();
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{0x2A0}, kReportSize - 1, kReportSize + 1, std::size_t{4096}}) {
        Bytes b(size);
        std::copy_n(milan.begin(), std::min(size, milan.size()), b.begin());
        EXPECT_TRUE(failsWith(parseReport(b), "report: " + std::to_string(size) + " bytes, expected 1184")) << size;
    }
}

TEST(AttestReport, UnknownVersions) {
    for (std::uint32_t version : {0u, 1u, 6u, 0x02000000u, 0xffffffffu}) {
        Bytes b = testdata::milanReport();
        put(b, 0x000, version);
        EXPECT_TRUE(failsWith(parseReport(b), "report: version " + std::to_string(version) +
                                                  " is not supported (known versions: 2 to 5)"));
    }
}

TEST(AttestReport, UnknownSignatureAlgorithms) {
    for (std::uint32_t algo : {0u, 2u, 0x100u, 0xffffffffu}) {
        Bytes b = testdata::milanReport();
        put(b, 0x034, algo);
        EXPECT_TRUE(failsWith(parseReport(b), "report: signature algorithm " + std::to_string(algo) +
                                                  " is not supported (only 1, ECDSA P-384 with SHA-384)"));
    }
}

TEST(AttestReport, GarbageNeverCrashes) {
    std::mt19937 random(6);
    for (int i = 0; i < 2000; ++i) {
        Bytes b(i % 3 == 0 ? random() % 2048 : kReportSize);
        for (auto& byte : b) byte = static_cast<std::uint8_t>(random());
        if (i % 2 == 0 && b.size() == kReportSize) {
            put<std::uint32_t>(b, 0, 2 + random() % 4);
            put<std::uint32_t>(b, 0x34, 1);
        }
        auto r = parseReport(b);
        if (!r) {
            EXPECT_FALSE(r.error().empty());
            continue;
        }
        EXPECT_FALSE(reportToJson(*r).empty());
        auto again = parseReport(encodeReport(*r));
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(encodeReport(*again), encodeReport(*r));
    }
}

TEST(AttestReport, JsonDecodesBitsByName) {
    Bytes b(kReportSize);
    put<std::uint32_t>(b, 0x000, 3);
    put<std::uint64_t>(b, 0x008, (1ull << 19) | (1ull << 20) | (1ull << 17) | 0x0201 | (1ull << 40));
    put<std::uint32_t>(b, 0x034, 1);
    put<std::uint64_t>(b, 0x040, (1u << 5) | (1u << 2) | (1ull << 33));
    put<std::uint32_t>(b, 0x048, 1u | (1u << 2));  // AUTHOR_KEY_EN, SIGNING_KEY VLEK
    auto r = parseReport(b);
    ASSERT_TRUE(r.ok()) << r.error();
    const std::string json = reportToJson(*r);
    for (const char* fact :
         {"\"abi_minor\": 1,", "\"abi_major\": 2,", "\"debug\": true,", "\"single_socket\": true,", "\"smt\": false,",
          "\"unknown_bits\": \"0x0000010000000000\"", "\"ecc_en\": true,", "\"alias_check_complete\": true,",
          "\"unknown_bits\": \"0x0000000200000000\"", "\"author_key_en\": true,", "\"mask_chip_key\": false,",
          "\"signing_key\": 1,", "\"signing_key_name\": \"vlek\""}) {
        EXPECT_NE(json.find(fact), std::string::npos) << "missing " << fact << " in\n" << json;
    }
}

TEST(AttestReport, TurinTcbLayoutInJson) {
    // Family 0x1A (Turin) in a version 3 report: TCB bytes are fmc, boot_loader, tee, snp, 3 reserved, microcode.
    Bytes b(kReportSize);
    put<std::uint32_t>(b, 0x000, 3);
    put<std::uint32_t>(b, 0x034, 1);
    put<std::uint64_t>(b, 0x180, 0x4800000004030201ull);
    b[0x188] = 0x1A;
    auto r = parseReport(b);
    ASSERT_TRUE(r.ok()) << r.error();
    const std::string json = reportToJson(*r);
    const auto reported = json.substr(json.find("\"reported_tcb\""));
    for (const char* fact : {"\"fmc\": 1,", "\"boot_loader\": 2,", "\"tee\": 3,", "\"snp\": 4,", "\"microcode\": 72"}) {
        EXPECT_NE(reported.find(fact), std::string::npos) << "missing " << fact << " in\n" << reported;
    }
}

}  // namespace
}  // namespace omega::attest
