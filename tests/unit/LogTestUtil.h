// Helpers shared by the decision log's unit tests: temporary directories, fresh Ed25519 keys, entries, whole-file
// reads and writes, and finding a problem in a verify report.
#pragma once

#include "omega/bundle/Signing.h"
#include "omega/log/Log.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace omega::log::test {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base ? base : "/tmp") + "/omega-log-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) std::abort();
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct KeyPair {
    bundle::PrivateKey priv;
    bundle::PublicKey pub;
    std::string privatePem;
};

inline std::string pemOf(EVP_PKEY* key, bool isPrivate) {
    BIO* bio = BIO_new(BIO_s_mem());
    const int ok = isPrivate ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                             : PEM_write_bio_PUBKEY(bio, key);
    if (ok != 1) std::abort();
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

inline KeyPair makeKey(const char* type = "ED25519") {
    EVP_PKEY* raw = std::string(type) == "ED25519" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    if (raw == nullptr) std::abort();
    const std::string pem = pemOf(raw, true);
    EVP_PKEY_free(raw);
    auto priv = bundle::loadPrivateKey(pem);
    if (!priv) std::abort();
    auto pub = bundle::publicKeyOf(*priv);
    if (!pub) std::abort();
    return KeyPair{*priv, *pub, pem};
}

inline Entry makeEntry(std::uint64_t i, std::size_t padding = 0) {
    Entry e;
    e.kind = i % 7 == 0 ? Kind::Approval : Kind::Decision;
    e.timeNs = 1767225600000000000 + static_cast<std::int64_t>(i);
    e.request = R"({"action":"tool.call","agent":"a)" + std::to_string(i) + R"(","pad":")" + std::string(padding, 'x') +
                R"("})";
    e.decision = R"({"decision":")" + std::string(i % 3 ? "allow" : "deny") + R"("})";
    e.measurement.fill(static_cast<std::uint8_t>(i));
    return e;
}

inline WriterOptions options(const std::string& path, const KeyPair& key) {
    WriterOptions o;
    o.path = path;
    o.key = key.priv;
    o.checkpointMs = 0;  // deterministic: checkpoints by count, on rotation and on close only
    o.checkpointRecords = 8;
    return o;
}

inline std::vector<std::uint8_t> readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline Hash sha256Of(const std::vector<std::uint8_t>& bytes) {
    Hash out{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) std::abort();
    return out;
}

inline std::vector<Record> readAll(const std::string& path) {
    std::vector<Record> out;
    auto reader = Reader::open(path);
    if (!reader) return out;
    while (true) {
        auto next = (*reader)->next();
        if (!next || !*next) break;
        out.push_back(std::move(**next));
    }
    return out;
}

inline const Record& recordAt(const std::vector<Record>& records, std::uint64_t seq) {
    for (const auto& r : records)
        if (r.seq == seq) return r;
    std::abort();
}

inline std::string describe(const VerifyReport& r) {
    std::string out = "problems (" + std::to_string(r.problemCount) + "):\n";
    for (const auto& p : r.problems) {
        out += "  " + p.file + " @" + std::to_string(p.offset) + " seq " + std::to_string(p.seq) + ": " + p.what + "\n";
    }
    out += "notes:\n";
    for (const auto& n : r.notes) out += "  " + n.file + " @" + std::to_string(n.offset) + ": " + n.what + "\n";
    return out;
}

// True when the report has a problem at this offset and seq whose text contains `what`.
inline bool hasProblem(const VerifyReport& r, std::uint64_t offset, std::uint64_t seq, const std::string& what) {
    for (const auto& p : r.problems)
        if (p.offset == offset && p.seq == seq && p.what.find(what) != std::string::npos) return true;
    return false;
}

inline bool hasNote(const VerifyReport& r, const std::string& what) {
    for (const auto& n : r.notes)
        if (n.what.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace omega::log::test
