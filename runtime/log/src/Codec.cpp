// The log's byte layouts (docs/decision-log.md): file header, record frame, the four payloads, the chain hash and
// the checkpoint's signed message.
#include "Codec.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace omega::log {

const char* kindName(Kind kind) {
    switch (kind) {
        case Kind::Decision: return "decision";
        case Kind::Approval: return "approval";
        case Kind::Event: return "event";
        case Kind::Checkpoint: return "checkpoint";
        case Kind::Open: return "open";
        case Kind::Recovery: return "recovery";
    }
    return "unknown";
}

bool isKnownKind(std::uint8_t kind) {
    return (kind >= 1 && kind <= 3) || (kind >= 16 && kind <= 18);
}

namespace detail {

namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

Hash finish(EVP_MD_CTX* ctx) {
    Hash out{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx, out.data(), &length) != 1 || length != out.size()) std::abort();
    return out;
}

// Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up again on every init.
const EVP_MD* sha256Md() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (md == nullptr) std::abort();
    return md;
}

}  // namespace

Hash sha256(std::span<const std::uint8_t> bytes) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), sha256Md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1) {
        std::abort();
    }
    return finish(ctx.get());
}

Hash chainHash(const Hash& previous, std::span<const std::uint8_t> headAndPayload) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), sha256Md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), previous.data(), previous.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), headAndPayload.data(), headAndPayload.size()) != 1) {
        std::abort();
    }
    return finish(ctx.get());
}

std::vector<std::uint8_t> encodeFileHeader(std::uint64_t firstSeq, const Hash& prevHash) {
    std::vector<std::uint8_t> out;
    out.reserve(kFileHeaderSize);
    appendBytes(out, kFileMagic);
    appendLe<std::uint16_t>(out, kFormatVersion);
    appendLe<std::uint16_t>(out, 0);
    appendLe<std::uint32_t>(out, 0);
    appendLe<std::uint64_t>(out, firstSeq);
    appendBytes(out, prevHash);
    appendLe<std::uint64_t>(out, 0);
    return out;
}

Result<FileHeader> decodeFileHeader(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < kFileHeaderSize) {
        return Error{"the file is " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                     std::to_string(kFileHeaderSize) + "-byte header"};
    }
    if (!std::equal(kFileMagic.begin(), kFileMagic.end(), bytes.begin())) {
        return Error{"not a decision log file (bad magic)"};
    }
    const auto version = readLe<std::uint16_t>(bytes, kHeaderVersionAt);
    if (version != kFormatVersion) return Error{"unsupported format version " + std::to_string(version)};
    if (readLe<std::uint16_t>(bytes, kHeaderFlagsAt) != 0 || readLe<std::uint32_t>(bytes, kHeaderReservedAt) != 0 ||
        readLe<std::uint64_t>(bytes, kHeaderReserved2At) != 0) {
        return Error{"reserved header fields are not zero"};
    }
    FileHeader header;
    header.firstSeq = readLe<std::uint64_t>(bytes, kHeaderFirstSeqAt);
    header.prevHash = readArray<kHashSize>(bytes, kHeaderPrevHashAt);
    if (header.firstSeq == 0) return Error{"the header's first seq is 0"};
    return header;
}

Hash appendRecord(std::vector<std::uint8_t>& out, Kind kind, std::uint8_t flags, std::uint64_t seq, std::int64_t timeNs,
                  std::span<const std::uint8_t> payload, const Hash& previous) {
    const std::size_t start = out.size();
    appendBytes(out, kRecordMagic);
    out.push_back(static_cast<std::uint8_t>(kind));
    out.push_back(flags);
    appendLe<std::uint16_t>(out, 0);
    appendLe<std::uint64_t>(out, seq);
    appendLe<std::int64_t>(out, timeNs);
    appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
    appendLe<std::uint32_t>(out, 0);
    out.insert(out.end(), payload.begin(), payload.end());
    const Hash hash = chainHash(previous, std::span<const std::uint8_t>(out).subspan(start));
    appendBytes(out, hash);
    return hash;
}

std::vector<std::uint8_t> encodeEntry(const Entry& entry, std::uint8_t& flags) {
    const auto text = [](const std::string& s) {
        return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    };
    Hash digest{};
    if (entry.requestDigest) {
        digest = *entry.requestDigest;
        flags = 0;
    } else {
        digest = sha256(text(entry.request));
        flags = kFlagDigestOfLogged;
    }
    std::vector<std::uint8_t> out;
    out.reserve(kEntryFixedSize + entry.request.size() + entry.decision.size());
    appendBytes(out, digest);
    appendBytes(out, entry.measurement);
    appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(entry.request.size()));
    appendLe<std::uint32_t>(out, static_cast<std::uint32_t>(entry.decision.size()));
    out.insert(out.end(), entry.request.begin(), entry.request.end());
    out.insert(out.end(), entry.decision.begin(), entry.decision.end());
    return out;
}

