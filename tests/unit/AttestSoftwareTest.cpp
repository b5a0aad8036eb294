// The software authority: a chain of AMD's shape whose names say NOT AMD, reports it signs verify only when its
// root is trusted explicitly and always say they are software, and it saves and loads (vcek.key mode 0600).
#include "AttestTestData.h"
#include "omega/attest/Software.h"
#include "omega/attest/Verify.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace omega::attest {
namespace {

namespace fs = std::filesystem;
using testdata::Bytes;

SoftwareAuthority generated() {
    const auto start = std::chrono::steady_clock::now();
    auto a = SoftwareAuthority::generate();
    if (!a) {
        ADD_FAILURE() << a.error();
        std::abort();
    }
    std::printf("generated in %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return *a;
}

// Two authorities for the whole suite: RSA-4096 key generation takes a second or two.
const SoftwareAuthority& authority() {
    static const SoftwareAuthority a = generated();
    return a;
}
const SoftwareAuthority& otherAuthority() {
    static const SoftwareAuthority a = generated();
    return a;
}

Report fields() {
    Report r;
    r.version = 2;
    r.policy = 0x30000;  // SMT allowed, bit 17, no debug
    r.vmpl = 0;
    r.reportedTcb.raw = r.currentTcb.raw = r.committedTcb.raw = r.launchTcb.raw = 0x4405000000000002;
    r.reportData.fill(0x5a);
    r.measurement.fill(0x11);
    return r;
}

Bytes bytesOf(const Report& r) {
    return Bytes(r.bytes.begin(), r.bytes.end());
}

std::vector<Certificate> chainOf(const SoftwareAuthority& a) {
    return {a.chain().vcek, a.chain().ask, a.chain().ark};
}

VerifyOptions trustingItsRoot(const SoftwareAuthority& a) {
    VerifyOptions o;
    o.trustedRoots = {a.chain().ark};
    return o;
}

std::string describe(const Verdict& v) {
    std::string out;
    for (const Check& c : v.checks) out += (c.ok ? "  ok   " : "  FAIL ") + c.name + ": " + c.detail + "\n";
    return out;
}

// A fresh directory named after the test (and `suffix`), removed afterwards.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& suffix = "")
        : path(fs::temp_directory_path() / ("omega-attest-software-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix)) {
        fs::remove_all(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

TEST(AttestSoftware, ChainHasAmdsShapeAndSaysNotAmd) {
    const Chain& c = authority().chain();
    for (const Certificate* cert : {&c.ark, &c.ask, &c.vcek}) {
        EXPECT_NE(cert->subject().find("Omega software SEV-SNP stand-in (NOT AMD\\, not hardware evidence)"),
                  std::string::npos)
            << cert->subject();
    }
    EXPECT_EQ(c.ark.subject(), c.ark.issuer());
    EXPECT_EQ(c.ask.issuer(), c.ark.subject());
    EXPECT_EQ(c.vcek.issuer(), c.ask.subject());
    const std::int64_t now = std::time(nullptr);
    EXPECT_LE(c.vcek.notBefore(), now);
    EXPECT_GE(c.vcek.notAfter(), now + 6 * 365 * 86400);
    EXPECT_GE(c.ark.notAfter(), now + 20 * 365 * 86400);
    auto assembled = assembleChain({c.ark, c.vcek, c.ask});
    ASSERT_TRUE(assembled.ok()) << assembled.error();
    for (const KnownRoot& root : knownAmdRoots()) EXPECT_NE(root.fingerprint, c.ark.fingerprint());
    // VCEK, ASK, ARK as PEM.
    const std::string pem = authority().chainPem();
    auto parsed = parseCertificates(Bytes(pem.begin(), pem.end()));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    ASSERT_EQ(parsed->size(), 3u);
    EXPECT_EQ((*parsed)[0].fingerprint(), c.vcek.fingerprint());
    EXPECT_EQ((*parsed)[1].fingerprint(), c.ask.fingerprint());
    EXPECT_EQ((*parsed)[2].fingerprint(), c.ark.fingerprint());
}

TEST(AttestSoftware, SignedReportVerifiesOnlyWithItsRootTrusted) {
    auto signed_ = authority().sign(fields());
    ASSERT_TRUE(signed_.ok()) << signed_.error();
    const Verdict v = verify(bytesOf(*signed_), chainOf(authority()), trustingItsRoot(authority()));
    EXPECT_TRUE(v.accepted) << describe(v);
    EXPECT_TRUE(v.software);
    for (const Check& c : v.checks) EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
    bool sawAnchor = false;
    for (const Check& c : v.checks) {
        if (c.name == "chain.trust-anchor") {
            sawAnchor = true;
            EXPECT_NE(c.detail.find("NOT hardware evidence"), std::string::npos) << c.detail;
        }
    }
    EXPECT_TRUE(sawAnchor);

    const Verdict untrusted = verify(bytesOf(*signed_), chainOf(authority()), {});
    EXPECT_FALSE(untrusted.accepted);
    EXPECT_TRUE(untrusted.software);
    ASSERT_NE(untrusted.firstFailure(), nullptr);
    EXPECT_EQ(untrusted.firstFailure()->name, "chain.trust-anchor");

    // Trusting the Milan root (or any other) does not make a software chain acceptable.
    VerifyOptions milan;
    milan.trustedRoots = {testdata::milanChain()[2]};
    EXPECT_FALSE(verify(bytesOf(*signed_), chainOf(authority()), milan).accepted);
}

TEST(AttestSoftware, SignSetsTheMarkersAndKeepsTheFields) {
    Report in = fields();
    in.signatureAlgo = 7;
    in.flags = 0x1f;  // AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY 7
    in.chipId.fill(0xee);
    auto out = authority().sign(in);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(out->signatureAlgo, 1u);
    EXPECT_TRUE(isSoftwareChipId(out->chipId));
    EXPECT_EQ(out->signingKey(), 0u);
    EXPECT_EQ(out->flags, 1u);  // AUTHOR_KEY_EN kept
    EXPECT_EQ(out->reportData, in.reportData);
    EXPECT_EQ(out->measurement, in.measurement);
    EXPECT_EQ(out->policy, in.policy);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(out->chipId.data())),
              "OMEGA SOFTWARE SEV-SNP STAND-IN: NOT HARDWARE EVIDENCE");
    const std::string json = reportToJson(*out);
    EXPECT_NE(json.find("\"warning\": \"software stand-in report, signed by a local key: NOT hardware evidence\""),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("\"software_chip_id\": true"), std::string::npos);
    // A Milan report is not software.
    auto milan = parseReport(testdata::milanReport());
    ASSERT_TRUE(milan.ok());
    EXPECT_FALSE(isSoftwareChipId(milan->chipId));
    // Signatures are randomised (ECDSA), reports stay verifiable.
    auto again = authority().sign(in);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(again->signatureR, out->signatureR);
    EXPECT_TRUE(verify(bytesOf(*again), chainOf(authority()), trustingItsRoot(authority())).accepted);
}

TEST(AttestSoftware, EveryVersionSigns) {
    for (std::uint32_t version : {2u, 3u, 4u, 5u}) {
        Report in = fields();
        in.version = version;
        in.cpuidFamId = 0x19;
        in.launchMitVector = 3;
        auto out = authority().sign(in);
        ASSERT_TRUE(out.ok()) << out.error();
        EXPECT_EQ(out->cpuidFamId, version >= 3 ? 0x19 : 0);
        EXPECT_EQ(out->launchMitVector, version >= 5 ? 3u : 0u);
        EXPECT_TRUE(verify(bytesOf(*out), chainOf(authority()), trustingItsRoot(authority())).accepted) << version;
    }
    Report bad = fields();
    bad.version = 9;
    EXPECT_FALSE(authority().sign(bad).ok());
}

TEST(AttestSoftware, TamperingFails) {
    auto signed_ = authority().sign(fields());
    ASSERT_TRUE(signed_.ok()) << signed_.error();
    const Bytes original = bytesOf(*signed_);
    for (std::size_t i = 0; i < kSignatureAt + 2 * kSignatureComponent; i += 7) {
        Bytes b = original;
        b[i] ^= 0x40;
        EXPECT_FALSE(verify(b, chainOf(authority()), trustingItsRoot(authority())).accepted) << i;
    }
}

TEST(AttestSoftware, PolicyChecksApply) {
    Report in = fields();
    in.vmpl = 1;
    in.policy |= 1u << 19;
    auto signed_ = authority().sign(in);
    ASSERT_TRUE(signed_.ok());
    VerifyOptions options = trustingItsRoot(authority());
    options.allowDebug = false;
    options.maxVmpl = 0;
    options.expectedReportData = fields().reportData;
    const Verdict v = verify(bytesOf(*signed_), chainOf(authority()), options);
    EXPECT_FALSE(v.accepted);
    ASSERT_NE(v.firstFailure(), nullptr);
    EXPECT_EQ(v.firstFailure()->name, "policy.debug");
    int failed = 0;
    for (const Check& c : v.checks) failed += !c.ok;
    EXPECT_EQ(failed, 2);  // policy.debug and policy.vmpl; report.report-data matches
}

TEST(AttestSoftware, AnotherAuthorityIsAnotherChain) {
    auto signed_ = otherAuthority().sign(fields());
    ASSERT_TRUE(signed_.ok());
    // Its own chain, but our root trusted: not accepted.
    EXPECT_FALSE(verify(bytesOf(*signed_), chainOf(otherAuthority()), trustingItsRoot(authority())).accepted);
    // Our chain, its report: the signature fails.
    const Verdict v = verify(bytesOf(*signed_), chainOf(authority()), trustingItsRoot(authority()));
    ASSERT_NE(v.firstFailure(), nullptr);
    EXPECT_EQ(v.firstFailure()->name, "report.signature");
}

TEST(AttestSoftware, SaveAndLoad) {
    TempDir dir;
    auto saved = authority().save(dir.path.string());
    ASSERT_TRUE(saved.ok()) << saved.error();
    for (const char* name : {"ark.pem", "ask.pem", "vcek.pem", "vcek.key"}) {
        EXPECT_TRUE(fs::exists(dir.path / name)) << name;
    }
    struct stat st {};
    ASSERT_EQ(::stat((dir.path / "vcek.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(fs::exists(dir.path / "vcek.key.tmp"));

    auto loaded = SoftwareAuthority::load(dir.path.string());
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_EQ(loaded->chain().ark.fingerprint(), authority().chain().ark.fingerprint());
    EXPECT_EQ(loaded->chain().ask.fingerprint(), authority().chain().ask.fingerprint());
    EXPECT_EQ(loaded->chain().vcek.fingerprint(), authority().chain().vcek.fingerprint());
    EXPECT_EQ(loaded->chainPem(), authority().chainPem());
    auto signed_ = loaded->sign(fields());
    ASSERT_TRUE(signed_.ok()) << signed_.error();
    EXPECT_TRUE(verify(bytesOf(*signed_), chainOf(authority()), trustingItsRoot(authority())).accepted);

    // Saving again over the same directory keeps the key private even if someone loosened it.
    ASSERT_EQ(::chmod((dir.path / "vcek.key").c_str(), 0644), 0);
    ASSERT_TRUE(loaded->save(dir.path.string()).ok());
    ASSERT_EQ(::stat((dir.path / "vcek.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(AttestSoftware, LoadRefusesWhatIsNotItsOwn) {
    TempDir dir;
    EXPECT_NE(SoftwareAuthority::load(dir.path.string()).error().find("cannot read"), std::string::npos);
    ASSERT_TRUE(authority().save(dir.path.string()).ok());
    const std::string key = readText(dir.path / "vcek.key"), ark = readText(dir.path / "ark.pem");

    // Another P-384 key.
    EVP_PKEY* stranger = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, stranger, nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* pem = nullptr;
    const long length = BIO_get_mem_data(bio, &pem);
    writeText(dir.path / "vcek.key", std::string(pem, static_cast<std::size_t>(length)));
    BIO_free(bio);
    EVP_PKEY_free(stranger);
    auto loaded = SoftwareAuthority::load(dir.path.string());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("is not the key of vcek.pem"), std::string::npos) << loaded.error();

    // Garbage for a key.
    writeText(dir.path / "vcek.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    loaded = SoftwareAuthority::load(dir.path.string());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("is not an unencrypted PEM private key"), std::string::npos) << loaded.error();
    writeText(dir.path / "vcek.key", key);

    // AMD's ARK in place of ours: the chain does not assemble.
    const Bytes milanBytes = testdata::read("milan-ask-ark.pem");
    const std::string milanPem(milanBytes.begin(), milanBytes.end());
    writeText(dir.path / "ark.pem", milanPem.substr(milanPem.rfind("-----BEGIN")));
    loaded = SoftwareAuthority::load(dir.path.string());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("chain: no ASK"), std::string::npos) << loaded.error();

    // Roles swapped between files.
    writeText(dir.path / "ark.pem", readText(dir.path / "ask.pem"));
    writeText(dir.path / "ask.pem", ark);
    loaded = SoftwareAuthority::load(dir.path.string());
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("hold the wrong roles"), std::string::npos) << loaded.error();
}

TEST(AttestSoftware, EmptyAuthorityFailsCleanly) {
    const SoftwareAuthority none;
    EXPECT_FALSE(none.sign(fields()).ok());
    EXPECT_FALSE(none.save("/nonexistent").ok());
    EXPECT_EQ(none.chainPem(), "");
    EXPECT_EQ(none.chain().ark.x509(), nullptr);
}

}  // namespace
}  // namespace omega::attest
