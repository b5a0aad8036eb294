// Report verification: the real Milan report verifies with its real chain, every single-byte tampering and every
// wrong chain fails, and each check fails by name on certificates made here with OpenSSL (wrong RSA-PSS
// parameters, key types, TCB and hwid extensions), on malformed reports and certificates, and on policy.
#include "AttestTestData.h"
#include "omega/attest/Binding.h"
#include "omega/attest/Software.h"
#include "omega/attest/Verify.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace omega::attest {
namespace {

using testdata::Bytes;
using testdata::kMilanNow;

constexpr std::int64_t kYear = 365 * 86400;
constexpr std::uint64_t kTcb = 0x4405000000000002;  // boot loader 2, TEE 0, SNP 5, microcode 0x44

const std::vector<std::string> kMilanCheckNames = {
    "report.parse",
    "report.signature-algorithm",
    "report.signing-key",
    "report.unsigned-bytes",
    "chain.assemble",
    "chain.trust-anchor",
    "chain.ark-key",
    "chain.ask-key",
    "chain.vcek-key",
    "chain.ark-self-signed",
    "chain.ask-signed-by-ark",
    "chain.vcek-signed-by-ask",
    "chain.ark-validity",
    "chain.ask-validity",
    "chain.vcek-validity",
    "report.signature",
    "report.vcek-tcb",
    "report.chip-id",
};

VerifyOptions at(std::int64_t now) {
    VerifyOptions o;
    o.now = now;
    return o;
}

std::vector<std::string> names(const Verdict& v) {
    std::vector<std::string> out;
    for (const Check& c : v.checks) out.push_back(c.name);
    return out;
}

const Check* find(const Verdict& v, const std::string& name) {
    for (const Check& c : v.checks) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

std::string describe(const Verdict& v) {
    std::string out = v.accepted ? "accepted\n" : "rejected\n";
    for (const Check& c : v.checks) out += (c.ok ? "  ok   " : "  FAIL ") + c.name + ": " + c.detail + "\n";
    return out;
}

// The verdict is a rejection whose first failed check is `name`, with `needle` in its detail.
::testing::AssertionResult failsAt(const Verdict& v, const std::string& name, const std::string& needle = "") {
    const Check* first = v.firstFailure();
    if (v.accepted || first == nullptr) return ::testing::AssertionFailure() << "not rejected:\n" << describe(v);
    if (first->name != name || first->detail.find(needle) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "expected the first failure `" << name << "` containing `" << needle << "`:\n"
               << describe(v);
    }
    return ::testing::AssertionSuccess();
}

// ---- the real Milan report ----------------------------------------------------------------------------------

TEST(AttestVerify, MilanReportVerifiesWithItsChain) {
    const Verdict v = verify(testdata::milanReport(), testdata::milanChain(), at(kMilanNow));
    EXPECT_TRUE(v.accepted) << describe(v);
    EXPECT_FALSE(v.software);
    EXPECT_EQ(v.firstFailure(), nullptr);
    EXPECT_EQ(names(v), kMilanCheckNames);
    ASSERT_TRUE(v.report.has_value());
    EXPECT_EQ(v.report->reportedTcb.raw, kTcb);
    EXPECT_NE(find(v, "chain.trust-anchor")->detail.find("AMD's Milan root"), std::string::npos);
    EXPECT_NE(find(v, "report.vcek-tcb")->detail.find("blSPL 2, teeSPL 0, snpSPL 5, ucodeSPL 68"), std::string::npos);
}

TEST(AttestVerify, MilanVcekIsValidFrom2022To2029) {
    const auto chain = testdata::milanChain();
    auto roles = assembleChain(chain);
    ASSERT_TRUE(roles.ok()) << roles.error();
    EXPECT_EQ(roles->vcek.notBefore(), 1663980928);  // 2022-09-24T00:55:28Z
    EXPECT_EQ(roles->vcek.notAfter(), 1884905728);   // 2029-09-24T00:55:28Z
    EXPECT_EQ(roles->ark.subject(), "CN=ARK-Milan,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
    EXPECT_EQ(roles->ask.issuer(), roles->ark.subject());
    EXPECT_EQ(roles->ark.fingerprint(), knownAmdRoots()[0].fingerprint);
    EXPECT_EQ(std::string(knownAmdRoots()[0].product), "Milan");
}

TEST(AttestVerify, FlippingAnySignedOrSignatureByteFails) {
    const Bytes original = testdata::milanReport();
    const auto chain = testdata::milanChain();
    const VerifyOptions options = at(kMilanNow);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < kSignatureAt + 2 * kSignatureComponent; ++i) {
        Bytes b = original;
        b[i] ^= 0x01;
        const Verdict v = verify(b, chain, options);
        ASSERT_FALSE(v.accepted) << "byte " << i << " flipped:\n" << describe(v);
        // Whatever failed first, the signature never verifies once it runs.
        if (const Check* signature = find(v, "report.signature")) {
            EXPECT_FALSE(signature->ok) << i;
        }
        if (i >= kSignatureAt) {
            EXPECT_TRUE(failsAt(v, "report.signature")) << i;
        }
    }
    // A different bit of each byte of the signature, for good measure.
    for (std::size_t i = kSignatureAt; i < kSignatureAt + 2 * kSignatureComponent; ++i) {
        Bytes b = original;
        b[i] ^= 0x80;
        EXPECT_TRUE(failsAt(verify(b, chain, options), "report.signature")) << i;
    }
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%zu verifications in %.2f s\n", kSignatureAt + 4 * kSignatureComponent, seconds);
}

TEST(AttestVerify, AnyByteAfterTheSignatureFails) {
    // Not covered by the signature: verification insists they are zero so that no byte of a report goes unchecked.
    const Bytes original = testdata::milanReport();
    const auto chain = testdata::milanChain();
    for (std::size_t i = kSignatureAt + 2 * kSignatureComponent; i < kReportSize; ++i) {
        Bytes b = original;
        b[i] = 0x01;
        const Verdict v = verify(b, chain, at(kMilanNow));
        ASSERT_TRUE(failsAt(v, "report.unsigned-bytes", "is not zero")) << i;
        EXPECT_TRUE(find(v, "report.signature")->ok);  // the rest of the report is genuine
    }
}

TEST(AttestVerify, ChainInAnyOrder) {
    auto chain = testdata::milanChain();
    std::sort(chain.begin(), chain.end(),
              [](const Certificate& a, const Certificate& b) { return a.fingerprint() < b.fingerprint(); });
    int orders = 0;
    do {
        auto roles = assembleChain(chain);
        ASSERT_TRUE(roles.ok()) << roles.error();
        EXPECT_NE(roles->ark.subject().find("CN=ARK-Milan"), std::string::npos);
        EXPECT_NE(roles->ask.subject().find("CN=SEV-Milan"), std::string::npos);
        EXPECT_NE(roles->vcek.subject().find("CN=SEV-VCEK"), std::string::npos);
        EXPECT_TRUE(verify(testdata::milanReport(), chain, at(kMilanNow)).accepted);
        ++orders;
    } while (std::next_permutation(chain.begin(), chain.end(), [](const Certificate& a, const Certificate& b) {
        return a.fingerprint() < b.fingerprint();
    }));
    EXPECT_EQ(orders, 6);
}

TEST(AttestVerify, MissingCertificates) {
    const auto full = testdata::milanChain();  // VCEK, ASK, ARK
    const struct {
        std::size_t drop;
        const char* message;
    } cases[] = {
        {0, "chain: no VCEK: no certificate is issued by the ASK `CN=SEV-Milan"},
        {1, "chain: no ASK: no certificate is issued by the ARK `CN=ARK-Milan"},
        {2, "chain: no ARK: no certificate is self-issued"},
    };
    for (const auto& c : cases) {
        auto chain = full;
        chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(c.drop));
        auto roles = assembleChain(chain);
        ASSERT_FALSE(roles.ok());
        EXPECT_NE(roles.error().find(c.message), std::string::npos) << roles.error();
        EXPECT_TRUE(failsAt(verify(testdata::milanReport(), chain, at(kMilanNow)), "chain.assemble", c.message));
    }
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), {}, at(kMilanNow)), "chain.assemble", "no certificates"));
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), {Certificate{}}, at(kMilanNow)), "chain.assemble",
                        "certificate 1 is empty"));
}

