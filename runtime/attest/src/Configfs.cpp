// The configfs-tsm provider (Linux 6.7 and later, Documentation/ABI/testing/configfs-tsm): a report entry of our own
// under /sys/kernel/config/tsm/report, written and read through the FileSystem interface of ProviderDetail.h.
// Production uses plain POSIX calls; the unit tests put under it a stand-in that behaves like the kernel (attribute
// files appear on mkdir, writes advance `generation`, reading `outblob` makes a report), because a plain directory
// cannot, and the real interface exists only inside an SEV-SNP guest.
#include "ProviderDetail.h"

#include "omega/attest/Binding.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <system_error>

namespace omega::attest {

namespace detail {

namespace {

class PosixFileSystem : public FileSystem {
public:
    int makeDir(const std::string& path) override { return ::mkdir(path.c_str(), 0700) == 0 ? 0 : errno; }
    int removeDir(const std::string& path) override { return ::rmdir(path.c_str()) == 0 ? 0 : errno; }

    int writeFile(const std::string& path, std::span<const std::uint8_t> bytes) override {
        // No O_CREAT: configfs makes the attributes; a missing one means the provider does not offer it.
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
        if (fd.get() < 0) return errno;
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            done += static_cast<std::size_t>(n);
        }
        return fd.close();
    }

    int readFile(const std::string& path, std::size_t limit, std::vector<std::uint8_t>& out) override {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) return errno;
        out.clear();
        std::uint8_t buffer[4096];
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            if (n == 0) return 0;
            if (out.size() + static_cast<std::size_t>(n) > limit) return EFBIG;
            out.insert(out.end(), buffer, buffer + n);
        }
    }
};

// The kernel's outblob and auxblob hold at most 32 KiB (TSM_OUTBLOB_MAX); text attributes are one short line.
constexpr std::size_t kBlobLimit = 64 * 1024;
constexpr std::size_t kTextLimit = 64;
constexpr unsigned kPrivlevelMax = 3;  // TSM_PRIVLEVEL_MAX
constexpr const char* kSevProvider = "sev_guest";
constexpr int kNameAttempts = 8;

std::string errnoText(int e) {
    return std::error_code(e, std::generic_category()).message();
}

std::string quoted(const std::string& path) {
    return "`" + path + "`";
}

// A report entry of our own, removed on every way out: the kernel keeps an entry and its last report until rmdir.
class Entry {
public:
    Entry(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() {
        if (!path_.empty()) fs_.removeDir(path_);
    }
    std::string attribute(const char* name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }
    // Removes it now; 0 or the errno.
    int remove() {
        const int e = fs_.removeDir(path_);
        if (e == 0) path_.clear();
        return e;
    }

private:
    FileSystem& fs_;
    std::string path_;
};

class ConfigfsProvider : public Provider {
public:
    ConfigfsProvider(ConfigfsOptions options, std::shared_ptr<FileSystem> fs)
        : options_(std::move(options)), fs_(std::move(fs)) {}

    std::string name() const override { return "configfs-tsm (" + options_.root + ")"; }
    bool hardware() const override { return true; }

