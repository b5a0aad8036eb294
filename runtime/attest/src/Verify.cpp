// Verifying a report against its certificate chain: the report's fields, the chain (roles, trust anchor, key types,
// AMD's RSA-PSS signatures, validity periods), the VCEK's ECDSA P-384 signature over bytes 0x000-0x29F, the VCEK's
// TCB and chip extensions against the report, and the caller's policy and binding. Each check has a stable name.
#include "omega/attest/Verify.h"
#include "ChainShape.h"
#include "OpenSslPtr.h"
#include "ReportFields.h"
#include "omega/attest/Binding.h"
#include "omega/attest/Software.h"

#include <openssl/rsa.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <tuple>

namespace omega::attest {

namespace {

using PssParamsPtr = detail::Ptr<RSA_PSS_PARAMS, RSA_PSS_PARAMS_free>;

// AMD's certificates: RSASSA-PSS with SHA-384, MGF1 with SHA-384, a 48-byte salt, trailer field 1.
constexpr long kAmdPssSaltLength = 48;
constexpr int kMinRsaBits = 2048;

// Bytes after r and s in the signature field: reserved, and outside what the signature covers, so any value there
// would go unnoticed; they must be zero.
constexpr std::size_t kUnsignedTailAt = kSignatureAt + 2 * kSignatureComponent;

// AMD's VCEK extensions for the security patch level of each TCB component (ChainShape.h names the spec).
struct SplExtension {
    const char* name;
    const char* oid;
    std::uint8_t detail::TcbParts::*part;
};
constexpr SplExtension kSplExtensions[] = {
    {"blSPL", "1.3.6.1.4.1.3704.1.3.1", &detail::TcbParts::bootLoader},
    {"teeSPL", "1.3.6.1.4.1.3704.1.3.2", &detail::TcbParts::tee},
    {"snpSPL", "1.3.6.1.4.1.3704.1.3.3", &detail::TcbParts::snp},
    {"ucodeSPL", "1.3.6.1.4.1.3704.1.3.8", &detail::TcbParts::microcode},
};
constexpr std::size_t kTurinHwidSize = 8;  // Turin VCEKs carry the first 8 bytes of CHIP_ID

std::string isoTime(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    char buffer[32];
    if (gmtime_r(&t, &tm) == nullptr || std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return std::to_string(seconds) + " s";
    }
    return buffer;
}

std::string quoted(const Certificate& c) {
    return "`" + c.subject() + "`";
}

std::string tcbText(const detail::TcbParts& t) {
    std::string out;
    if (t.fmc) out += "fmc " + std::to_string(*t.fmc) + ", ";
    return out + "boot_loader " + std::to_string(t.bootLoader) + ", tee " + std::to_string(t.tee) + ", snp " +
           std::to_string(t.snp) + ", microcode " + std::to_string(t.microcode);
}

class Checks {
public:
    explicit Checks(std::vector<Check>& list) : list_(list) {}
    bool add(std::string name, bool ok, std::string text) {
        list_.push_back(Check{std::move(name), ok, std::move(text)});
        return ok;
    }
    bool pass(std::string name, std::string text) { return add(std::move(name), true, std::move(text)); }
    bool fail(std::string name, std::string text) { return add(std::move(name), false, std::move(text)); }

private:
    std::vector<Check>& list_;
};

// ---- the chain ----------------------------------------------------------------------------------------------

std::optional<std::string> rsaKeyProblem(const Certificate& c, std::string& description) {
    EVP_PKEY* key = X509_get0_pubkey(detail::x509Of(c));
    if (key == nullptr) {
        detail::takeOpenSslError();
        return "its public key cannot be read";
    }
    const int type = EVP_PKEY_get_base_id(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_RSA_PSS) {
        const char* name = EVP_PKEY_get0_type_name(key);
        return std::string("its key is ") + (name != nullptr ? name : "of an unknown type") + ", expected RSA";
    }
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
        return "its RSA key has " + std::to_string(bits) + " bits, fewer than " + std::to_string(kMinRsaBits);
    }
    description = "RSA, " + std::to_string(bits) + " bits";
    return std::nullopt;
}

std::optional<std::string> p384KeyProblem(const Certificate& c) {
    EVP_PKEY* key = X509_get0_pubkey(detail::x509Of(c));
    if (key == nullptr) {
        detail::takeOpenSslError();
        return "its public key cannot be read";
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        const char* name = EVP_PKEY_get0_type_name(key);
        return std::string("its key is ") + (name != nullptr ? name : "of an unknown type") + ", expected EC P-384";
    }
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) {
        detail::takeOpenSslError();
        return "its EC key does not name its curve, expected P-384";
    }
    if (std::string_view(group, length) != "secp384r1") {
        return "its EC key is on curve " + std::string(group, length) + ", expected P-384 (secp384r1)";
    }
    return std::nullopt;
}