std::vector<std::uint8_t> encodeCheckpoint(std::uint32_t flags, const bundle::KeyId& keyId,
                                           std::span<const std::uint8_t> signature) {
    std::vector<std::uint8_t> out;
    out.reserve(kCheckpointSize);
    appendLe<std::uint32_t>(out, flags);
    appendLe<std::uint16_t>(out, kAlgorithmEd25519);
    appendLe<std::uint16_t>(out, static_cast<std::uint16_t>(signature.size()));
    appendBytes(out, keyId);
    out.insert(out.end(), signature.begin(), signature.end());
    return out;
}

std::vector<std::uint8_t> encodeOpen(std::uint32_t flags, const bundle::KeyId& keyId) {
    std::vector<std::uint8_t> out;
    appendLe<std::uint32_t>(out, flags);
    appendLe<std::uint32_t>(out, 0);
    appendBytes(out, keyId);
    return out;
}

std::vector<std::uint8_t> encodeRecovery(const RecoveryBody& recovery) {
    std::vector<std::uint8_t> out;
    appendLe<std::uint64_t>(out, recovery.offset);
    appendLe<std::uint64_t>(out, recovery.length);
    appendBytes(out, recovery.digest);
    appendLe<std::uint32_t>(out, recovery.reason);
    appendLe<std::uint32_t>(out, 0);
    return out;
}

std::array<std::uint8_t, kSignedMessageSize> checkpointMessage(std::uint64_t coveredSeq, const Hash& coveredHash,
                                                               std::int64_t timeNs, std::uint32_t flags) {
    std::vector<std::uint8_t> out(kCheckpointTag.begin(), kCheckpointTag.end());
    appendLe<std::uint64_t>(out, coveredSeq);
    appendBytes(out, coveredHash);
    appendLe<std::int64_t>(out, timeNs);
    appendLe<std::uint32_t>(out, flags);
    std::array<std::uint8_t, kSignedMessageSize> message{};
    if (out.size() != message.size()) std::abort();
    std::copy(out.begin(), out.end(), message.begin());
    return message;
}

void decodeHead(RawRecord& raw) {
    const std::span<const std::uint8_t> b(raw.bytes);
    raw.kind = b[kRecordKindAt];
    raw.flags = b[kRecordFlagsAt];
    raw.reserved = readLe<std::uint16_t>(b, kRecordReservedAt);
    raw.seq = readLe<std::uint64_t>(b, kRecordSeqAt);
    raw.timeNs = readLe<std::int64_t>(b, kRecordTimeAt);
    raw.length = readLe<std::uint32_t>(b, kRecordLengthAt);
    raw.reserved2 = readLe<std::uint32_t>(b, kRecordReserved2At);
}

std::string headProblem(const RawRecord& raw) {
    if (!isKnownKind(raw.kind)) return "unknown record kind " + std::to_string(raw.kind);
    if (raw.reserved != 0 || raw.reserved2 != 0) return "reserved head fields are not zero";
    const bool entry = raw.kind <= 3;
    if ((raw.flags & ~(entry ? kFlagDigestOfLogged : 0)) != 0) {
        return "unknown record flags " + std::to_string(raw.flags);
    }
    if (raw.seq == 0) return "sequence number 0";
    return {};
}

