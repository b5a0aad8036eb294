// The software authority: a locally generated chain of AMD's shape (RSA-4096 ARK and ASK signing with RSASSA-PSS,
// SHA-384, MGF1 SHA-384, salt 48; an EC P-384 VCEK with a hwid extension) whose names say it is not AMD's, and the
// signing of real-format reports with it. Only the VCEK's private key is kept: the ARK and ASK keys sign their
// certificates once and are dropped, so a saved authority can sign reports but never issue another VCEK.
#include "omega/attest/Software.h"
#include "ChainShape.h"
#include "OpenSslPtr.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <tuple>

namespace omega::attest {

namespace {

constexpr char kChipIdMarker[] = "OMEGA SOFTWARE SEV-SNP STAND-IN: NOT HARDWARE EVIDENCE";
constexpr std::size_t kRsaBits = 4096;
constexpr int kPssSaltLength = 48;
constexpr std::int64_t kYear = 365 * 24 * 3600;
// AMD's roots are valid 25 years and VCEKs 7; starting an hour back tolerates a verifier whose clock is behind.
constexpr std::int64_t kRootYears = 25, kVcekYears = 7, kBackdate = 3600;
constexpr std::size_t kMaxFileSize = 1024 * 1024;

std::array<std::uint8_t, 64> softwareChipId() {
    std::array<std::uint8_t, 64> id{};
    static_assert(sizeof kChipIdMarker <= 64);
    std::memcpy(id.data(), kChipIdMarker, sizeof kChipIdMarker - 1);
    return id;
}

Error opensslFailure(const std::string& what) {
    const std::string reason = detail::takeOpenSslError();
    return Error{"software authority: " + what + (reason.empty() ? "" : " (" + reason + ")")};
}

struct CertificateSpec {
    const char* commonName;
    EVP_PKEY* key;        // the subject's key
    X509* issuer;         // nullptr: self-signed
    EVP_PKEY* issuerKey;  // an RSA key, signs with AMD's RSA-PSS parameters
    std::int64_t notBefore, notAfter;
    const char* basicConstraints;  // nullptr: none (the VCEK, like AMD's)
    bool hwid;                     // the VCEK's hwid extension, holding the software CHIP_ID
};

bool addExtension(X509* x509, X509V3_CTX* ctx, int nid, const char* value) {
    detail::ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
    return extension && X509_add_ext(x509, extension.get(), -1) == 1;
}

bool addHwid(X509* x509) {
    const auto id = softwareChipId();
    detail::ObjectPtr oid(OBJ_txt2obj(detail::kVcekHwidOid, 1));
    detail::OctetStringPtr contents(ASN1_OCTET_STRING_new());
    if (!oid || !contents || ASN1_OCTET_STRING_set(contents.get(), id.data(), static_cast<int>(id.size())) != 1) {
        return false;
    }
    detail::ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, contents.get()));
    return extension && X509_add_ext(x509, extension.get(), -1) == 1;
}

bool signPss(X509* x509, EVP_PKEY* key) {
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    return ctx && EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha384(), nullptr, key) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltLength) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 && X509_sign_ctx(x509, ctx.get()) > 0;
}

Result<Certificate> makeCertificate(const CertificateSpec& spec) {
    detail::X509Ptr x509(X509_new());
    detail::NamePtr name(X509_NAME_new());
    detail::BignumPtr serial(BN_new());
    if (!x509 || !name || !serial) return opensslFailure("out of memory");
    const auto text = [](const char* s) { return reinterpret_cast<const unsigned char*>(s); };
    // A random positive 127-bit serial: certificates of different authorities never share issuer and serial.
    bool ok = X509_set_version(x509.get(), X509_VERSION_3) == 1 &&
              BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
              BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x509.get())) != nullptr &&
              X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8, text(detail::kSoftwareOrganization), -1, -1,
                                         0) == 1 &&
              X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, text(spec.commonName), -1, -1, 0) == 1 &&
              X509_set_subject_name(x509.get(), name.get()) == 1 &&
              X509_set_issuer_name(x509.get(),
                                   spec.issuer != nullptr ? X509_get_subject_name(spec.issuer) : name.get()) == 1 &&
              ASN1_TIME_set(X509_getm_notBefore(x509.get()), static_cast<std::time_t>(spec.notBefore)) != nullptr &&
              ASN1_TIME_set(X509_getm_notAfter(x509.get()), static_cast<std::time_t>(spec.notAfter)) != nullptr &&
              X509_set_pubkey(x509.get(), spec.key) == 1;
    if (!ok) return opensslFailure(std::string("cannot build the certificate `") + spec.commonName + "`");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, spec.issuer != nullptr ? spec.issuer : x509.get(), x509.get(), nullptr, nullptr, 0);
    if (spec.basicConstraints != nullptr) {
        ok = addExtension(x509.get(), &ctx, NID_basic_constraints, spec.basicConstraints) &&
             addExtension(x509.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             addExtension(x509.get(), &ctx, NID_subject_key_identifier, "hash");
    }
    if (ok && spec.issuer != nullptr) {
        ok = addExtension(x509.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    }
    if (ok && spec.hwid) ok = addHwid(x509.get());
    if (!ok || !signPss(x509.get(), spec.issuerKey)) {
        return opensslFailure(std::string("cannot sign the certificate `") + spec.commonName + "`");
    }
    // Through DER, so the certificate is exactly what a verifier will parse.
    unsigned char* der = nullptr;
    const int length = i2d_X509(x509.get(), &der);
    if (length <= 0) return opensslFailure("cannot encode a certificate");
    detail::OpenSslBytes owned(der);
    return Certificate::parse(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
}

Result<std::string> readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"software authority: cannot read `" + path.string() + "`: " + std::strerror(errno)};
    std::string data;
    data.resize(kMaxFileSize + 1);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxFileSize) return Error{"software authority: `" + path.string() + "` is too large"};
    return data;
}

