// The software authority: a locally generated ARK/ASK/VCEK chain of AMD's shape (RSA-4096 RSA-PSS roots, an ECDSA
// P-384 VCEK) that signs real-format reports on machines without SEV-SNP. Its certificates' names say "NOT AMD" and
// every report it signs carries a marker in CHIP_ID, so that nothing it makes can pass for hardware evidence.
#pragma once

#include "omega/attest/Certs.h"
#include "omega/attest/Report.h"

#include <memory>
#include <string>

namespace omega::attest {

class SoftwareAuthority {
public:
    // A fresh chain (two RSA-4096 keys: a few seconds).
    static Result<SoftwareAuthority> generate();
    // DIR/ark.pem, ask.pem, vcek.pem (certificates) and DIR/vcek.key (PKCS#8 PEM, mode 0600); creates DIR.
    Result<bool> save(const std::string& dir) const;
    static Result<SoftwareAuthority> load(const std::string& dir);

    const Chain& chain() const;
    std::string chainPem() const;  // VCEK, ASK, ARK
    // A signed report: `fields` with signatureAlgo 1, the software marker in chipId, and the signature set.
    Result<Report> sign(Report fields) const;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

// The CHIP_ID of software reports: "OMEGA SOFTWARE SEV-SNP STAND-IN: NOT HARDWARE EVIDENCE" padded with zeros.
bool isSoftwareChipId(const std::array<std::uint8_t, 64>& chipId);

}  // namespace omega::attest