TEST(AttestVerify, ExtraAndDuplicateCertificates) {
    auto chain = testdata::milanChain();
    chain.push_back(chain[0]);  // the VCEK twice
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), chain, at(kMilanNow)), "chain.assemble",
                        "the VCEK is ambiguous: certificate 1 `CN=SEV-VCEK"));
    chain = testdata::milanChain();
    chain.push_back(chain[2]);  // the ARK twice
    EXPECT_TRUE(
        failsAt(verify(testdata::milanReport(), chain, at(kMilanNow)), "chain.assemble", "the ARK is ambiguous"));
}

// ---- certificates made here ---------------------------------------------------------------------------------

struct KeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
using Key = std::shared_ptr<EVP_PKEY>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

Key rsaKey() {
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}), EVP_PKEY_free);
}
Key ecKey(const char* curve) {
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free);
}

// RSA-2048 roots keep the tests fast; the verifier accepts 2048 bits and more.
struct TestKeys {
    Key ark = rsaKey(), ask = rsaKey(), other = rsaKey(), vcek = ecKey("P-384"), p256 = ecKey("P-256");
};
const TestKeys& keys() {
    static const TestKeys k;
    return k;
}

std::array<std::uint8_t, 64> testChipId() {
    std::array<std::uint8_t, 64> id{};
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(0xc0 + i);
    return id;
}