int nidOf(const X509_ALGOR* algorithm) {
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm);
    return OBJ_obj2nid(oid);
}

std::string nameOfNid(int nid) {
    const char* name = OBJ_nid2ln(nid);
    return name != nullptr ? name : "an unknown algorithm";
}

// What differs from AMD's signature parameters in `c`'s signature algorithm, or nullopt when they are AMD's.
std::optional<std::string> pssParameterProblem(const Certificate& c) {
    const X509_ALGOR* algorithm = nullptr;
    X509_get0_signature(nullptr, &algorithm, detail::x509Of(c));
    if (nidOf(algorithm) != NID_rsassaPss) {
        return "it is signed with " + nameOfNid(nidOf(algorithm)) + ", expected RSASSA-PSS";
    }
    if (algorithm->parameter == nullptr || algorithm->parameter->type != V_ASN1_SEQUENCE) {
        return "its RSASSA-PSS signature algorithm has no parameters";
    }
    PssParamsPtr pss(
        static_cast<RSA_PSS_PARAMS*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), algorithm->parameter)));
    if (!pss) {
        detail::takeOpenSslError();
        return "its RSASSA-PSS parameters are malformed";
    }
    // Absent fields take the defaults of RFC 4055 (SHA-1, MGF1 with SHA-1, salt 20), none of which AMD uses.
    const int hash = pss->hashAlgorithm != nullptr ? nidOf(pss->hashAlgorithm) : NID_sha1;
    if (hash != NID_sha384) return "its RSASSA-PSS hash is " + nameOfNid(hash) + ", expected SHA-384";
    const X509_ALGOR* mgf = pss->maskGenAlgorithm;
    if (mgf != nullptr && nidOf(mgf) != NID_mgf1) {
        return "its RSASSA-PSS mask generation is " + nameOfNid(nidOf(mgf)) + ", expected MGF1";
    }
    int mgfHash = NID_sha1;
    if (mgf != nullptr) {
        if (mgf->parameter == nullptr || mgf->parameter->type != V_ASN1_SEQUENCE) {
            return "its RSASSA-PSS MGF1 has no hash parameter";
        }
        detail::AlgorPtr inner(
            static_cast<X509_ALGOR*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), mgf->parameter)));
        if (!inner) {
            detail::takeOpenSslError();
            return "its RSASSA-PSS MGF1 parameter is malformed";
        }
        mgfHash = nidOf(inner.get());
    }
    if (mgfHash != NID_sha384) return "its RSASSA-PSS MGF1 hash is " + nameOfNid(mgfHash) + ", expected SHA-384";
    const long salt = pss->saltLength != nullptr ? ASN1_INTEGER_get(pss->saltLength) : 20;
    if (salt != kAmdPssSaltLength) {
        return "its RSASSA-PSS salt length is " + std::to_string(salt) + ", expected " +
               std::to_string(kAmdPssSaltLength);
    }
    if (pss->trailerField != nullptr && ASN1_INTEGER_get(pss->trailerField) != 1) {
        return "its RSASSA-PSS trailer field is " + std::to_string(ASN1_INTEGER_get(pss->trailerField)) +
               ", expected 1";
    }
    return std::nullopt;
}