// Writes through a temporary file and a rename, so a reader never sees half a file, with exactly `mode` whatever
// the umask or an earlier file said.
Result<bool> writeFile(const std::filesystem::path& path, const std::string& data, mode_t mode) {
    const std::string temporary = path.string() + ".tmp";
    const auto failed = [&](const char* what, int error) {
        return Error{"software authority: cannot " + std::string(what) + " `" + path.string() +
                     "`: " + std::strerror(error)};
    };
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return failed("create", errno);
    int error = ::fchmod(fd, mode) == 0 ? 0 : errno;
    for (std::size_t done = 0; error == 0 && done < data.size();) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && errno != EINTR) {
            error = errno;
        }
    }
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
        ::unlink(temporary.c_str());
        return failed("write", error);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) return failed("rename into", errno);
    return true;
}

Result<Certificate> loadCertificate(const std::filesystem::path& path) {
    auto data = readFile(path);
    if (!data) return Error{data.error()};
    auto c = Certificate::parse(std::span(reinterpret_cast<const std::uint8_t*>(data->data()), data->size()));
    if (!c) return Error{"software authority: `" + path.string() + "`: " + c.error()};
    return c;
}

}  // namespace

struct SoftwareAuthority::Impl {
    Chain chain;
    std::shared_ptr<EVP_PKEY> vcekKey;
};

namespace detail {

bool namesSoftwareAuthority(const Certificate& certificate) {
    const X509_NAME* name = X509_get_subject_name(x509Of(certificate));
    for (int i = X509_NAME_get_index_by_NID(name, NID_organizationName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) {
        unsigned char* utf8 = nullptr;
        const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (length < 0) {
            takeOpenSslError();
            continue;
        }
        OpenSslBytes owned(utf8);
        if (std::string_view(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length)) ==
            kSoftwareOrganization) {
            return true;
        }
    }
    return false;
}

}  // namespace detail

Result<SoftwareAuthority> SoftwareAuthority::generate() {
    detail::PkeyPtr arkKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kRsaBits));
    detail::PkeyPtr askKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kRsaBits));
    std::shared_ptr<EVP_PKEY> vcekKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), EVP_PKEY_free);
    if (!arkKey || !askKey || !vcekKey) return opensslFailure("cannot generate the keys");
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr)) - kBackdate;
    auto ark = makeCertificate({"ARK-Omega-Software", arkKey.get(), nullptr, arkKey.get(), now,
                                now + kRootYears * kYear, "critical,CA:TRUE", false});
    if (!ark) return Error{ark.error()};
    auto ask = makeCertificate({"SEV-Omega-Software", askKey.get(), detail::x509Of(*ark), arkKey.get(), now,
                                now + kRootYears * kYear, "critical,CA:TRUE,pathlen:0", false});
    if (!ask) return Error{ask.error()};
    auto vcek = makeCertificate({"SEV-VCEK-Omega-Software", vcekKey.get(), detail::x509Of(*ask), askKey.get(), now,
                                 now + kVcekYears * kYear, nullptr, true});
    if (!vcek) return Error{vcek.error()};
    SoftwareAuthority authority;
    authority.impl_ = std::make_shared<const Impl>(Impl{Chain{*ark, *ask, *vcek}, std::move(vcekKey)});
    return authority;
}