struct Signing {
    bool pss = true;
    const EVP_MD* md = EVP_sha384();
    const EVP_MD* mgf = EVP_sha384();
    int salt = 48;
};
Signing pss(const EVP_MD* md, const EVP_MD* mgf, int salt) {
    Signing s;
    s.md = md;
    s.mgf = mgf;
    s.salt = salt;
    return s;
}
Signing plain(const EVP_MD* md) {
    Signing s;
    s.pss = false;
    s.md = md;
    return s;
}

struct CertSpec {
    std::string cn;
    EVP_PKEY* key = nullptr;
    EVP_PKEY* signer = nullptr;  // the issuer's key
    std::int64_t notBefore = kMilanNow - kYear, notAfter = kMilanNow + kYear;
    bool ca = true;
    Signing signing;
    std::vector<std::pair<std::string, Bytes>> extensions;  // OID, contents
};
CertSpec spec(std::string cn, EVP_PKEY* key, EVP_PKEY* signer) {
    CertSpec s;
    s.cn = std::move(cn);
    s.key = key;
    s.signer = signer;
    return s;
}

Bytes splValue(int v) {
    return {0x02, 0x01, static_cast<std::uint8_t>(v)};  // DER INTEGER, v < 0x80
}

X509Ptr makeCertificate(const CertSpec& spec, X509* issuer) {
    X509Ptr x(X509_new());
    X509_set_version(x.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Omega tests"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                               -1, 0);
    X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
    ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.notBefore));
    ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.notAfter));
    X509_set_pubkey(x.get(), spec.key);
    if (spec.ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
        X509_EXTENSION* e = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x.get(), e, -1);
        X509_EXTENSION_free(e);
    }
    for (const auto& [oid, contents] : spec.extensions) {
        ASN1_OBJECT* object = OBJ_txt2obj(oid.c_str(), 1);
        ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(data, contents.data(), static_cast<int>(contents.size()));
        X509_EXTENSION* e = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, data);
        X509_add_ext(x.get(), e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(data);
        ASN1_OBJECT_free(object);
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    bool ok = EVP_DigestSignInit(ctx, &pctx, spec.signing.md, nullptr, spec.signer) == 1;
    if (ok && spec.signing.pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, spec.signing.salt) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, spec.signing.mgf) == 1;
    }
    ok = ok && X509_sign_ctx(x.get(), ctx) > 0;
    EVP_MD_CTX_free(ctx);
    EXPECT_TRUE(ok) << "cannot sign " << spec.cn;
    return x;
}

Certificate toCertificate(X509* x) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(x, &der);
    auto c = Certificate::parse(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
    OPENSSL_free(der);
    EXPECT_TRUE(c.ok()) << c.error();
    return *c;
}

struct ChainSpec {
    CertSpec ark = spec("ARK-Test", keys().ark.get(), keys().ark.get());
    CertSpec ask = spec("SEV-Test", keys().ask.get(), keys().ark.get());
    CertSpec vcek = spec("SEV-VCEK-Test", keys().vcek.get(), keys().ask.get());
    ChainSpec() {
        const auto chipId = testChipId();
        vcek.ca = false;
        vcek.extensions = {
            {"1.3.6.1.4.1.3704.1.3.1", splValue(2)},
            {"1.3.6.1.4.1.3704.1.3.2", splValue(0)},
            {"1.3.6.1.4.1.3704.1.3.3", splValue(5)},
            {"1.3.6.1.4.1.3704.1.3.8", splValue(0x44)},
            {"1.3.6.1.4.1.3704.1.4", Bytes(chipId.begin(), chipId.end())},
        };
    }
};