// `subject` carries AMD's RSA-PSS parameters and its signature verifies under `issuer`'s key (`issuerKey` names
// that key in messages).
bool pssSigned(Checks& checks, const char* name, const char* subjectRole, const Certificate& subject,
               const char* issuerKey, const Certificate& issuer) {
    const std::string who = std::string(subjectRole) + " " + quoted(subject);
    if (auto problem = pssParameterProblem(subject)) return checks.fail(name, "the " + who + ": " + *problem);
    EVP_PKEY* key = X509_get0_pubkey(detail::x509Of(issuer));
    const bool ok = key != nullptr && X509_verify(detail::x509Of(subject), key) == 1;
    const std::string reason = detail::takeOpenSslError();
    if (!ok) {
        return checks.fail(name, "the signature of the " + who + " does not verify under " + issuerKey +
                                     (reason.empty() ? "" : " (" + reason + ")"));
    }
    return checks.pass(name,
                       "the " + who + " is signed by " + issuerKey + " (RSASSA-PSS, SHA-384, MGF1 SHA-384, salt 48)");
}

void validity(Checks& checks, const char* name, const char* role, const Certificate& c, std::int64_t now) {
    const std::int64_t from = c.notBefore(), to = c.notAfter();
    const std::string period =
        "the " + std::string(role) + " " + quoted(c) + " is valid from " + isoTime(from) + " to " + isoTime(to);
    if (from > to) {
        checks.fail(name, "the " + std::string(role) + " " + quoted(c) + " has an unreadable or empty validity period");
    } else if (now < from) {
        checks.fail(name, period + ": not yet valid at " + isoTime(now));
    } else if (now > to) {
        checks.fail(name, period + ": expired at " + isoTime(now));
    } else {
        checks.pass(name, period + "; now is " + isoTime(now));
    }
}

bool trustAnchor(Checks& checks, const Certificate& ark, const VerifyOptions& options, bool software) {
    const auto fingerprint = ark.fingerprint();
    const std::string who = "the ARK " + quoted(ark) + " (SHA-256 " + toHex(fingerprint) + ")";
    const bool given = std::any_of(options.trustedRoots.begin(), options.trustedRoots.end(), [&](const auto& root) {
        return root.x509() != nullptr && root.fingerprint() == fingerprint;
    });
    if (software) {
        if (!given) {
            return checks.fail("chain.trust-anchor",
                               who + " is a software authority's root, NOT AMD's, and was not given as a trusted root");
        }
        return checks.pass("chain.trust-anchor", who +
                                                     " is a software authority's root, trusted because it was given "
                                                     "as a trusted root: NOT hardware evidence");
    }
    for (const KnownRoot& root : knownAmdRoots()) {
        if (root.fingerprint == fingerprint) {
            return checks.pass("chain.trust-anchor", who + " is AMD's " + root.product + " root");
        }
    }
    if (given) return checks.pass("chain.trust-anchor", who + " was given as a trusted root");
    return checks.fail("chain.trust-anchor", who + " is not a known AMD root and was not given as a trusted root");
}

// ---- the report ---------------------------------------------------------------------------------------------

bool signingKey(Checks& checks, const Report& r) {
    switch (r.signingKey()) {
        case 0: return checks.pass("report.signing-key", "SIGNING_KEY is 0: the report is signed by the VCEK");
        case 1:
            return checks.fail("report.signing-key",
                               "SIGNING_KEY is 1: the report is signed by a VLEK, which is not supported (only VCEK)");
        case 7: return checks.fail("report.signing-key", "SIGNING_KEY is 7: the report is not signed");
        default:
            return checks.fail("report.signing-key",
                               "SIGNING_KEY is " + std::to_string(r.signingKey()) + ", a reserved value");
    }
}

bool unsignedBytes(Checks& checks, const Report& r) {
    for (std::size_t i = kUnsignedTailAt; i < kReportSize; ++i) {
        if (r.bytes[i] != 0) {
            char at[8];
            std::snprintf(at, sizeof at, "0x%03zx", i);
            return checks.fail("report.unsigned-bytes", std::string("byte ") + at +
                                                            " is not zero: bytes 0x330-0x49f are reserved and not "
                                                            "covered by the signature");
        }
    }
    return checks.pass("report.unsigned-bytes", "bytes 0x330-0x49f (reserved, not signed) are zero");
}

