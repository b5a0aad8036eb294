// The software provider, the choice of hardware provider, and the checks every hardware report passes before a
// provider hands it out. configfs-tsm is in Configfs.cpp, /dev/sev-guest in SevGuest.cpp.
#include "ProviderDetail.h"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>

namespace omega::attest {

namespace detail {

Result<bool> checkReport(std::span<const std::uint8_t> report, const ReportData& data, unsigned vmpl,
                         const std::string& where) {
    if (report.size() != kReportSize)
        return Error{where + ": the report is " + std::to_string(report.size()) + " bytes, expected " +
                     std::to_string(kReportSize)};
    if (!std::equal(data.begin(), data.end(), report.begin() + kReportDataAt))
        return Error{where + ": the report's REPORT_DATA is not the data asked for (it answers another request)"};
    constexpr std::size_t kVmplAt = 0x30;
    const std::uint32_t got =
        static_cast<std::uint32_t>(report[kVmplAt]) | static_cast<std::uint32_t>(report[kVmplAt + 1]) << 8 |
        static_cast<std::uint32_t>(report[kVmplAt + 2]) << 16 | static_cast<std::uint32_t>(report[kVmplAt + 3]) << 24;
    if (got != vmpl)
        return Error{where + ": the report is for VMPL " + std::to_string(got) + ", asked for " + std::to_string(vmpl)};
    return true;
}

}  // namespace detail

namespace {

// Reports in the real format, signed by a locally generated chain. The report itself cannot say it is not hardware
// evidence beyond the CHIP_ID marker the authority puts in; the provider's name, Evidence::provider and
// Evidence::hardware say it too.
class SoftwareProvider : public Provider {
public:
    SoftwareProvider(SoftwareAuthority authority, unsigned vmpl) : authority_(std::move(authority)), vmpl_(vmpl) {}

    std::string name() const override { return "software (NOT hardware evidence)"; }
    bool hardware() const override { return false; }

    Result<Evidence> report(const ReportData& data) override {
        std::lock_guard<std::mutex> lock(mutex_);
        Report fields;
        fields.version = 2;  // the layout of the Milan reports in the tests
        // SMT allowed (bit 16) and bit 17, which the ABI requires set: a guest policy like the usual one, with
        // DEBUG clear, so that verification's policy checks behave as they would for a real guest.
        fields.policy = 0x30000;
        fields.vmpl = vmpl_;
        fields.reportData = data;
        // MEASUREMENT stays 48 zero bytes: no launch digest was taken, so no expected measurement can match it.
        auto signedReport = authority_.sign(fields);
        if (!signedReport) return Error{"software provider: " + signedReport.error()};
        Evidence evidence;
        evidence.report.assign(signedReport->bytes.begin(), signedReport->bytes.end());
        evidence.certificates = authority_.chainPem();
        evidence.provider = "software";
        evidence.hardware = false;
        return evidence;
    }

private:
    std::mutex mutex_;
    SoftwareAuthority authority_;
    unsigned vmpl_;
};

bool exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

}  // namespace

std::unique_ptr<Provider> software(SoftwareAuthority authority, unsigned vmpl) {
    return std::make_unique<SoftwareProvider>(std::move(authority), vmpl);
}

Result<std::unique_ptr<Provider>> detectHardware() {
    const ConfigfsOptions configfs;
    if (exists(configfs.root.c_str())) return configfsTsm(configfs);
    const SevGuestOptions sev;
    if (exists(sev.device.c_str())) return sevGuest(sev);
    return Error{"no SEV-SNP attestation interface on this machine: neither `" + configfs.root + "` nor `" +
                 sev.device + "` exists (the software provider works anywhere but is not hardware evidence)"};
}

}  // namespace omega::attest
