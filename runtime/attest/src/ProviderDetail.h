// The providers' internals that their unit tests reach (tests/unit/AttestProviderTest.cpp): the file operations the
// configfs-tsm provider makes, the /dev/sev-guest requests, and the checks every hardware report passes.
#pragma once

#include "omega/attest/Provider.h"

#include <linux/sev-guest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace omega::attest::detail {

// An owned file descriptor, closed when it goes.
class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // Closes now and returns 0 or the errno: the last error of a write can surface only here.
    int close() {
        const int fd = std::exchange(fd_, -1);
        return ::close(fd) == 0 ? 0 : errno;
    }

private:
    int fd_;
};

// The checks a provider makes on the report the platform returned before handing it out: 1184 bytes, REPORT_DATA
// (0x50) equal to what was asked, VMPL (0x30) equal to the level asked. A mismatch means the report answers some
// other request; it is an error, never a silently wrong report. `where` begins the message.
Result<bool> checkReport(std::span<const std::uint8_t> report, const ReportData& data, unsigned vmpl,
                         const std::string& where);

// The file operations of the configfs-tsm provider. Each returns 0 or an errno value. The real implementation is
// plain POSIX; tests substitute one that behaves like the kernel's configfs-tsm (a plain directory cannot: the
// kernel makes the attribute files on mkdir, counts writes in `generation` and makes `outblob` when it is read).
class FileSystem {
public:
    virtual ~FileSystem() = default;
    virtual int makeDir(const std::string& path) = 0;
    virtual int removeDir(const std::string& path) = 0;
    // Replaces the content of an existing file (no create) with `bytes`, in one write where possible.
    virtual int writeFile(const std::string& path, std::span<const std::uint8_t> bytes) = 0;
    // The whole file; EFBIG when it is longer than `limit` bytes.
    virtual int readFile(const std::string& path, std::size_t limit, std::vector<std::uint8_t>& out) = 0;
};
std::unique_ptr<FileSystem> posixFileSystem();
std::unique_ptr<Provider> configfsTsm(ConfigfsOptions options, std::shared_ptr<FileSystem> fs);

// The /dev/sev-guest requests. Each returns 0 or an errno value and leaves in `exitinfo2` what the driver reported
// (firmware error in the low 32 bits, VMM error in the high 32).
class SevDevice {
public:
    virtual ~SevDevice() = default;
    virtual int getReport(snp_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) = 0;
    // request.certs_address and certs_len name the caller's buffer; on SNP_GUEST_VMM_ERR_INVALID_LEN the driver
    // puts the length it needs in certs_len.
    virtual int getExtReport(snp_ext_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) = 0;
};
using SevDeviceOpener = std::function<Result<std::unique_ptr<SevDevice>>(const std::string& path)>;
Result<std::unique_ptr<SevDevice>> openSevDevice(const std::string& path);
std::unique_ptr<Provider> sevGuest(SevGuestOptions options, SevDeviceOpener open);

// MSG_REPORT_RSP (SEV-SNP firmware ABI): status u32, report_size u32, 24 reserved bytes, the report. Returns the
// report's bytes after checking status 0 and a report_size that fits the payload.
Result<std::vector<std::uint8_t>> parseReportResponse(std::span<const std::uint8_t> payload);

// The certificate buffer of SNP_GET_EXT_REPORT: the first size tried, and the most the provider asks for when the
// driver says the certificates need more (the kernel itself caps it at 16 KiB today).
inline constexpr std::size_t kSevCertsInitial = 16 * 1024;
inline constexpr std::size_t kSevCertsMax = 1024 * 1024;
inline constexpr int kSevCertsAttempts = 3;

}  // namespace omega::attest::detail
