// The certificate chain above a report: AMD's ARK (self-signed root, RSA-4096, RSA-PSS with SHA-384) signs the ASK,
// the ASK signs the VCEK (ECDSA P-384 key of one chip at one TCB), the VCEK signs reports. The software provider
// makes a chain of the same shape whose names say it is not AMD's. Certificates are untrusted input.
#pragma once

#include "omega/attest/Report.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace omega::attest {

// One parsed X.509 certificate (owns an OpenSSL X509).
class Certificate {
public:
    // DER, or one PEM certificate.
    static Result<Certificate> parse(std::span<const std::uint8_t> bytes);
    std::string subject() const;  // one line, RFC 2253
    std::string issuer() const;
    std::int64_t notBefore() const;  // seconds since the Unix epoch
    std::int64_t notAfter() const;
    std::array<std::uint8_t, 32> fingerprint() const;  // SHA-256 of the DER
    std::vector<std::uint8_t> der() const;
    std::string pem() const;
    void* x509() const { return x509_.get(); }  // X509*, for the verifier

private:
    std::shared_ptr<void> x509_;
};

// Every certificate in `bytes`: one DER certificate, or any number of PEM certificates (text between them ignored).
Result<std::vector<Certificate>> parseCertificates(std::span<const std::uint8_t> bytes);

// The three certificates by role. Built from certificates in any order: the ARK is the self-signed one, the ASK the
// one it issued, the VCEK the one the ASK issued; anything else (a missing or extra certificate, two roots, a
// broken issuer link) is an error that says which role is missing or ambiguous.
struct Chain {
    Certificate ark, ask, vcek;
};
Result<Chain> assembleChain(std::vector<Certificate> certificates);

// AMD roots this build knows by the SHA-256 of their DER (the Milan ARK from ../shared/testdata). A chain whose ARK
// is not one of these is trusted only when the caller passes that ARK explicitly.
struct KnownRoot {
    const char* product;  // "Milan"
    std::array<std::uint8_t, 32> fingerprint;
};
std::span<const KnownRoot> knownAmdRoots();

}  // namespace omega::attest