struct Made {
    Certificate ark, ask, vcek;
    std::vector<Certificate> all() const { return {vcek, ask, ark}; }
};

Made make(const ChainSpec& spec) {
    X509Ptr ark = makeCertificate(spec.ark, nullptr);
    X509Ptr ask = makeCertificate(spec.ask, ark.get());
    X509Ptr vcek = makeCertificate(spec.vcek, ask.get());
    return {toCertificate(ark.get()), toCertificate(ask.get()), toCertificate(vcek.get())};
}

Report testFields() {
    Report r;
    r.version = 2;
    r.policy = 0x30000;
    r.signatureAlgo = 1;
    r.reportedTcb.raw = r.currentTcb.raw = r.committedTcb.raw = r.launchTcb.raw = kTcb;
    r.chipId = testChipId();
    r.reportData[0] = 0x42;
    return r;
}

// Signs `r` with `key` as a chip would: ECDSA P-384 over bytes 0x000-0x29F, r and s stored little-endian.
Bytes signedReport(Report r, EVP_PKEY* key) {
    auto bytes = encodeReport(r);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char der[256];
    std::size_t length = sizeof der;
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key), 1);
    EXPECT_EQ(EVP_DigestSign(ctx, der, &length, bytes.data(), kSignedSize), 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char* p = der;
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length));
    EXPECT_NE(sig, nullptr);
    BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), bytes.data() + 0x2A0, 72);
    BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), bytes.data() + 0x2E8, 72);
    ECDSA_SIG_free(sig);
    return Bytes(bytes.begin(), bytes.end());
}

VerifyOptions trusting(const Made& chain) {
    VerifyOptions o = at(kMilanNow);
    o.trustedRoots = {chain.ark};
    return o;
}

TEST(AttestVerify, MadeChainVerifiesWhenItsRootIsTrusted) {
    const Made chain = make(ChainSpec{});
    const Bytes report = signedReport(testFields(), keys().vcek.get());
    const Verdict v = verify(report, chain.all(), trusting(chain));
    EXPECT_TRUE(v.accepted) << describe(v);
    EXPECT_FALSE(v.software);
    EXPECT_EQ(names(v), kMilanCheckNames);
    EXPECT_NE(find(v, "chain.trust-anchor")->detail.find("was given as a trusted root"), std::string::npos);
    EXPECT_NE(find(v, "chain.ark-key")->detail.find("2048 bits"), std::string::npos);
    // Without it, the root is unknown.
    EXPECT_TRUE(failsAt(verify(report, chain.all(), at(kMilanNow)), "chain.trust-anchor",
                        "is not a known AMD root and was not given as a trusted root"));
    // Nor does trusting another root help.
    VerifyOptions milan = at(kMilanNow);
    milan.trustedRoots = {testdata::milanChain()[2]};
    EXPECT_TRUE(failsAt(verify(report, chain.all(), milan), "chain.trust-anchor"));
}

TEST(AttestVerify, RsaPssParametersMustBeAmds) {
    const struct {
        const char* role;
        Signing signing;
        const char* check;
        const char* message;
    } cases[] = {
        {"ark", plain(EVP_sha384()), "chain.ark-self-signed",
         "is signed with sha384WithRSAEncryption, expected RSASSA-PSS"},
        {"ask", pss(EVP_sha384(), EVP_sha384(), 32), "chain.ask-signed-by-ark", "salt length is 32, expected 48"},
        {"vcek", pss(EVP_sha256(), EVP_sha384(), 48), "chain.vcek-signed-by-ask", "hash is sha256, expected SHA-384"},
        {"vcek", pss(EVP_sha384(), EVP_sha256(), 48), "chain.vcek-signed-by-ask", "MGF1 hash is sha256"},
    };
    const Bytes report = signedReport(testFields(), keys().vcek.get());
    for (const auto& c : cases) {
        ChainSpec chainSpec;
        CertSpec& target = std::string(c.role) == "ark"   ? chainSpec.ark
                           : std::string(c.role) == "ask" ? chainSpec.ask
                                                          : chainSpec.vcek;
        target.signing = c.signing;
        const Made chain = make(chainSpec);
        EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), c.check, c.message)) << c.message;
    }
}

