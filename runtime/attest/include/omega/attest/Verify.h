// Verifying a report: every check is named, runs in a fixed order and reports pass or fail with a reason; the
// verdict is accepted only when every check that ran passed. `omegac attest verify` prints the checks.
#pragma once

#include "omega/attest/Certs.h"
#include "omega/attest/Report.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace omega::attest {

struct VerifyOptions {
    // Roots accepted besides knownAmdRoots(), by certificate (a software provider's ARK, another AMD product's).
    std::vector<Certificate> trustedRoots;
    std::optional<std::int64_t> now;  // seconds since the epoch for validity periods (default: the clock)
    // Policy checks, run only when set.
    bool allowDebug = true;                        // false: POLICY.DEBUG must be clear
    std::optional<std::uint32_t> maxVmpl;          // VMPL must be <= this
    std::optional<TcbVersion> minTcb;              // each component of REPORTED_TCB >= this one's
    std::optional<ReportData> expectedReportData;  // REPORT_DATA must equal this (the binding)
};

struct Check {
    std::string name;  // stable identifier, e.g. "report.signature", "chain.ask-signed-by-ark"
    bool ok = false;
    std::string detail;  // what was compared, or why it failed
};

struct Verdict {
    bool accepted = false;
    bool software = false;  // the root is a software provider's: this proves nothing about hardware
    std::optional<Report> report;
    std::vector<Check> checks;
    const Check* firstFailure() const;
};

// Parses and verifies `reportBytes` against the certificates in `chain` (any order). Never throws; a malformed
// report or chain is a failed check ("report.parse", "chain.parse", ...), not an exception.
Verdict verify(std::span<const std::uint8_t> reportBytes, std::vector<Certificate> chain, const VerifyOptions& options);

}  // namespace omega::attest
