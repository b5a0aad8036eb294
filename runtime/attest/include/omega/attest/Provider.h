// Report providers: how the monitor asks the platform for a report with given REPORT_DATA. Linux configfs-tsm
// (/sys/kernel/config/tsm/report), the /dev/sev-guest ioctls (SNP_GET_REPORT, SNP_GET_EXT_REPORT), and the software
// authority for machines without SEV-SNP. docs/attestation.md says what each proves.
#pragma once

#include "omega/attest/Report.h"
#include "omega/attest/Software.h"

#include <memory>
#include <string>
#include <vector>

namespace omega::attest {

struct Evidence {
    std::vector<std::uint8_t> report;  // the raw report (1184 bytes for SEV-SNP)
    std::string certificates;          // PEM, the chain the platform supplied (VCEK, ASK, ARK), or "" when none
    std::string provider;              // "configfs-tsm (sev_guest)", "sev-guest", "software"
    bool hardware = false;             // false: software evidence, which proves nothing about hardware
};

class Provider {
public:
    virtual ~Provider() = default;
    virtual std::string name() const = 0;
    virtual bool hardware() const = 0;
    // A report whose REPORT_DATA is `data`, at the provider's VMPL. Thread-safe (calls are serialised).
    virtual Result<Evidence> report(const ReportData& data) = 0;
};

struct ConfigfsOptions {
    std::string root = "/sys/kernel/config/tsm/report";
    unsigned privlevel = 0;    // the VMPL asked for (privlevel attribute)
    bool certificates = true;  // read auxblob (the certificate table) when the provider offers it
    int retries = 3;           // a generation race (another writer between our write and read) is retried
};
std::unique_ptr<Provider> configfsTsm(ConfigfsOptions options = {});

struct SevGuestOptions {
    std::string device = "/dev/sev-guest";
    unsigned vmpl = 0;
    bool extended = true;  // SNP_GET_EXT_REPORT (report and certificate table), else SNP_GET_REPORT
};
std::unique_ptr<Provider> sevGuest(SevGuestOptions options = {});

std::unique_ptr<Provider> software(SoftwareAuthority authority, unsigned vmpl = 0);

// The hardware provider this machine has: configfs-tsm when its directory exists, else /dev/sev-guest when it
// exists, else an error saying neither is there. Never falls back to software on its own.
Result<std::unique_ptr<Provider>> detectHardware();

// The GHCB certificate table (auxblob, SNP_GET_EXT_REPORT): entries of GUID, offset, length, ended by a zero entry.
// Returns the certificates it holds as PEM (VCEK, ASK, ARK order when present); untrusted input.
Result<std::string> certificateTableToPem(std::span<const std::uint8_t> table);

}  // namespace omega::attest
