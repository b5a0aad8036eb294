// The /dev/sev-guest provider: the SNP_GET_REPORT and SNP_GET_EXT_REPORT ioctls of <linux/sev-guest.h>, the interface
// of kernels before configfs-tsm and still beside it. The device exists only inside an SEV-SNP guest, so the
// provider speaks to it through the SevDevice interface of ProviderDetail.h, which unit tests replace.
#include "ProviderDetail.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>
#include <system_error>

namespace omega::attest {

namespace detail {

namespace {

constexpr std::uint8_t kMessageVersion = 1;    // the driver rejects 0
constexpr std::size_t kResponseHeader = 0x20;  // status, report_size, 24 reserved bytes
constexpr unsigned kVmplMax = 3;
// The firmware's "invalid parameters" status (SEV_RET_INVALID_PARAM in <linux/psp-sev.h>).
constexpr std::uint32_t kStatusInvalidParam = 0x16;

std::string errnoText(int e) {
    return std::error_code(e, std::generic_category()).message();
}

std::string hex(std::uint64_t v) {
    char buffer[16];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v, 16);
    return "0x" + std::string(buffer, result.ptr);
}

std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

class PosixSevDevice : public SevDevice {
public:
    explicit PosixSevDevice(UniqueFd fd) : fd_(std::move(fd)) {}

    int getReport(snp_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) override {
        return issue(SNP_GET_REPORT, &request, response, exitinfo2);
    }
    int getExtReport(snp_ext_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) override {
        return issue(SNP_GET_EXT_REPORT, &request, response, exitinfo2);
    }

private:
    int issue(unsigned long command, void* request, snp_report_resp& response, std::uint64_t& exitinfo2) {
        for (;;) {
            snp_guest_request_ioctl io{};
            io.msg_version = kMessageVersion;
            io.req_data = reinterpret_cast<std::uintptr_t>(request);
            io.resp_data = reinterpret_cast<std::uintptr_t>(&response);
            const int rc = ::ioctl(fd_.get(), command, &io);
            exitinfo2 = io.exitinfo2;
            if (rc == 0) return 0;
            if (errno != EINTR) return errno;
        }
    }

    UniqueFd fd_;
};

// "<where> failed: <errno>" with what exitinfo2 adds: the firmware's error (low half) and the host's (high half).
std::string describeFailure(const std::string& where, int error, std::uint64_t exitinfo2) {
    std::string m = where + " failed: " + errnoText(error);
    // The driver sets all ones before it calls the firmware (SEV_RET_NO_FW_CALL).
    if (exitinfo2 == ~std::uint64_t{0}) return m + " (no firmware call was made)";
    const auto fw = static_cast<std::uint32_t>(exitinfo2);
    const auto vmm = static_cast<std::uint32_t>(exitinfo2 >> 32);
    if (fw != 0) m += ", firmware error " + hex(fw);
    if (vmm == SNP_GUEST_VMM_ERR_INVALID_LEN)
        m += ", VMM error 1 (certificate buffer too small)";
    else if (vmm == SNP_GUEST_VMM_ERR_BUSY)
        m += ", VMM error 2 (the host is busy)";
    else if (vmm != 0)
        m += ", VMM error " + hex(vmm);
    return m;
}

void fillRequest(snp_report_req& request, const ReportData& data, unsigned vmpl) {
    std::memcpy(request.user_data, data.data(), data.size());
    request.vmpl = vmpl;
}

std::size_t pageSize() {
    const long page = ::sysconf(_SC_PAGESIZE);
    return page > 0 ? static_cast<std::size_t>(page) : 4096;
}

std::size_t roundUp(std::size_t n, std::size_t page) {
    return (n + page - 1) / page * page;
}

class SevGuestProvider : public Provider {
public:
    SevGuestProvider(SevGuestOptions options, SevDeviceOpener open)
        : options_(std::move(options)), open_(std::move(open)) {}

    std::string name() const override { return "sev-guest (" + options_.device + ")"; }
    bool hardware() const override { return true; }

    Result<Evidence> report(const ReportData& data) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (options_.vmpl > kVmplMax)
            return Error{"sev-guest: VMPL " + std::to_string(options_.vmpl) + " is out of range (0 to " +
                         std::to_string(kVmplMax) + ")"};
        auto device = open_(options_.device);
        if (!device) return Error{device.error()};

        snp_report_resp response{};
        std::vector<std::uint8_t> certificates;
        if (options_.extended) {
            auto done = extendedReport(**device, data, response, certificates);
            if (!done) return Error{done.error()};
        } else {
            snp_report_req request{};
            fillRequest(request, data, options_.vmpl);
            std::uint64_t exitinfo2 = 0;
            if (const int e = (*device)->getReport(request, response, exitinfo2))
                return Error{describeFailure(where("SNP_GET_REPORT"), e, exitinfo2)};
        }