bool reportSignature(Checks& checks, const Report& r, const Certificate& vcek) {
    constexpr const char* kName = "report.signature";
    // r and s are little-endian in the report; OpenSSL verifies the DER of an ECDSA-Sig-Value (big-endian).
    detail::BignumPtr rn(BN_lebin2bn(r.signatureR.data(), static_cast<int>(kSignatureComponent), nullptr));
    detail::BignumPtr sn(BN_lebin2bn(r.signatureS.data(), static_cast<int>(kSignatureComponent), nullptr));
    detail::EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!rn || !sn || !sig || ECDSA_SIG_set0(sig.get(), rn.get(), sn.get()) != 1) {
        detail::takeOpenSslError();
        return checks.fail(kName, "out of memory decoding the signature");
    }
    rn.release();  // owned by sig now
    sn.release();
    unsigned char* der = nullptr;
    const int derLength = i2d_ECDSA_SIG(sig.get(), &der);
    detail::OpenSslBytes owned(der);
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    const bool ok =
        derLength > 0 && ctx &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, X509_get0_pubkey(detail::x509Of(vcek))) == 1 &&
        EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(derLength), r.bytes.data(), kSignedSize) == 1;
    detail::takeOpenSslError();
    if (!ok) {
        return checks.fail(kName,
                           "the ECDSA P-384 SHA-384 signature (r, s at 0x2a0) over bytes 0x000-0x29f does "
                           "not verify under the VCEK " +
                               quoted(vcek));
    }
    return checks.pass(
        kName, "the ECDSA P-384 SHA-384 signature over bytes 0x000-0x29f verifies under the VCEK " + quoted(vcek));
}

// The contents of the extension `oid` of `c`: nullopt when absent, an error when it appears twice.
Result<std::optional<std::span<const std::uint8_t>>> extension(const Certificate& c, const char* oid) {
    X509* x509 = detail::x509Of(c);
    detail::ObjectPtr object(OBJ_txt2obj(oid, 1));
    if (!object) {
        detail::takeOpenSslError();
        return Error{"cannot make the OID " + std::string(oid)};
    }
    const int index = X509_get_ext_by_OBJ(x509, object.get(), -1);
    if (index < 0) return std::optional<std::span<const std::uint8_t>>();
    if (X509_get_ext_by_OBJ(x509, object.get(), index) >= 0) {
        return Error{"the VCEK has the extension " + std::string(oid) + " twice"};
    }
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x509, index));
    return std::optional(
        std::span<const std::uint8_t>(ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data))));
}

// A security patch level: the extension holds one DER INTEGER from 0 to 255.
Result<std::optional<std::uint8_t>> splExtension(const Certificate& c, const SplExtension& spl) {
    auto contents = extension(c, spl.oid);
    if (!contents) return Error{contents.error()};
    if (!*contents) return std::optional<std::uint8_t>();
    const unsigned char* p = (*contents)->data();
    detail::IntegerPtr integer(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>((*contents)->size())));
    std::int64_t value = -1;
    const bool ok = integer && p == (*contents)->data() + (*contents)->size() &&
                    ASN1_INTEGER_get_int64(&value, integer.get()) == 1 && value >= 0 && value <= 255;
    detail::takeOpenSslError();
    if (!ok) {
        return Error{"the VCEK's " + std::string(spl.name) + " extension (" + spl.oid +
                     ") is not an INTEGER from 0 to 255"};
    }
    return std::optional(static_cast<std::uint8_t>(value));
}

bool vcekTcb(Checks& checks, const Report& r, const Certificate& vcek, bool software) {
    constexpr const char* kName = "report.vcek-tcb";
    const detail::TcbParts reported = detail::tcbParts(r.reportedTcb, detail::turinLayout(r));
    std::string matched, missing;
    for (const SplExtension& spl : kSplExtensions) {
        auto value = splExtension(vcek, spl);
        if (!value) return checks.fail(kName, value.error());
        if (!*value) {
            missing += (missing.empty() ? "" : ", ") + std::string(spl.name) + " (" + spl.oid + ")";
            continue;
        }
        const std::uint8_t inReport = reported.*spl.part;
        if (**value != inReport) {
            return checks.fail(kName, "REPORTED_TCB " + detail::hex64(r.reportedTcb.raw) + " has " + spl.name + " " +
                                          std::to_string(inReport) + " but the VCEK's " + spl.name + " extension (" +
                                          spl.oid + ") is " + std::to_string(**value));
        }
        matched += (matched.empty() ? "" : ", ") + std::string(spl.name) + " " + std::to_string(inReport);
    }
    if (matched.empty() && software) {
        return checks.pass(kName, "the software VCEK states no TCB (it is not AMD's): nothing to compare");
    }
    if (!missing.empty()) return checks.fail(kName, "the VCEK lacks the TCB extensions " + missing);
    return checks.pass(kName, "REPORTED_TCB " + detail::hex64(r.reportedTcb.raw) + " matches the VCEK's " + matched);
}

