// X.509 certificates above a report: parsing DER and PEM (untrusted input, size-limited), sorting a set of
// certificates into ARK, ASK and VCEK by their issuer links, and the AMD roots this build knows.
#include "omega/attest/Certs.h"
#include "OpenSslPtr.h"
#include "omega/attest/Binding.h"

#include <openssl/pem.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string_view>

namespace omega::attest {

namespace {

constexpr std::size_t kMaxCertificateSize = 64 * 1024;  // AMD's are under 2 KiB
constexpr std::size_t kMaxCertificatesInput = 1024 * 1024;
constexpr std::size_t kMaxCertificates = 16;
constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE-----";
constexpr std::uint8_t kDerSequence = 0x30;
constexpr std::string_view kParsePrefix = "certificate: ";

std::string describe(const char* what) {
    const std::string reason = detail::takeOpenSslError();
    return reason.empty() ? what : std::string(what) + " (" + reason + ")";
}

// Seconds since the epoch, or nullopt when OpenSSL cannot read the time.
std::optional<std::int64_t> epochSeconds(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    using namespace std::chrono;
    const sys_days day = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                         std::chrono::day{static_cast<unsigned>(tm.tm_mday)};
    return std::int64_t{day.time_since_epoch().count()} * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

std::string nameToString(const X509_NAME* name) {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        ERR_clear_error();
        return "";
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

std::size_t lineOf(std::string_view text, std::size_t offset) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < offset; ++i) line += text[i] == '\n';
    return line;
}

bool issued(const Certificate& issuer, const Certificate& subject) {
    const bool ok = X509_check_issued(detail::x509Of(issuer), detail::x509Of(subject)) == X509_V_OK;
    ERR_clear_error();
    return ok;
}

std::string quoted(const Certificate& c) {
    return "`" + c.subject() + "`";
}

// The one certificate among `candidates` (indexes into `all`) for `role`, or an error naming the role;
// `relation` says what the candidates have in common ("self-issued").
Result<std::size_t> single(const std::vector<Certificate>& all, const std::vector<std::size_t>& candidates,
                           const std::string& role, const std::string& relation) {
    if (candidates.empty()) return Error{"chain: no " + role + ": no certificate is " + relation};
    if (candidates.size() > 1) {
        return Error{"chain: the " + role + " is ambiguous: certificate " + std::to_string(candidates[0] + 1) + " " +
                     quoted(all[candidates[0]]) + " and certificate " + std::to_string(candidates[1] + 1) + " " +
                     quoted(all[candidates[1]]) + " are both " + relation};
    }
    return candidates[0];
}

}  // namespace

Result<Certificate> Certificate::parse(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return Error{"certificate: empty input"};
    if (bytes.size() > kMaxCertificateSize) {
        return Error{"certificate: " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                     std::to_string(kMaxCertificateSize)};
    }
    X509* x509 = nullptr;
    if (bytes[0] == kDerSequence) {
        const unsigned char* p = bytes.data();
        x509 = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
        if (x509 == nullptr) return Error{describe("certificate: not a valid DER X.509 certificate")};
        const auto used = static_cast<std::size_t>(p - bytes.data());
        if (used != bytes.size()) {
            X509_free(x509);
            return Error{"certificate: " + std::to_string(bytes.size() - used) +
                         " trailing bytes after the DER certificate"};
        }
    } else {
        detail::BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
        if (!bio) return Error{"certificate: out of memory"};
        x509 = PEM_read_bio_X509(bio.get(), nullptr, detail::noPassphrase, nullptr);
        if (x509 == nullptr) {
            return Error{describe("certificate: neither DER nor a valid PEM `CERTIFICATE` block")};
        }
    }
    Certificate c;
    c.x509_ = std::shared_ptr<void>(x509, [](void* p) { X509_free(static_cast<X509*>(p)); });
    return c;
}

// A default-constructed Certificate holds nothing: its names are empty, it is never valid, its DER is empty.

std::string Certificate::subject() const {
    return x509_ ? nameToString(X509_get_subject_name(detail::x509Of(*this))) : "";
}

std::string Certificate::issuer() const {
    return x509_ ? nameToString(X509_get_issuer_name(detail::x509Of(*this))) : "";
}

// A time OpenSSL cannot read makes the certificate never valid: not before the end of time, not after its start.
std::int64_t Certificate::notBefore() const {
    const auto t = x509_ ? epochSeconds(X509_get0_notBefore(detail::x509Of(*this))) : std::nullopt;
    return t.value_or(std::numeric_limits<std::int64_t>::max());
}

std::int64_t Certificate::notAfter() const {
    const auto t = x509_ ? epochSeconds(X509_get0_notAfter(detail::x509Of(*this))) : std::nullopt;
    return t.value_or(std::numeric_limits<std::int64_t>::min());
}

std::array<std::uint8_t, 32> Certificate::fingerprint() const {
    std::array<std::uint8_t, 32> out{};
    const std::vector<std::uint8_t> bytes = der();
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) {
        // Only an allocation failure gets here; like a failed `new`, it is fatal.
        std::abort();
    }
    return out;
}