Result<bool> SoftwareAuthority::save(const std::string& dir) const {
    if (!impl_) return Error{"software authority: nothing to save (not generated or loaded)"};
    namespace fs = std::filesystem;
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return Error{"software authority: cannot create `" + dir + "`: " + error.message()};
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->vcekKey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return opensslFailure("cannot encode the VCEK key");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    const std::string key(data, static_cast<std::size_t>(std::max(length, 0L)));
    const fs::path base(dir);
    for (const auto& [file, text, mode] :
         {std::tuple{"ark.pem", impl_->chain.ark.pem(), mode_t{0644}},
          std::tuple{"ask.pem", impl_->chain.ask.pem(), mode_t{0644}},
          std::tuple{"vcek.pem", impl_->chain.vcek.pem(), mode_t{0644}}, std::tuple{"vcek.key", key, mode_t{0600}}}) {
        if (auto written = writeFile(base / file, text, mode); !written) return Error{written.error()};
    }
    return true;
}

Result<SoftwareAuthority> SoftwareAuthority::load(const std::string& dir) {
    const std::filesystem::path base(dir);
    auto ark = loadCertificate(base / "ark.pem");
    if (!ark) return Error{ark.error()};
    auto ask = loadCertificate(base / "ask.pem");
    if (!ask) return Error{ask.error()};
    auto vcek = loadCertificate(base / "vcek.pem");
    if (!vcek) return Error{vcek.error()};
    auto chain = assembleChain({*ark, *ask, *vcek});
    if (!chain) return Error{"software authority: `" + dir + "`: " + chain.error()};
    if (chain->ark.fingerprint() != ark->fingerprint() || chain->ask.fingerprint() != ask->fingerprint()) {
        return Error{"software authority: `" + dir + "`: ark.pem, ask.pem and vcek.pem hold the wrong roles"};
    }
    if (!detail::namesSoftwareAuthority(chain->ark)) {
        return Error{"software authority: `" + (base / "ark.pem").string() +
                     "` is not a software authority's root (its subject does not say so)"};
    }
    auto pem = readFile(base / "vcek.key");
    if (!pem) return Error{pem.error()};
    detail::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    std::shared_ptr<EVP_PKEY> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, detail::noPassphrase, nullptr) : nullptr, EVP_PKEY_free);
    if (!key) return opensslFailure("`" + (base / "vcek.key").string() + "` is not an unencrypted PEM private key");
    if (EVP_PKEY_eq(key.get(), X509_get0_pubkey(detail::x509Of(chain->vcek))) != 1) {
        detail::takeOpenSslError();
        return Error{"software authority: `" + (base / "vcek.key").string() + "` is not the key of vcek.pem"};
    }
    SoftwareAuthority authority;
    authority.impl_ = std::make_shared<const Impl>(Impl{std::move(*chain), std::move(key)});
    return authority;
}

const Chain& SoftwareAuthority::chain() const {
    // A default-constructed authority has no chain; it answers with empty certificates rather than crashing.
    static const Chain kNone{};
    return impl_ ? impl_->chain : kNone;
}

std::string SoftwareAuthority::chainPem() const {
    if (!impl_) return "";
    return impl_->chain.vcek.pem() + impl_->chain.ask.pem() + impl_->chain.ark.pem();
}

Result<Report> SoftwareAuthority::sign(Report fields) const {
    if (!impl_) return Error{"software authority: cannot sign: not generated or loaded"};
    fields.signatureAlgo = kSignatureAlgoEcdsaP384Sha384;
    fields.chipId = softwareChipId();
    // SIGNING_KEY 0 (the VCEK signs) and MASK_CHIP_KEY clear: the marker in CHIP_ID must stay visible.
    fields.flags &= ~((7u << 2) | 2u);
    fields.signatureR = {};
    fields.signatureS = {};
    auto bytes = encodeReport(fields);

    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, impl_->vcekKey.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes.data(), kSignedSize) != 1) {
        return opensslFailure("cannot sign the report");
    }
    std::vector<unsigned char> der(length);
    if (EVP_DigestSign(ctx.get(), der.data(), &length, bytes.data(), kSignedSize) != 1) {
        return opensslFailure("cannot sign the report");
    }
    const unsigned char* p = der.data();
    detail::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length)));
    if (!sig) return opensslFailure("cannot decode the report signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    // The report stores r and s little-endian, zero-padded to 72 bytes.
    constexpr int kWidth = static_cast<int>(kSignatureComponent);
    if (BN_bn2lebinpad(r, bytes.data() + kSignatureAt, kWidth) != kWidth ||
        BN_bn2lebinpad(s, bytes.data() + kSignatureAt + kSignatureComponent, kWidth) != kWidth) {
        return opensslFailure("cannot store the report signature");
    }
    return parseReport(bytes);
}

bool isSoftwareChipId(const std::array<std::uint8_t, 64>& chipId) {
    return chipId == softwareChipId();
}

}  // namespace omega::attest