bool chipId(Checks& checks, const Report& r, const Certificate& vcek) {
    constexpr const char* kName = "report.chip-id";
    if ((r.flags >> 1) & 1) {
        return checks.pass(kName, "MASK_CHIP_KEY is set: CHIP_ID is masked and not compared with the VCEK's hwid");
    }
    auto hwid = extension(vcek, detail::kVcekHwidOid);
    if (!hwid) return checks.fail(kName, hwid.error());
    if (!*hwid) return checks.fail(kName, "the VCEK has no hwid extension (" + std::string(detail::kVcekHwidOid) + ")");
    const std::span<const std::uint8_t> id = **hwid;
    const bool full = id.size() == r.chipId.size();
    const bool turinPrefix = id.size() == kTurinHwidSize && detail::turinLayout(r);
    if (!full && !turinPrefix) {
        return checks.fail(kName, "the VCEK's hwid extension (" + std::string(detail::kVcekHwidOid) + ") has " +
                                      std::to_string(id.size()) + " bytes, expected " +
                                      std::to_string(r.chipId.size()));
    }
    if (!std::equal(id.begin(), id.end(), r.chipId.begin())) {
        return checks.fail(kName, "CHIP_ID " + toHex(r.chipId) + " is not the VCEK's hwid " + toHex(id));
    }
    return checks.pass(kName, "CHIP_ID matches the VCEK's hwid extension (" + std::string(detail::kVcekHwidOid) + ")");
}

void policyChecks(Checks& checks, const Report& r, const VerifyOptions& options) {
    if (!options.allowDebug) {
        if (r.debugAllowed()) {
            checks.fail("policy.debug", "POLICY " + detail::hex64(r.policy) +
                                            " has DEBUG (bit 19) set: the host may debug, read and change the guest");
        } else {
            checks.pass("policy.debug", "POLICY " + detail::hex64(r.policy) + " has DEBUG (bit 19) clear");
        }
    }
    if (options.maxVmpl) {
        const std::string text = "VMPL " + std::to_string(r.vmpl);
        if (r.vmpl > *options.maxVmpl) {
            checks.fail("policy.vmpl", text + " is above the maximum " + std::to_string(*options.maxVmpl));
        } else {
            checks.pass("policy.vmpl", text + " is at most " + std::to_string(*options.maxVmpl));
        }
    }
    if (options.minTcb) {
        const bool turin = detail::turinLayout(r);
        const detail::TcbParts have = detail::tcbParts(r.reportedTcb, turin);
        const detail::TcbParts want = detail::tcbParts(*options.minTcb, turin);
        std::string low;
        const auto compare = [&](const char* part, std::uint8_t h, std::uint8_t w) {
            if (h < w) {
                low +=
                    (low.empty() ? "" : ", ") + std::string(part) + " " + std::to_string(h) + " < " + std::to_string(w);
            }
        };
        if (have.fmc && want.fmc) compare("fmc", *have.fmc, *want.fmc);
        compare("boot_loader", have.bootLoader, want.bootLoader);
        compare("tee", have.tee, want.tee);
        compare("snp", have.snp, want.snp);
        compare("microcode", have.microcode, want.microcode);
        const std::string text = "REPORTED_TCB " + detail::hex64(r.reportedTcb.raw) + " (" + tcbText(have) + ")";
        if (!low.empty()) {
            checks.fail("policy.min-tcb",
                        text + " is below the minimum " + detail::hex64(options.minTcb->raw) + ": " + low);
        } else {
            checks.pass("policy.min-tcb",
                        text + " meets the minimum " + detail::hex64(options.minTcb->raw) + " (" + tcbText(want) + ")");
        }
    }
    if (options.expectedReportData) {
        const std::string have = toHex(r.reportData), want = toHex(*options.expectedReportData);
        if (have != want) {
            checks.fail("report.report-data", "REPORT_DATA " + have + " is not the expected " + want);
        } else {
            checks.pass("report.report-data", "REPORT_DATA is the expected " + want);
        }
    }
}

}  // namespace