TEST(AttestVerify, SignatureByAnotherKeyFails) {
    ChainSpec spec;
    spec.ask.signer = keys().other.get();  // names link to the ARK, the signature does not
    const Made chain = make(spec);
    const Bytes report = signedReport(testFields(), keys().vcek.get());
    EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), "chain.ask-signed-by-ark",
                        "does not verify under the ARK's key"));
    ChainSpec self;
    self.ark.signer = keys().other.get();
    const Made broken = make(self);
    EXPECT_TRUE(failsAt(verify(report, broken.all(), trusting(broken)), "chain.ark-self-signed",
                        "does not verify under its own key"));
    // A report signed by another P-384 key than the VCEK's.
    const Made good = make(ChainSpec{});
    const Key stranger = ecKey("P-384");
    EXPECT_TRUE(failsAt(verify(signedReport(testFields(), stranger.get()), good.all(), trusting(good)),
                        "report.signature", "does not verify under the VCEK"));
}

TEST(AttestVerify, KeyTypes) {
    const Bytes report = signedReport(testFields(), keys().vcek.get());
    {
        ChainSpec spec;
        spec.vcek.key = keys().other.get();  // an RSA VCEK
        const Made chain = make(spec);
        const Verdict v = verify(report, chain.all(), trusting(chain));
        EXPECT_TRUE(failsAt(v, "chain.vcek-key", "its key is RSA, expected EC P-384"));
        EXPECT_EQ(find(v, "report.signature"), nullptr);  // cannot run without a P-384 VCEK
    }
    {
        ChainSpec spec;
        spec.vcek.key = keys().p256.get();
        const Made chain = make(spec);
        EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), "chain.vcek-key",
                            "on curve prime256v1, expected P-384"));
    }
    {
        ChainSpec spec;  // an EC ASK, signing the VCEK with ECDSA
        spec.ask.key = keys().p256.get();
        spec.vcek.signer = keys().p256.get();
        spec.vcek.signing = plain(EVP_sha384());
        const Made chain = make(spec);
        const Verdict v = verify(report, chain.all(), trusting(chain));
        EXPECT_TRUE(failsAt(v, "chain.ask-key", "its key is EC, expected RSA"));
        EXPECT_FALSE(find(v, "chain.vcek-signed-by-ask")->ok);
    }
}

TEST(AttestVerify, VcekTcbExtensionsMustMatchTheReport) {
    const Bytes report = signedReport(testFields(), keys().vcek.get());
    {
        ChainSpec spec;
        spec.vcek.extensions[2].second = splValue(4);  // snpSPL 4, the report says 5
        const Made chain = make(spec);
        EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), "report.vcek-tcb",
                            "has snpSPL 5 but the VCEK's snpSPL extension (1.3.6.1.4.1.3704.1.3.3) is 4"));
    }
    {
        ChainSpec spec;
        spec.vcek.extensions.erase(spec.vcek.extensions.begin() + 3);  // no ucodeSPL
        const Made chain = make(spec);
        EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), "report.vcek-tcb",
                            "lacks the TCB extensions ucodeSPL (1.3.6.1.4.1.3704.1.3.8)"));
    }
    {
        ChainSpec spec;
        spec.vcek.extensions[0].second = {0x04, 0x01, 0x02};  // an OCTET STRING, not an INTEGER
        const Made chain = make(spec);
        EXPECT_TRUE(failsAt(verify(report, chain.all(), trusting(chain)), "report.vcek-tcb",
                            "blSPL extension (1.3.6.1.4.1.3704.1.3.1) is not an INTEGER from 0 to 255"));
    }
}

TEST(AttestVerify, ChipIdMustBeTheVcekHwid) {
    Report fields = testFields();
    fields.chipId[63] ^= 1;
    const Made chain = make(ChainSpec{});
    EXPECT_TRUE(failsAt(verify(signedReport(fields, keys().vcek.get()), chain.all(), trusting(chain)), "report.chip-id",
                        "is not the VCEK's hwid"));
    // MASK_CHIP_KEY: CHIP_ID is zero and is not compared.
    fields.chipId = {};
    fields.flags = 2;
    const Verdict masked = verify(signedReport(fields, keys().vcek.get()), chain.all(), trusting(chain));
    EXPECT_TRUE(masked.accepted) << describe(masked);
    EXPECT_NE(find(masked, "report.chip-id")->detail.find("MASK_CHIP_KEY"), std::string::npos);
    ChainSpec shortHwid;
    shortHwid.vcek.extensions[4].second.resize(32);
    const Made other = make(shortHwid);
    EXPECT_TRUE(failsAt(verify(signedReport(testFields(), keys().vcek.get()), other.all(), trusting(other)),
                        "report.chip-id", "has 32 bytes, expected 64"));
}

