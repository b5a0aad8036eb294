// libFuzzer target for attestation evidence (omegac attest's untrusted input): any bytes, as a report and as
// certificates and as a GHCB certificate table, go through parseReport, reportToJson, encodeReport,
// parseCertificates, assembleChain, certificateTableToPem and verify
// with the real Milan chain without crashing or tripping a sanitizer, and the verifier keeps its promise: nothing
// but the real Milan report with the real Milan chain is accepted. Seeds: tests/fuzz/seeds/attest.
#include "omega/attest/Provider.h"
#include "omega/attest/Verify.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using namespace omega::attest;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kMilanNow = 1704067200;  // 2024-01-01, inside the Milan chain's validity

void check(bool ok) {
    if (!ok) std::abort();
}

// The Milan data lives in the source tree (tests/data/sev-snp), found through OMEGA_SOURCE_DIR, so the fuzzer runs
// from any directory without a data argument that libFuzzer would take for a corpus.
Bytes readData(const char* name) {
    const auto path = std::filesystem::path(OMEGA_SOURCE_DIR) / "tests" / "data" / "sev-snp" / name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "attest_report_fuzzer: cannot read %s\n", path.c_str());
        std::abort();
    }
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Milan {
    Bytes report;
    std::vector<Certificate> chain;  // VCEK, ASK, ARK
    Chain roles;
};

// Loaded once per process: a harness, not library code.
const Milan& milan() {
    static const Milan m = [] {
        Milan out;
        out.report = readData("milan-report.bin");
        for (const char* name : {"milan-vcek.der", "milan-ask-ark.pem"}) {
            auto certificates = parseCertificates(readData(name));
            check(certificates.ok());
            out.chain.insert(out.chain.end(), certificates->begin(), certificates->end());
        }
        auto roles = assembleChain(out.chain);
        check(roles.ok());
        out.roles = *roles;
        VerifyOptions options;
        options.now = kMilanNow;
        check(verify(out.report, out.chain, options).accepted);
        return out;
    }();
    return m;
}

void fuzzReport(const Bytes& bytes) {
    auto report = parseReport(bytes);
    if (!report) {
        check(!report.error().empty());
    } else {
        check(!reportToJson(*report).empty());
        // Encoding canonicalises (reserved bytes zero); after that, parse and encode are inverses.
        const auto canonical = encodeReport(*report);
        auto again = parseReport(canonical);
        check(again.ok() && encodeReport(*again) == canonical && reportToJson(*again) == reportToJson(*report));
    }
    VerifyOptions options;
    options.now = kMilanNow;
    const Verdict verdict = verify(bytes, milan().chain, options);
    check(!verdict.checks.empty());
    check(verdict.accepted == (verdict.firstFailure() == nullptr));
    if (verdict.accepted) check(bytes == milan().report);
}

void fuzzCertificates(const Bytes& bytes) {
    auto certificates = parseCertificates(bytes);
    if (!certificates) {
        check(!certificates.error().empty());
        return;
    }
    for (const Certificate& c : *certificates) {
        (void)c.subject();
        (void)c.issuer();
        (void)c.notBefore();
        (void)c.notAfter();
        const auto der = c.der();
        auto reparsed = Certificate::parse(der);
        check(reparsed.ok() && reparsed->fingerprint() == c.fingerprint());
        const std::string pem = c.pem();
        auto fromPem = parseCertificates(Bytes(pem.begin(), pem.end()));
        check(fromPem.ok() && fromPem->size() == 1 && (*fromPem)[0].fingerprint() == c.fingerprint());
    }
    if (auto roles = assembleChain(*certificates)) {
        check(roles->ark.fingerprint() != roles->ask.fingerprint() &&
              roles->ask.fingerprint() != roles->vcek.fingerprint());
    }
    VerifyOptions options;
    options.now = kMilanNow;
    // As the whole chain, and with the Milan VCEK added (the seeds hold the ASK and ARK in one PEM file).
    std::vector<Certificate> withVcek = *certificates;
    withVcek.push_back(milan().roles.vcek);
    for (const auto* chain : {&*certificates, &withVcek}) {
        const Verdict verdict = verify(milan().report, *chain, options);
        if (verdict.accepted) {
            auto accepted = assembleChain(*chain);
            check(accepted.ok() && accepted->ark.fingerprint() == milan().roles.ark.fingerprint() &&
                  accepted->ask.fingerprint() == milan().roles.ask.fingerprint() &&
                  accepted->vcek.fingerprint() == milan().roles.vcek.fingerprint());
        }
    }
}

// The certificate table of configfs-tsm's auxblob and SNP_GET_EXT_REPORT: whatever it yields is PEM that parses.
void fuzzCertificateTable(const Bytes& bytes) {
    auto pem = certificateTableToPem(bytes);
    if (!pem) {
        check(!pem.error().empty());
        return;
    }
    if (pem->empty()) return;
    auto certificates = parseCertificates(Bytes(pem->begin(), pem->end()));
    check(certificates.ok() && !certificates->empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes bytes(data, data + size);
    fuzzReport(bytes);
    fuzzCertificates(bytes);
    fuzzCertificateTable(bytes);
    return 0;
}