const Check* Verdict::firstFailure() const {
    for (const Check& c : checks) {
        if (!c.ok) return &c;
    }
    return nullptr;
}

Verdict verify(std::span<const std::uint8_t> reportBytes, std::vector<Certificate> chain,
               const VerifyOptions& options) {
    Verdict verdict;
    Checks checks(verdict.checks);
    const std::int64_t now = options.now.value_or(static_cast<std::int64_t>(std::time(nullptr)));

    // The report on its own.
    std::optional<Report> report;
    if (auto parsed = detail::decodeReport(reportBytes); !parsed) {
        checks.fail("report.parse", parsed.error());
    } else {
        report = std::move(*parsed);
        checks.pass("report.parse", "version " + std::to_string(report->version) + ", 1184 bytes");
    }
    bool reportUsable = report.has_value();
    if (report) {
        if (report->signatureAlgo != kSignatureAlgoEcdsaP384Sha384) {
            reportUsable =
                checks.fail("report.signature-algorithm", "SIGNATURE_ALGO is " + std::to_string(report->signatureAlgo) +
                                                              ": only 1 (ECDSA P-384 with SHA-384) is supported");
        } else {
            checks.pass("report.signature-algorithm", "SIGNATURE_ALGO is 1 (ECDSA P-384 with SHA-384)");
        }
        reportUsable = signingKey(checks, *report) && reportUsable;
        unsignedBytes(checks, *report);
        verdict.software = isSoftwareChipId(report->chipId);
    }

    // The chain on its own.
    std::optional<Chain> roles;
    if (auto assembled = assembleChain(std::move(chain)); !assembled) {
        checks.fail("chain.assemble", assembled.error());
    } else {
        roles = std::move(*assembled);
        checks.pass("chain.assemble",
                    "ARK " + quoted(roles->ark) + ", ASK " + quoted(roles->ask) + ", VCEK " + quoted(roles->vcek));
    }
    bool vcekUsable = false;
    bool software = false;
    if (roles) {
        software = detail::namesSoftwareAuthority(roles->ark);
        verdict.software = verdict.software || software;
        trustAnchor(checks, roles->ark, options, software);
        std::string keyText;
        for (const auto& [name, role, certificate] :
             {std::tuple{"chain.ark-key", "ARK", &roles->ark}, std::tuple{"chain.ask-key", "ASK", &roles->ask}}) {
            if (auto problem = rsaKeyProblem(*certificate, keyText)) {
                checks.fail(name, std::string("the ") + role + " " + quoted(*certificate) + ": " + *problem);
            } else {
                checks.pass(name, std::string("the ") + role + " key is " + keyText);
            }
        }
        if (auto problem = p384KeyProblem(roles->vcek)) {
            checks.fail("chain.vcek-key", "the VCEK " + quoted(roles->vcek) + ": " + *problem);
        } else {
            vcekUsable = checks.pass("chain.vcek-key", "the VCEK key is EC P-384");
        }
        pssSigned(checks, "chain.ark-self-signed", "ARK", roles->ark, "its own key", roles->ark);
        pssSigned(checks, "chain.ask-signed-by-ark", "ASK", roles->ask, "the ARK's key", roles->ark);
        pssSigned(checks, "chain.vcek-signed-by-ask", "VCEK", roles->vcek, "the ASK's key", roles->ask);
        validity(checks, "chain.ark-validity", "ARK", roles->ark, now);
        validity(checks, "chain.ask-validity", "ASK", roles->ask, now);
        validity(checks, "chain.vcek-validity", "VCEK", roles->vcek, now);
    }

    // The report against the chain, then the caller's policy.
    bool signatureVerified = false;
    if (reportUsable && vcekUsable) {
        signatureVerified = reportSignature(checks, *report, roles->vcek);
        vcekTcb(checks, *report, roles->vcek, software);
        chipId(checks, *report, roles->vcek);
    }
    if (report) policyChecks(checks, *report, options);

    verdict.accepted = signatureVerified && verdict.firstFailure() == nullptr;
    verdict.report = std::move(report);
    return verdict;
}

}  // namespace omega::attest