TEST(AttestVerify, UnrelatedCertificateIsExtra) {
    auto chain = testdata::milanChain();
    chain.insert(chain.begin() + 1, make(ChainSpec{}).vcek);
    EXPECT_TRUE(
        failsAt(verify(testdata::milanReport(), chain, at(kMilanNow)), "chain.assemble",
                "extra certificate 2 `CN=SEV-VCEK-Test,O=Omega tests`: it is not the ARK, the ASK or the VCEK"));
    chain = testdata::milanChain();
    chain.push_back(make(ChainSpec{}).ark);  // a second root
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), chain, at(kMilanNow)), "chain.assemble",
                        "the ARK is ambiguous: certificate 3 `CN=ARK-Milan"));
}

// ---- validity periods ---------------------------------------------------------------------------------------

TEST(AttestVerify, ExpiredAndNotYetValid) {
    const Bytes report = testdata::milanReport();
    const auto chain = testdata::milanChain();
    EXPECT_TRUE(failsAt(verify(report, chain, at(1884905728 + 1)), "chain.vcek-validity",
                        "valid from 2022-09-24T00:55:28Z to 2029-09-24T00:55:28Z: expired at 2029-09-24T00:55:29Z"));
    EXPECT_TRUE(failsAt(verify(report, chain, at(1663980928 - 1)), "chain.vcek-validity",
                        "not yet valid at 2022-09-24T00:55:27Z"));
    EXPECT_TRUE(verify(report, chain, at(1884905728)).accepted);  // the last second
    EXPECT_TRUE(failsAt(verify(report, chain, at(1500000000)), "chain.ark-validity", "not yet valid"));
    EXPECT_TRUE(failsAt(verify(report, chain, at(2500000000)), "chain.ark-validity", "expired"));
    ChainSpec spec;
    spec.ask.notAfter = kMilanNow - 1;
    const Made made = make(spec);
    EXPECT_TRUE(failsAt(verify(signedReport(testFields(), keys().vcek.get()), made.all(), trusting(made)),
                        "chain.ask-validity", "expired"));
}

// ---- malformed input ----------------------------------------------------------------------------------------

TEST(AttestVerify, MalformedReports) {
    const Bytes milan = testdata::milanReport();
    const auto chain = testdata::milanChain();
    Bytes truncated(milan.begin(), milan.end() - 1), longer = milan;
    longer.push_back(0);
    EXPECT_TRUE(failsAt(verify(truncated, chain, at(kMilanNow)), "report.parse", "report: 1183 bytes, expected 1184"));
    EXPECT_TRUE(failsAt(verify(longer, chain, at(kMilanNow)), "report.parse", "report: 1185 bytes, expected 1184"));
    EXPECT_TRUE(failsAt(verify({}, chain, at(kMilanNow)), "report.parse", "report: 0 bytes"));
    Bytes garbage(kReportSize, 0xA5);
    EXPECT_TRUE(failsAt(verify(garbage, chain, at(kMilanNow)), "report.parse", "version 2779096485 is not supported"));
    Bytes version = milan;
    version[0] = 6;
    EXPECT_TRUE(failsAt(verify(version, chain, at(kMilanNow)), "report.parse", "report: version 6 is not supported"));
    Bytes algo = milan;
    algo[0x34] = 2;
    const Verdict v = verify(algo, chain, at(kMilanNow));
    EXPECT_TRUE(failsAt(v, "report.signature-algorithm", "SIGNATURE_ALGO is 2: only 1"));
    EXPECT_EQ(find(v, "report.signature"), nullptr);
    // With the report unusable, the chain is still checked and reported.
    EXPECT_TRUE(find(v, "chain.vcek-signed-by-ask")->ok);
}

TEST(AttestVerify, SigningKeyMustBeTheVcek) {
    Bytes vlek = testdata::milanReport();
    vlek[0x48] = 1 << 2;
    EXPECT_TRUE(failsAt(verify(vlek, testdata::milanChain(), at(kMilanNow)), "report.signing-key",
                        "signed by a VLEK, which is not supported"));
    Bytes none = testdata::milanReport();
    none[0x48] = 7 << 2;
    EXPECT_TRUE(failsAt(verify(none, testdata::milanChain(), at(kMilanNow)), "report.signing-key", "not signed"));
    Bytes reserved = testdata::milanReport();
    reserved[0x48] = 3 << 2;
    EXPECT_TRUE(failsAt(verify(reserved, testdata::milanChain(), at(kMilanNow)), "report.signing-key", "reserved"));
}

