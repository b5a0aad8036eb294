// Encoding and decoding of the log's file header, record frames and payloads, and the chain hash; private to
// omega_log. Decoding never trusts a length it has not checked against the bytes it has.
#pragma once

#include "omega/log/Format.h"
#include "omega/log/Log.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace omega::log::detail {

// INVARIANT: callers check the range first; a read past the end is a bug here, so it stops the program.
template <typename T>
T readLe(std::span<const std::uint8_t> bytes, std::size_t at) {
    if (at > bytes.size() || bytes.size() - at < sizeof(T)) std::abort();
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<std::uint64_t>(bytes[at + i]) << (8 * i);
    return static_cast<T>(value);
}

template <typename T>
void appendLe(std::vector<std::uint8_t>& out, T value) {
    const auto v = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

template <std::size_t N>
void appendBytes(std::vector<std::uint8_t>& out, const std::array<std::uint8_t, N>& bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}

template <std::size_t N>
std::array<std::uint8_t, N> readArray(std::span<const std::uint8_t> bytes, std::size_t at) {
    if (at > bytes.size() || bytes.size() - at < N) std::abort();
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = bytes[at + i];
    return out;
}

// SHA-256 helpers. OpenSSL only fails to hash when it cannot allocate, which is fatal like a failed `new`.
Hash sha256(std::span<const std::uint8_t> bytes);
// The chain hash of a record: SHA-256(previous hash || the record's head and payload).
Hash chainHash(const Hash& previous, std::span<const std::uint8_t> headAndPayload);

std::vector<std::uint8_t> encodeFileHeader(std::uint64_t firstSeq, const Hash& prevHash);

struct FileHeader {
    std::uint64_t firstSeq = 0;
    Hash prevHash{};
};
// Checks magic, version and reserved fields; the error says which (no "offset" prefix: the caller adds where).
Result<FileHeader> decodeFileHeader(std::span<const std::uint8_t> bytes);

// Appends one framed record (head, payload, chain hash) to `out` and returns its hash.
Hash appendRecord(std::vector<std::uint8_t>& out, Kind kind, std::uint8_t flags, std::uint64_t seq, std::int64_t timeNs,
                  std::span<const std::uint8_t> payload, const Hash& previous);

// Payload encoders. `flags` receives the record flags the payload implies.
std::vector<std::uint8_t> encodeEntry(const Entry& entry, std::uint8_t& flags);
std::vector<std::uint8_t> encodeCheckpoint(std::uint32_t flags, const bundle::KeyId& keyId,
                                           std::span<const std::uint8_t> signature);
std::vector<std::uint8_t> encodeOpen(std::uint32_t flags, const bundle::KeyId& keyId);
std::vector<std::uint8_t> encodeRecovery(const RecoveryBody& recovery);

// The 76 bytes a checkpoint signs.
std::array<std::uint8_t, kSignedMessageSize> checkpointMessage(std::uint64_t coveredSeq, const Hash& coveredHash,
                                                               std::int64_t timeNs, std::uint32_t flags);

// A record's head fields as stored, not yet validated beyond the frame.
struct RawRecord {
    std::uint64_t offset = 0;
    std::vector<std::uint8_t> bytes;  // head, payload and hash
    std::uint8_t kind = 0;
    std::uint8_t flags = 0;
    std::uint16_t reserved = 0;
    std::uint64_t seq = 0;
    std::int64_t timeNs = 0;
    std::uint32_t length = 0;
    std::uint32_t reserved2 = 0;

    std::span<const std::uint8_t> hashed() const {
        return std::span<const std::uint8_t>(bytes).first(kRecordHeadSize + length);
    }
    std::span<const std::uint8_t> payload() const {
        return std::span<const std::uint8_t>(bytes).subspan(kRecordHeadSize, length);
    }
    Hash stored() const { return readArray<kHashSize>(bytes, kRecordHeadSize + length); }
};

// Fills the head fields of `raw` from its first kRecordHeadSize bytes.
void decodeHead(RawRecord& raw);
// The head checks that do not affect framing (kind known, reserved fields zero, flags allowed); empty when fine.
std::string headProblem(const RawRecord& raw);
// Decodes the payload of a record whose head passed headProblem(). The error says what is wrong.
Result<Record> decodeRecord(const RawRecord& raw, const std::string& file);

}  // namespace omega::log::detail
