// The decision log's on-disk format as constants: file header, record frame, record kinds and payload layouts.
// docs/decision-log.md is the normative description; these names follow it. All integers are little-endian.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace omega::log {

// File header: 64 bytes at offset 0 of every log file (the active one and each rotated one).
inline constexpr std::array<std::uint8_t, 8> kFileMagic = {'O', 'M', 'E', 'G', 'A', 'L', 'O', 'G'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kFileHeaderSize = 64;
inline constexpr std::size_t kHeaderMagicAt = 0;
inline constexpr std::size_t kHeaderVersionAt = 8;
inline constexpr std::size_t kHeaderFlagsAt = 10;      // u16, zero
inline constexpr std::size_t kHeaderReservedAt = 12;   // u32, zero
inline constexpr std::size_t kHeaderFirstSeqAt = 16;   // u64: the seq of the file's first record
inline constexpr std::size_t kHeaderPrevHashAt = 24;   // [32]: the hash of record firstSeq - 1 (zeros for seq 1)
inline constexpr std::size_t kHeaderReserved2At = 56;  // u64, zero

// Record frame: a 32-byte head, the payload, then the 32-byte chain hash
// SHA-256(previous record's hash || head || payload).
inline constexpr std::array<std::uint8_t, 4> kRecordMagic = {'O', 'R', 'E', 'C'};
inline constexpr std::size_t kRecordHeadSize = 32;
inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kRecordOverhead = kRecordHeadSize + kHashSize;
inline constexpr std::size_t kRecordMagicAt = 0;
inline constexpr std::size_t kRecordKindAt = 4;        // u8
inline constexpr std::size_t kRecordFlagsAt = 5;       // u8
inline constexpr std::size_t kRecordReservedAt = 6;    // u16, zero
inline constexpr std::size_t kRecordSeqAt = 8;         // u64
inline constexpr std::size_t kRecordTimeAt = 16;       // i64, ns since the Unix epoch
inline constexpr std::size_t kRecordLengthAt = 24;     // u32: payload bytes
inline constexpr std::size_t kRecordReserved2At = 28;  // u32, zero

// Record flags (the head's flags byte). Entry records only: the request digest is SHA-256 of the logged request
// (verifiable); without it, the digest is of the request as received, before redaction.
inline constexpr std::uint8_t kFlagDigestOfLogged = 0x01;

// Entry payload (decision, approval, event): digest, measurement, the two lengths, then the two texts.
inline constexpr std::size_t kEntryDigestAt = 0;           // [32]
inline constexpr std::size_t kEntryMeasurementAt = 32;     // [48]
inline constexpr std::size_t kEntryRequestLengthAt = 80;   // u32
inline constexpr std::size_t kEntryDecisionLengthAt = 84;  // u32
inline constexpr std::size_t kEntryFixedSize = 88;
inline constexpr std::size_t kMeasurementSize = 48;
inline constexpr std::size_t kMaxTextSize = 1u << 20;  // request or decision
inline constexpr std::size_t kMaxPayloadSize = kEntryFixedSize + 2 * kMaxTextSize;

// Checkpoint payload: flags, signature algorithm and length, the signer's key id, the signature.
inline constexpr std::size_t kCheckpointFlagsAt = 0;       // u32
inline constexpr std::size_t kCheckpointAlgorithmAt = 4;   // u16 (1 = Ed25519, as in bundles)
inline constexpr std::size_t kCheckpointSigLengthAt = 6;   // u16 (64)
inline constexpr std::size_t kCheckpointKeyIdAt = 8;       // [32] SHA-256 of the DER SubjectPublicKeyInfo
inline constexpr std::size_t kCheckpointSignatureAt = 40;  // [64]
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kCheckpointSize = kCheckpointSignatureAt + kSignatureSize;
inline constexpr std::uint32_t kCheckpointClosing = 0x1;   // the writer's last record before a clean close
inline constexpr std::uint32_t kCheckpointRotation = 0x2;  // the last record of a file; the next file follows
inline constexpr std::uint16_t kAlgorithmEd25519 = 1;

// What a checkpoint signs: this 24-byte tag (NUL included), the covered seq (u64, the checkpoint's seq - 1), the
// covered hash (that record's hash), the checkpoint's time (i64) and flags (u32): 76 bytes.
inline constexpr std::string_view kCheckpointTag{"omega-log-checkpoint-v1\0", 24};
inline constexpr std::size_t kSignedMessageSize = 24 + 8 + 32 + 8 + 4;

// Open payload: a writer started a session on this log.
inline constexpr std::size_t kOpenFlagsAt = 0;     // u32
inline constexpr std::size_t kOpenReservedAt = 4;  // u32, zero
inline constexpr std::size_t kOpenKeyIdAt = 8;     // [32] the writer's signing key
inline constexpr std::size_t kOpenSize = 40;
inline constexpr std::uint32_t kOpenNewLog = 0x1;         // seq 1: the log begins here
inline constexpr std::uint32_t kOpenAfterClose = 0x2;     // the previous record is a closing checkpoint
inline constexpr std::uint32_t kOpenAfterRecovery = 0x4;  // the previous record is a recovery record

// Recovery payload: the writer cut a torn tail before resuming.
inline constexpr std::size_t kRecoveryOffsetAt = 0;     // u64: where the cut bytes began in this file
inline constexpr std::size_t kRecoveryLengthAt = 8;     // u64: how many bytes were cut
inline constexpr std::size_t kRecoveryDigestAt = 16;    // [32]: SHA-256 of the cut bytes
inline constexpr std::size_t kRecoveryReasonAt = 48;    // u32
inline constexpr std::size_t kRecoveryReservedAt = 52;  // u32, zero
inline constexpr std::size_t kRecoverySize = 56;

// Why bytes at the end of a file are not a record.
enum class TornReason : std::uint32_t {
    Incomplete = 1,  // a record (or its head) that ends past the end of the file
    Zeros = 2,       // zero bytes to the end of the file: the size grew, the data never reached the disk
    Damaged = 3,     // a complete last record whose hash does not match (cut by the writer only)
};

}  // namespace omega::log