namespace {

Result<EntryBody> decodeEntry(std::span<const std::uint8_t> p, std::uint8_t flags) {
    if (p.size() < kEntryFixedSize)
        return Error{"entry payload of " + std::to_string(p.size()) + " bytes is too short"};
    EntryBody body;
    body.requestDigest = readArray<kHashSize>(p, kEntryDigestAt);
    body.measurement = readArray<kMeasurementSize>(p, kEntryMeasurementAt);
    body.digestOfLogged = (flags & kFlagDigestOfLogged) != 0;
    const std::uint64_t requestLength = readLe<std::uint32_t>(p, kEntryRequestLengthAt);
    const std::uint64_t decisionLength = readLe<std::uint32_t>(p, kEntryDecisionLengthAt);
    if (requestLength > kMaxTextSize || decisionLength > kMaxTextSize ||
        kEntryFixedSize + requestLength + decisionLength != p.size()) {
        return Error{"entry text lengths " + std::to_string(requestLength) + " and " + std::to_string(decisionLength) +
                     " do not fill the " + std::to_string(p.size()) + "-byte payload"};
    }
    const auto* text = reinterpret_cast<const char*>(p.data()) + kEntryFixedSize;
    body.request.assign(text, requestLength);
    body.decision.assign(text + requestLength, decisionLength);
    return body;
}

Result<CheckpointBody> decodeCheckpoint(std::span<const std::uint8_t> p) {
    if (p.size() != kCheckpointSize) {
        return Error{"checkpoint payload is " + std::to_string(p.size()) + " bytes, not " +
                     std::to_string(kCheckpointSize)};
    }
    CheckpointBody body;
    body.flags = readLe<std::uint32_t>(p, kCheckpointFlagsAt);
    body.algorithm = readLe<std::uint16_t>(p, kCheckpointAlgorithmAt);
    const auto sigLength = readLe<std::uint16_t>(p, kCheckpointSigLengthAt);
    body.keyId = readArray<32>(p, kCheckpointKeyIdAt);
    if ((body.flags & ~(kCheckpointClosing | kCheckpointRotation)) != 0) {
        return Error{"unknown checkpoint flags " + std::to_string(body.flags)};
    }
    if (body.algorithm != kAlgorithmEd25519) {
        return Error{"unknown signature algorithm " + std::to_string(body.algorithm)};
    }
    if (sigLength != kSignatureSize) {
        return Error{"signature length " + std::to_string(sigLength) + ", not " + std::to_string(kSignatureSize)};
    }
    body.signature.assign(p.begin() + kCheckpointSignatureAt, p.end());
    return body;
}

Result<OpenBody> decodeOpen(std::span<const std::uint8_t> p) {
    if (p.size() != kOpenSize) {
        return Error{"open payload is " + std::to_string(p.size()) + " bytes, not " + std::to_string(kOpenSize)};
    }
    OpenBody body;
    body.flags = readLe<std::uint32_t>(p, kOpenFlagsAt);
    if ((body.flags & ~(kOpenNewLog | kOpenAfterClose | kOpenAfterRecovery)) != 0 ||
        readLe<std::uint32_t>(p, kOpenReservedAt) != 0) {
        return Error{"unknown open flags or reserved field not zero"};
    }
    body.keyId = readArray<32>(p, kOpenKeyIdAt);
    return body;
}

Result<RecoveryBody> decodeRecovery(std::span<const std::uint8_t> p) {
    if (p.size() != kRecoverySize) {
        return Error{"recovery payload is " + std::to_string(p.size()) + " bytes, not " +
                     std::to_string(kRecoverySize)};
    }
    RecoveryBody body;
    body.offset = readLe<std::uint64_t>(p, kRecoveryOffsetAt);
    body.length = readLe<std::uint64_t>(p, kRecoveryLengthAt);
    body.digest = readArray<kHashSize>(p, kRecoveryDigestAt);
    body.reason = readLe<std::uint32_t>(p, kRecoveryReasonAt);
    if (body.reason < 1 || body.reason > 3 || readLe<std::uint32_t>(p, kRecoveryReservedAt) != 0) {
        return Error{"unknown recovery reason or reserved field not zero"};
    }
    return body;
}

template <typename T>
Result<Record> withBody(Record record, Result<T> body) {
    if (!body) return Error{body.error()};
    record.body = std::move(body).value();
    return record;
}

}  // namespace

Result<Record> decodeRecord(const RawRecord& raw, const std::string& file) {
    Record record;
    record.file = file;
    record.offset = raw.offset;
    record.size = raw.bytes.size();
    record.kind = static_cast<Kind>(raw.kind);
    record.flags = raw.flags;
    record.seq = raw.seq;
    record.timeNs = raw.timeNs;
    record.hash = raw.stored();
    const auto p = raw.payload();
    switch (record.kind) {
        case Kind::Decision:
        case Kind::Approval:
        case Kind::Event: return withBody(std::move(record), decodeEntry(p, raw.flags));
        case Kind::Checkpoint: return withBody(std::move(record), decodeCheckpoint(p));
        case Kind::Open: return withBody(std::move(record), decodeOpen(p));
        case Kind::Recovery: return withBody(std::move(record), decodeRecovery(p));
    }
    return Error{"unknown record kind " + std::to_string(raw.kind)};
}

}  // namespace detail
}  // namespace omega::log