        auto report = parseReportResponse(response.data);
        if (!report) return Error{"sev-guest: " + report.error()};
        auto checked = checkReport(*report, data, options_.vmpl, "sev-guest");
        if (!checked) return Error{checked.error()};
        Evidence evidence;
        evidence.report = std::move(*report);
        evidence.provider = "sev-guest";
        evidence.hardware = true;
        // The driver zeroes the buffer first, so a host that sent no certificates leaves an empty table.
        auto pem = certificateTableToPem(certificates);
        if (!pem) return Error{"sev-guest: " + pem.error()};
        evidence.certificates = std::move(*pem);
        return evidence;
    }

private:
    std::string where(const char* command) const {
        return "sev-guest: " + std::string(command) + " on `" + options_.device + "`";
    }

    // SNP_GET_EXT_REPORT with a certificate buffer that grows when the host says it is too small: the driver then
    // fails with SNP_GUEST_VMM_ERR_INVALID_LEN and puts the length it needs in certs_len (page aligned, as the
    // driver requires of the length we pass).
    Result<bool> extendedReport(SevDevice& device, const ReportData& data, snp_report_resp& response,
                                std::vector<std::uint8_t>& certificates) {
        const std::size_t page = pageSize();
        std::size_t size = roundUp(kSevCertsInitial, page);
        for (int attempt = 1;; ++attempt) {
            certificates.assign(size, 0);
            snp_ext_report_req request{};
            fillRequest(request.data, data, options_.vmpl);
            request.certs_address = reinterpret_cast<std::uintptr_t>(certificates.data());
            request.certs_len = static_cast<std::uint32_t>(size);
            std::uint64_t exitinfo2 = 0;
            const int e = device.getExtReport(request, response, exitinfo2);
            if (e == 0) return true;
            const std::string at = where("SNP_GET_EXT_REPORT");
            if ((exitinfo2 >> 32) != SNP_GUEST_VMM_ERR_INVALID_LEN) return Error{describeFailure(at, e, exitinfo2)};
            const std::size_t needed = request.certs_len;
            if (needed <= size)
                return Error{at + ": the host finds " + std::to_string(size) +
                             " bytes too few for the certificates but asks for " + std::to_string(needed)};
            if (needed > kSevCertsMax)
                return Error{at + ": the host asks for " + std::to_string(needed) +
                             " bytes of certificates, more than the " + std::to_string(kSevCertsMax) + " allowed"};
            if (attempt == kSevCertsAttempts)
                return Error{at + ": the certificates did not fit in " + std::to_string(kSevCertsAttempts) +
                             " attempts (the host last asked for " + std::to_string(needed) + " bytes)"};
            size = roundUp(needed, page);
        }
    }

    std::mutex mutex_;
    SevGuestOptions options_;
    SevDeviceOpener open_;
};

}  // namespace

Result<std::vector<std::uint8_t>> parseReportResponse(std::span<const std::uint8_t> payload) {
    if (payload.size() < kResponseHeader)
        return Error{"report response: " + std::to_string(payload.size()) + " bytes, shorter than its " +
                     std::to_string(kResponseHeader) + "-byte header"};
    const std::uint32_t status = le32(payload.data());
    const std::uint32_t size = le32(payload.data() + 4);
    if (status != 0)
        return Error{"report response: firmware status " + hex(status) +
                     (status == kStatusInvalidParam ? " (invalid parameters)" : "")};
    if (size > payload.size() - kResponseHeader)
        return Error{"report response: report_size " + std::to_string(size) + " exceeds the " +
                     std::to_string(payload.size() - kResponseHeader) + " bytes after the header"};
    const auto report = payload.subspan(kResponseHeader, size);
    return std::vector<std::uint8_t>(report.begin(), report.end());
}

Result<std::unique_ptr<SevDevice>> openSevDevice(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) {
        const int e = errno;
        return Error{"sev-guest: cannot open `" + path + "`: " + errnoText(e) +
                     (e == ENOENT ? " (not an SEV-SNP guest, or the sev-guest driver is not loaded)" : "")};
    }
    return std::unique_ptr<SevDevice>(std::make_unique<PosixSevDevice>(std::move(fd)));
}

std::unique_ptr<Provider> sevGuest(SevGuestOptions options, SevDeviceOpener open) {
    return std::make_unique<SevGuestProvider>(std::move(options), std::move(open));
}

}  // namespace detail

std::unique_ptr<Provider> sevGuest(SevGuestOptions options) {
    return detail::sevGuest(std::move(options), detail::openSevDevice);
}

}  // namespace omega::attest