    Result<Evidence> report(const ReportData& data) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (options_.privlevel > kPrivlevelMax)
            return Error{"configfs-tsm: privlevel " + std::to_string(options_.privlevel) + " is out of range (0 to " +
                         std::to_string(kPrivlevelMax) + ")"};
        auto entry = createEntry();
        if (!entry) return Error{entry.error()};
        auto evidence = generate(**entry, data);
        if (!evidence) return evidence;
        const std::string path = (*entry)->path();
        if (const int e = (*entry)->remove())
            return Error{"configfs-tsm: cannot remove report entry " + quoted(path) + ": " + errnoText(e)};
        return evidence;
    }

private:
    Result<std::unique_ptr<Entry>> createEntry() {
        // A name no other process picks: our pid and 64 random bits. The kernel gives each entry its own inblob
        // and generation, so a private entry avoids most races; generation catches the rest.
        for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
            std::uint8_t random[8];
            if (RAND_bytes(random, sizeof random) != 1)
                return Error{"configfs-tsm: cannot draw random bytes for a report entry name"};
            const std::string path =
                options_.root + "/omega-" + std::to_string(::getpid()) + "-" + toHex(std::span(random));
            const int e = fs_->makeDir(path);
            if (e == 0) return std::make_unique<Entry>(*fs_, path);
            if (e == EEXIST) continue;
            std::string hint;
            if (e == ENOENT) hint = " (is configfs mounted and configfs-tsm in this kernel?)";
            if (e == ENXIO) hint = " (no TSM provider is registered: is the sev-guest driver loaded?)";
            return Error{"configfs-tsm: cannot create report entry " + quoted(path) + ": " + errnoText(e) + hint};
        }
        return Error{"configfs-tsm: cannot create a report entry under " + quoted(options_.root) +
                     ": every name tried exists"};
    }

    // `optional`: a missing attribute reads as empty.
    Result<std::vector<std::uint8_t>> read(const std::string& path, std::size_t limit, bool optional = false) {
        std::vector<std::uint8_t> out;
        if (const int e = fs_->readFile(path, limit, out)) {
            if (e == ENOENT && optional) return std::vector<std::uint8_t>();
            if (e == EFBIG)
                return Error{"configfs-tsm: " + quoted(path) + " is longer than " + std::to_string(limit) + " bytes"};
            return Error{"configfs-tsm: cannot read " + quoted(path) + ": " + errnoText(e)};
        }
        return out;
    }

    // A text attribute without its final newline.
    Result<std::string> readText(const std::string& path) {
        auto bytes = read(path, kTextLimit);
        if (!bytes) return Error{bytes.error()};
        std::string text(bytes->begin(), bytes->end());
        if (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
    }

    Result<std::uint64_t> readGeneration(const Entry& entry) {
        const std::string path = entry.attribute("generation");
        auto text = readText(path);
        if (!text) return Error{text.error()};
        std::uint64_t value = 0;
        const char* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, value);
        if (text->empty() || ec != std::errc() || ptr != end)
            return Error{"configfs-tsm: " + quoted(path) + " is not a generation number: `" + *text + "`"};
        return value;
    }

    // Writes privlevel; returns the number of writes made (0 when the provider has no privilege levels and level 0
    // is asked for, 1 otherwise).
    Result<unsigned> writePrivlevel(const Entry& entry) {
        const std::string path = entry.attribute("privlevel");
        const std::string text = std::to_string(options_.privlevel) + "\n";
        const int e = fs_->writeFile(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
        if (e == 0) return 1u;
        // The attribute is visible only for providers with privilege levels; level 0 is every other one's default.
        if (e == ENOENT && options_.privlevel == 0) return 0u;
        std::string hint;
        if (e == EINVAL) {
            if (auto floor = readText(entry.attribute("privlevel_floor")))
                hint = " (privlevel_floor is " + *floor + ")";
        }
        return Error{"configfs-tsm: cannot write " + std::to_string(options_.privlevel) + " to " + quoted(path) + ": " +
                     errnoText(e) + hint};
    }

    Result<Evidence> generate(const Entry& entry, const ReportData& data) {
        auto provider = readText(entry.attribute("provider"));
        if (!provider) return Error{provider.error()};
        if (*provider != kSevProvider)
            return Error{"configfs-tsm: the provider is `" + *provider + "`; only `" + kSevProvider +
                         "` (SEV-SNP) reports are understood"};

        // The kernel advances generation on every write to inblob or an option, and makes a new report when outblob
        // is read after one. Reading generation before our writes and again after our reads, and finding exactly
        // our writes in between, proves that outblob and auxblob answer our inblob (the ABI document's protocol).
        // It also catches an inblob write the kernel refused: configfs applies a binary attribute when the file is
        // released and ignores the result there, so close() succeeds on most kernels even when the write did not.
        const int attempts = 1 + std::max(0, options_.retries);
        std::uint64_t before = 0, after = 0, expected = 0;
        for (int attempt = 1; attempt <= attempts; ++attempt) {
            auto start = readGeneration(entry);
            if (!start) return Error{start.error()};
            auto writes = writePrivlevel(entry);
            if (!writes) return Error{writes.error()};
            const std::string inblob = entry.attribute("inblob");
            if (const int e = fs_->writeFile(inblob, data))
                return Error{"configfs-tsm: cannot write " + quoted(inblob) + ": " + errnoText(e)};
            const std::string outPath = entry.attribute("outblob");
            auto outblob = read(outPath, kBlobLimit);
            if (!outblob) return Error{outblob.error()};
            // Absent (the provider has no auxiliary data) or empty (the host supplied no certificates) is fine.
            const std::string auxPath = entry.attribute("auxblob");
            auto auxblob = options_.certificates ? read(auxPath, kBlobLimit, true) : std::vector<std::uint8_t>();
            if (!auxblob) return Error{auxblob.error()};
            auto end = readGeneration(entry);
            if (!end) return Error{end.error()};
            before = *start;
            after = *end;
            expected = before + *writes + 1;
            if (after != expected) continue;

            auto checked = checkReport(*outblob, data, options_.privlevel, "configfs-tsm: " + quoted(outPath));
            if (!checked) return Error{checked.error()};
            Evidence evidence;
            evidence.report = std::move(*outblob);
            evidence.provider = "configfs-tsm (" + *provider + ")";
            evidence.hardware = true;
            if (!auxblob->empty()) {
                auto pem = certificateTableToPem(*auxblob);
                if (!pem) return Error{"configfs-tsm: " + quoted(auxPath) + ": " + pem.error()};
                evidence.certificates = std::move(*pem);
            }
            return evidence;
        }
        return Error{"configfs-tsm: " + quoted(entry.attribute("generation")) + " went from " + std::to_string(before) +
                     " to " + std::to_string(after) + " where our writes make " + std::to_string(expected) +
                     " (another writer uses the entry, or the kernel dropped a write), " +
                     (attempts == 1 ? std::string("in the only attempt allowed")
                                    : "in each of " + std::to_string(attempts) + " attempts")};
    }

    std::mutex mutex_;
    ConfigfsOptions options_;
    std::shared_ptr<FileSystem> fs_;
};

}  // namespace

std::unique_ptr<FileSystem> posixFileSystem() {
    return std::make_unique<PosixFileSystem>();
}

std::unique_ptr<Provider> configfsTsm(ConfigfsOptions options, std::shared_ptr<FileSystem> fs) {
    return std::make_unique<ConfigfsProvider>(std::move(options), std::move(fs));
}

}  // namespace detail

std::unique_ptr<Provider> configfsTsm(ConfigfsOptions options) {
    return detail::configfsTsm(std::move(options), detail::posixFileSystem());
}

}  // namespace omega::attest