::testing::AssertionResult parseFails(const Bytes& input, const std::string& needle) {
    auto parsed = parseCertificates(input);
    if (parsed.ok()) return ::testing::AssertionFailure() << "parsed " << parsed->size() << " certificates";
    if (parsed.error().find(needle) == std::string::npos) {
        return ::testing::AssertionFailure() << "error `" << parsed.error() << "` does not contain `" << needle << "`";
    }
    return ::testing::AssertionSuccess();
}

Bytes text(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

TEST(AttestVerify, MalformedCertificates) {
    const Bytes der = testdata::read("milan-vcek.der");
    const Bytes pemBytes = testdata::read("milan-ask-ark.pem");
    const std::string pem(pemBytes.begin(), pemBytes.end());
    EXPECT_TRUE(parseFails({}, "certificates: empty input"));
    EXPECT_TRUE(parseFails(Bytes(der.begin(), der.end() - 1), "certificate: not a valid DER X.509 certificate"));
    EXPECT_TRUE(parseFails(Bytes(der.begin(), der.begin() + 100), "not a valid DER"));
    Bytes trailing = der;
    trailing.push_back(0);
    EXPECT_TRUE(parseFails(trailing, "certificate: 1 trailing bytes after the DER certificate"));
    EXPECT_TRUE(parseFails(text("hello, world"), "neither a DER certificate nor PEM text"));
    EXPECT_TRUE(
        parseFails(text(pem.substr(0, pem.size() - 30)), "certificate 2 (line 38): no `-----END CERTIFICATE-----`"));
    std::string damaged = pem;
    damaged[100] = '*';  // inside the base64 of the first certificate
    EXPECT_TRUE(parseFails(text(damaged), "certificate 1 (line 1): neither DER nor a valid PEM"));
    std::string shortened = pem;
    shortened.erase(shortened.find('\n', 300) + 1, 65);  // one line of base64 less: the DER lengths are wrong
    EXPECT_TRUE(parseFails(text(shortened), "certificate 1 (line 1): neither DER nor a valid PEM"));
    std::string many;
    for (int i = 0; i < 9; ++i) many += pem;
    EXPECT_TRUE(parseFails(text(many), "more than 16 certificates"));
    EXPECT_TRUE(parseFails(Bytes(2 * 1024 * 1024, 'A'), "over the limit"));
    // Text around and between PEM blocks is ignored.
    auto parsed = parseCertificates(text("ASK then ARK\n" + pem + "\ntrailing words\n"));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->size(), 2u);
    // One certificate at a time.
    EXPECT_TRUE(Certificate::parse(der).ok());
    EXPECT_FALSE(Certificate::parse(Bytes{}).ok());
    auto first = Certificate::parse(text(pem));
    ASSERT_TRUE(first.ok()) << first.error();
    EXPECT_NE(first->subject().find("CN=SEV-Milan"), std::string::npos);
    EXPECT_EQ(parseCertificates(text(first->pem())).value()[0].der(), first->der());
}

// ---- the wrong chain ----------------------------------------------------------------------------------------

TEST(AttestVerify, SoftwareChainFailsForTheMilanReport) {
    auto authority = SoftwareAuthority::generate();
    ASSERT_TRUE(authority.ok()) << authority.error();
    const auto& sw = authority->chain();
    const std::vector<Certificate> chain = {sw.vcek, sw.ask, sw.ark};
    // The software chain is valid now (it was just made), the Milan one too (until 2029): the clock is `now`.
    const Verdict untrusted = verify(testdata::milanReport(), chain, {});
    EXPECT_TRUE(untrusted.software);
    EXPECT_TRUE(failsAt(untrusted, "chain.trust-anchor", "software authority's root, NOT AMD's"));
    VerifyOptions options;
    options.trustedRoots = {sw.ark};
    const Verdict trusted = verify(testdata::milanReport(), chain, options);
    EXPECT_TRUE(failsAt(trusted, "report.signature", "does not verify"));
    // A mix of the two chains does not assemble.
    const auto milan = testdata::milanChain();
    EXPECT_TRUE(
        failsAt(verify(testdata::milanReport(), {milan[0], sw.ask, sw.ark}, options), "chain.assemble", "no VCEK"));
    EXPECT_TRUE(
        failsAt(verify(testdata::milanReport(), {milan[0], milan[1], sw.ark}, options), "chain.assemble", "no ASK"));
}

