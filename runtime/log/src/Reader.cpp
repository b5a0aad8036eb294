// Finding a log's files (the active path or a directory) and iterating its records in order, without checking
// the chain. Log files are untrusted: every failure is an error naming the file and offset.
#include "Files.h"
#include "Scanner.h"
#include "omega/log/Log.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace omega::log {

namespace fs = std::filesystem;

namespace detail {

std::string rotatedPath(const std::string& active, std::uint64_t firstSeq) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(firstSeq));
    return active + "." + digits;
}

std::optional<std::uint64_t> rotatedSeq(std::string_view name, std::string_view base) {
    if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base || name[base.size()] != '.') {
        return std::nullopt;
    }
    const std::string_view digits = name.substr(base.size() + 1);
    if (digits.size() > 19) return std::nullopt;  // keeps the value under 2^64
    std::uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace detail

namespace {

constexpr std::size_t kMaxFiles = 100000;

bool startsWithMagic(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<char, kFileMagic.size()> magic{};
    if (!in.read(magic.data(), magic.size())) return false;
    return std::equal(kFileMagic.begin(), kFileMagic.end(), magic.begin(),
                      [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
}

// The base name a file belongs to: NAME for NAME.<digits>, else the name itself.
std::string baseOf(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && detail::rotatedSeq(name, name.substr(0, dot))) return name.substr(0, dot);
    return name;
}

// Rotated files of `active` in `dir`, by first seq.
Result<std::vector<std::string>> rotatedFiles(const fs::path& dir, const std::string& base) {
    std::map<std::uint64_t, std::string> found;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return Error{"cannot read directory `" + dir.string() + "`: " + ec.message()};
    for (const auto& entry : it) {
        const std::string name = entry.path().filename().string();
        auto seq = detail::rotatedSeq(name, base);
        if (!seq || !entry.is_regular_file(ec)) continue;
        if (found.size() >= kMaxFiles) return Error{"more than " + std::to_string(kMaxFiles) + " rotated files"};
        found.emplace(*seq, entry.path().string());
    }
    std::vector<std::string> files;
    for (auto& [seq, path] : found) files.push_back(std::move(path));
    return files;
}

}  // namespace

Result<std::vector<std::string>> logFiles(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        // Every file that begins with the log magic, grouped by base name; PATH.new (a rotation the writer had not
        // finished) is the writer's, not part of the log yet.
        std::set<std::string> bases;
        fs::directory_iterator it(path, ec);
        if (ec) return Error{"cannot read directory `" + path + "`: " + ec.message()};
        std::size_t seen = 0;
        for (const auto& entry : it) {
            if (++seen > kMaxFiles) return Error{"more than " + std::to_string(kMaxFiles) + " files in `" + path + "`"};
            const std::string name = entry.path().filename().string();
            if (!entry.is_regular_file(ec) || name.ends_with(".new") || !startsWithMagic(entry.path())) continue;
            bases.insert(baseOf(name));
        }
        if (bases.empty()) return Error{"no decision log files in `" + path + "`"};
        if (bases.size() > 1) {
            std::string names;
            for (const auto& b : bases) names += (names.empty() ? "`" : ", `") + b + "`";
            return Error{"`" + path + "` holds more than one log (" + names + "): give the active file's path"};
        }
        return logFiles((fs::path(path) / *bases.begin()).string());
    }
    const fs::path active(path);
    const fs::path dir = active.has_parent_path() ? active.parent_path() : fs::path(".");
    auto files = rotatedFiles(dir, active.filename().string());
    if (!files) return files;
    const bool activeExists = fs::exists(active, ec);
    if (activeExists) files->push_back(path);
    if (files->empty()) return Error{"no such log: `" + path + "`"};
    return files;
}

class Reader::Impl {
public:
    std::vector<std::string> files;
    std::size_t index = 0;
    std::unique_ptr<detail::FileSource> source;
    std::unique_ptr<detail::Scanner> scanner;
    std::optional<TornTail> torn;

    Result<std::optional<Record>> next() {
        while (true) {
            if (!scanner) {
                if (index == files.size()) return std::optional<Record>();
                auto opened = detail::FileSource::open(files[index]);
                if (!opened) return Error{opened.error()};
                source = std::move(opened).value();
                scanner = std::make_unique<detail::Scanner>(*source);
                auto header = scanner->header();
                if (!header) return Error{where(0) + header.error()};
            }
            detail::RawRecord raw;
            const std::uint64_t at = scanner->position();
            switch (scanner->next(raw)) {
                case detail::Step::Record: {
                    if (auto problem = detail::headProblem(raw); !problem.empty()) return Error{where(at) + problem};
                    auto record = detail::decodeRecord(raw, files[index]);
                    if (!record) return Error{where(at) + "seq " + std::to_string(raw.seq) + ": " + record.error()};
                    return std::optional<Record>(std::move(record).value());
                }
                case detail::Step::End: break;
                case detail::Step::Torn:
                    if (index + 1 < files.size()) {
                        return Error{where(at) + "incomplete record at the end of a rotated file"};
                    }
                    torn = TornTail{files[index], at, scanner->tornLength(),
                                    static_cast<std::uint32_t>(scanner->tornReason())};
                    break;
                case detail::Step::Malformed: return Error{where(at) + scanner->why()};
                case detail::Step::IoError: return Error{files[index] + ": " + scanner->error()};
            }
            scanner.reset();
            source.reset();
            ++index;
        }
    }

    std::string where(std::uint64_t offset) const { return files[index] + ": offset " + std::to_string(offset) + ": "; }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path) {
    auto files = logFiles(path);
    if (!files) return Error{files.error()};
    auto impl = std::make_unique<Impl>();
    impl->files = std::move(files).value();
    return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

Result<std::optional<Record>> Reader::next() {
    return impl_->next();
}

const std::optional<TornTail>& Reader::tornTail() const {
    return impl_->torn;
}

const std::vector<std::string>& Reader::files() const {
    return impl_->files;
}

}  // namespace omega::log