std::vector<std::uint8_t> Certificate::der() const {
    if (!x509_) return {};
    unsigned char* data = nullptr;
    const int length = i2d_X509(detail::x509Of(*this), &data);
    if (length <= 0) {
        ERR_clear_error();
        return {};
    }
    detail::OpenSslBytes owned(data);
    return std::vector<std::uint8_t>(data, data + length);
}

std::string Certificate::pem() const {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!x509_ || !bio || PEM_write_bio_X509(bio.get(), detail::x509Of(*this)) != 1) {
        ERR_clear_error();
        return "";
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

Result<std::vector<Certificate>> parseCertificates(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return Error{"certificates: empty input"};
    if (bytes.size() > kMaxCertificatesInput) {
        return Error{"certificates: " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                     std::to_string(kMaxCertificatesInput)};
    }
    std::vector<Certificate> out;
    if (bytes[0] == kDerSequence) {
        auto c = Certificate::parse(bytes);
        if (!c) return Error{c.error()};
        out.push_back(std::move(*c));
        return out;
    }
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (std::size_t at = text.find(kPemBegin); at != std::string_view::npos; at = text.find(kPemBegin, at)) {
        const std::string where =
            "certificate " + std::to_string(out.size() + 1) + " (line " + std::to_string(lineOf(text, at)) + ")";
        if (out.size() == kMaxCertificates) {
            return Error{where + ": more than " + std::to_string(kMaxCertificates) + " certificates"};
        }
        const std::size_t end = text.find(kPemEnd, at + kPemBegin.size());
        if (end == std::string_view::npos) return Error{where + ": no `" + std::string(kPemEnd) + "` line"};
        const std::size_t next = end + kPemEnd.size();
        auto c = Certificate::parse(bytes.subspan(at, next - at));
        if (!c) {
            // Certificate::parse's own prefix gives way to the position.
            const std::string_view error = c.error();
            return Error{where + ": " +
                         std::string(error.substr(error.starts_with(kParsePrefix) ? kParsePrefix.size() : 0))};
        }
        out.push_back(std::move(*c));
        at = next;
    }
    if (out.empty()) {
        return Error{"certificates: neither a DER certificate nor PEM text with a `" + std::string(kPemBegin) +
                     "` line"};
    }
    return out;
}

// The ARK is the one self-issued certificate (X509_check_issued with itself: issuer name equals subject name and
// its key identifiers agree); the ASK the one other certificate the ARK issued, the VCEK the one the ASK issued.
// Issued means names and key identifiers link (X509_check_issued); the signatures themselves are the verifier's
// checks. Input order does not matter; anything left over is an error.
Result<Chain> assembleChain(std::vector<Certificate> certificates) {
    if (certificates.empty()) return Error{"chain: no certificates (expected the VCEK, ASK and ARK)"};
    if (certificates.size() > kMaxCertificates) {
        return Error{"chain: " + std::to_string(certificates.size()) + " certificates, over the limit of " +
                     std::to_string(kMaxCertificates)};
    }
    for (std::size_t i = 0; i < certificates.size(); ++i) {
        if (certificates[i].x509() == nullptr)
            return Error{"chain: certificate " + std::to_string(i + 1) + " is empty"};
    }
    const auto issuedBy = [&](std::size_t issuer) {
        std::vector<std::size_t> found;
        for (std::size_t i = 0; i < certificates.size(); ++i) {
            if (i != issuer && issued(certificates[issuer], certificates[i])) found.push_back(i);
        }
        return found;
    };
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < certificates.size(); ++i) {
        if (issued(certificates[i], certificates[i])) roots.push_back(i);
    }
    auto ark = single(certificates, roots, "ARK", "self-issued");
    if (!ark) return Error{ark.error()};
    auto ask = single(certificates, issuedBy(*ark), "ASK", "issued by the ARK " + quoted(certificates[*ark]));
    if (!ask) return Error{ask.error()};
    auto vcek = single(certificates, issuedBy(*ask), "VCEK", "issued by the ASK " + quoted(certificates[*ask]));
    if (!vcek) return Error{vcek.error()};
    for (std::size_t i = 0; i < certificates.size(); ++i) {
        if (i != *ark && i != *ask && i != *vcek) {
            return Error{"chain: extra certificate " + std::to_string(i + 1) + " " + quoted(certificates[i]) +
                         ": it is not the ARK, the ASK or the VCEK"};
        }
    }
    return Chain{certificates[*ark], certificates[*ask], certificates[*vcek]};
}

std::span<const KnownRoot> knownAmdRoots() {
    // SHA-256 of the DER of AMD's ARK-Milan (the second certificate of tests/data/sev-snp/milan-ask-ark.pem, as
    // AMD's key distribution service serves it).
    static constexpr KnownRoot kRoots[] = {
        {"Milan", {0x69, 0xd0, 0x63, 0xb4, 0x53, 0x44, 0xd2, 0x6a, 0x2e, 0x94, 0xe1, 0xf4, 0x21, 0x0d, 0xe4, 0x9e,
                   0xf5, 0x55, 0x30, 0x82, 0x87, 0xd4, 0xc1, 0x74, 0x44, 0x5c, 0x95, 0x63, 0x9a, 0x54, 0x0b, 0xcd}},
    };
    return kRoots;
}

}  // namespace omega::attest