// ---- policy and binding -------------------------------------------------------------------------------------

TEST(AttestVerify, PolicyChecksRunOnlyWhenAsked) {
    const Verdict plain = verify(testdata::milanReport(), testdata::milanChain(), at(kMilanNow));
    for (const char* name : {"policy.debug", "policy.vmpl", "policy.min-tcb", "report.report-data"}) {
        EXPECT_EQ(find(plain, name), nullptr) << name;
    }
}

TEST(AttestVerify, DebugPolicy) {
    VerifyOptions options = at(kMilanNow);
    options.allowDebug = false;
    // The Milan guest was launched with DEBUG allowed (policy 0xb0000).
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), testdata::milanChain(), options), "policy.debug",
                        "POLICY 0x00000000000b0000 has DEBUG (bit 19) set"));
    const Made chain = make(ChainSpec{});
    options.trustedRoots = {chain.ark};
    const Verdict v = verify(signedReport(testFields(), keys().vcek.get()), chain.all(), options);
    EXPECT_TRUE(v.accepted) << describe(v);
    EXPECT_TRUE(find(v, "policy.debug")->ok);
}

TEST(AttestVerify, VmplPolicy) {
    const Made chain = make(ChainSpec{});
    Report fields = testFields();
    fields.vmpl = 2;
    const Bytes report = signedReport(fields, keys().vcek.get());
    VerifyOptions options = trusting(chain);
    options.maxVmpl = 2;
    EXPECT_TRUE(verify(report, chain.all(), options).accepted);
    options.maxVmpl = 1;
    EXPECT_TRUE(failsAt(verify(report, chain.all(), options), "policy.vmpl", "VMPL 2 is above the maximum 1"));
    VerifyOptions milan = at(kMilanNow);
    milan.maxVmpl = 0;
    EXPECT_TRUE(verify(testdata::milanReport(), testdata::milanChain(), milan).accepted);
}

TEST(AttestVerify, MinimumTcbPolicy) {
    VerifyOptions options = at(kMilanNow);
    options.minTcb = TcbVersion{kTcb};
    EXPECT_TRUE(verify(testdata::milanReport(), testdata::milanChain(), options).accepted);
    options.minTcb = TcbVersion{0x0000000000000000};
    EXPECT_TRUE(verify(testdata::milanReport(), testdata::milanChain(), options).accepted);
    options.minTcb = TcbVersion{0x4406000000000002};  // SNP 6
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), testdata::milanChain(), options), "policy.min-tcb",
                        "is below the minimum 0x4406000000000002: snp 5 < 6"));
    options.minTcb = TcbVersion{0x4505000000000103};  // microcode 0x45, TEE 1, boot loader 3
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), testdata::milanChain(), options), "policy.min-tcb",
                        "boot_loader 2 < 3, tee 0 < 1, microcode 68 < 69"));
    // Each component on its own: a higher SNP does not make up for a lower boot loader.
    options.minTcb = TcbVersion{0x0000000000000003};
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), testdata::milanChain(), options), "policy.min-tcb",
                        "boot_loader 2 < 3"));
}

TEST(AttestVerify, ReportDataBinding) {
    VerifyOptions options = at(kMilanNow);
    ReportData expected{};
    std::copy_n("\x01\x02\x03\x04\x05", 5, expected.begin());
    options.expectedReportData = expected;
    const Verdict ok = verify(testdata::milanReport(), testdata::milanChain(), options);
    EXPECT_TRUE(ok.accepted) << describe(ok);
    EXPECT_TRUE(find(ok, "report.report-data")->ok);
    expected[4] = 6;
    options.expectedReportData = expected;
    const std::string have = "0102030405" + std::string(118, '0'), want = "0102030406" + std::string(118, '0');
    EXPECT_TRUE(failsAt(verify(testdata::milanReport(), testdata::milanChain(), options), "report.report-data",
                        "REPORT_DATA " + have + " is not the expected " + want));
}

TEST(AttestVerify, MilanRootGivenExplicitlyIsStillAmds) {
    VerifyOptions options = at(kMilanNow);
    options.trustedRoots = {testdata::milanChain()[2]};
    const Verdict v = verify(testdata::milanReport(), testdata::milanChain(), options);
    EXPECT_TRUE(v.accepted);
    EXPECT_NE(find(v, "chain.trust-anchor")->detail.find("AMD's Milan root"), std::string::npos);
}

}  // namespace
}  // namespace omega::attest
