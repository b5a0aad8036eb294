// The 1184-byte SEV-SNP ATTESTATION_REPORT: decoding every field (by report version), encoding, and the JSON of
// `omegac attest show`. Offsets follow AMD's SEV-SNP ABI specification (table "ATTESTATION_REPORT Structure").
#include "omega/attest/Report.h"
#include "ReportFields.h"
#include "omega/attest/Binding.h"
#include "omega/attest/Software.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

namespace omega::attest {

namespace {

// Field offsets (bytes); fields that are not listed are reserved.
constexpr std::size_t kVersionAt = 0x000;
constexpr std::size_t kGuestSvnAt = 0x004;
constexpr std::size_t kPolicyAt = 0x008;
constexpr std::size_t kFamilyIdAt = 0x010;
constexpr std::size_t kImageIdAt = 0x020;
constexpr std::size_t kVmplAt = 0x030;
constexpr std::size_t kSignatureAlgoAt = 0x034;
constexpr std::size_t kCurrentTcbAt = 0x038;
constexpr std::size_t kPlatformInfoAt = 0x040;
constexpr std::size_t kFlagsAt = 0x048;
constexpr std::size_t kMeasurementAt = 0x090;
constexpr std::size_t kHostDataAt = 0x0C0;
constexpr std::size_t kIdKeyDigestAt = 0x0E0;
constexpr std::size_t kAuthorKeyDigestAt = 0x110;
constexpr std::size_t kReportIdAt = 0x140;
constexpr std::size_t kReportIdMaAt = 0x160;
constexpr std::size_t kReportedTcbAt = 0x180;
constexpr std::size_t kCpuidFamIdAt = 0x188;  // version 3
constexpr std::size_t kCpuidModIdAt = 0x189;
constexpr std::size_t kCpuidStepAt = 0x18A;
constexpr std::size_t kChipIdAt = 0x1A0;
constexpr std::size_t kCommittedTcbAt = 0x1E0;
constexpr std::size_t kCurrentBuildAt = 0x1E8;
constexpr std::size_t kCurrentMinorAt = 0x1E9;
constexpr std::size_t kCurrentMajorAt = 0x1EA;
constexpr std::size_t kCommittedBuildAt = 0x1EC;
constexpr std::size_t kCommittedMinorAt = 0x1ED;
constexpr std::size_t kCommittedMajorAt = 0x1EE;
constexpr std::size_t kLaunchTcbAt = 0x1F0;
constexpr std::size_t kLaunchMitVectorAt = 0x1F8;  // version 5
constexpr std::size_t kCurrentMitVectorAt = 0x200;
constexpr std::size_t kSignatureRAt = kSignatureAt;
constexpr std::size_t kSignatureSAt = kSignatureAt + kSignatureComponent;

constexpr std::uint32_t kMinVersion = 2, kMaxVersion = 5;
constexpr std::uint32_t kCpuidVersion = 3, kMitVectorVersion = 5;
constexpr std::uint8_t kTurinFamily = 0x1A;

using Bytes = std::span<const std::uint8_t>;

template <typename T>
T readLe(Bytes b, std::size_t at) {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(b[at + i]) << (8 * i));
    return v;
}

template <typename T>
void writeLe(std::array<std::uint8_t, kReportSize>& b, std::size_t at, T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

template <std::size_t N>
void readBytes(Bytes b, std::size_t at, std::array<std::uint8_t, N>& out) {
    std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), N, out.begin());
}

template <std::size_t N>
void writeBytes(std::array<std::uint8_t, kReportSize>& b, std::size_t at, const std::array<std::uint8_t, N>& in) {
    std::copy(in.begin(), in.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
}

std::string hex32(std::uint32_t v) {
    char buffer[11];
    std::snprintf(buffer, sizeof buffer, "0x%08x", v);
    return buffer;
}

// Indented JSON, written in one pass. INVARIANT: keys and string values are hex digits or fixed ASCII names, so
// nothing needs escaping.
class JsonWriter {
public:
    void beginObject(std::string_view key = {}) {
        prefix(key);
        out_ += '{';
        empty_.push_back(true);
    }
    void endObject() {
        const bool empty = empty_.back();
        empty_.pop_back();
        if (!empty) newline();
        out_ += '}';
    }
    void number(std::string_view key, std::uint64_t v) {
        prefix(key);
        out_ += std::to_string(v);
    }
    void boolean(std::string_view key, bool v) {
        prefix(key);
        out_ += v ? "true" : "false";
    }
    void string(std::string_view key, std::string_view v) {
        prefix(key);
        out_ += '"';
        out_ += v;
        out_ += '"';
    }
    template <std::size_t N>
    void bytes(std::string_view key, const std::array<std::uint8_t, N>& v) {
        string(key, toHex(v));
    }
    std::string take() { return std::move(out_) + "\n"; }

private:
    void newline() {
        out_ += '\n';
        out_.append(2 * empty_.size(), ' ');
    }
    void prefix(std::string_view key) {
        if (!empty_.empty()) {
            if (!empty_.back()) out_ += ',';
            empty_.back() = false;
            newline();
        }
        if (!key.empty()) {
            out_ += '"';
            out_ += key;
            out_ += "\": ";
        }
    }

    std::string out_;
    std::vector<bool> empty_;
};

struct Bit {
    unsigned index;
    const char* name;
};

// Each named bit as a boolean, then whatever set bits have no name (zero on today's firmware).
void bits(JsonWriter& json, std::uint64_t value, std::span<const Bit> named, std::uint64_t otherKnown) {
    std::uint64_t known = otherKnown;
    for (const Bit& b : named) {
        json.boolean(b.name, (value >> b.index) & 1);
        known |= std::uint64_t{1} << b.index;
    }
    json.string("unknown_bits", detail::hex64(value & ~known));
}

// GUEST_POLICY: ABI_MINOR (bits 0-7), ABI_MAJOR (8-15), then single bits.
constexpr Bit kPolicyBits[] = {
    {16, "smt"},
    {17, "reserved_must_be_one"},
    {18, "migrate_ma"},
    {19, "debug"},
    {20, "single_socket"},
    {21, "cxl_allow"},
    {22, "mem_aes_256_xts"},
    {23, "rapl_dis"},
    {24, "ciphertext_hiding_dram"},
    {25, "page_swap_disable"},
};

constexpr Bit kPlatformInfoBits[] = {
    {0, "smt_en"},
    {1, "tsme_en"},
    {2, "ecc_en"},
    {3, "rapl_dis"},
    {4, "ciphertext_hiding_dram_en"},
    {5, "alias_check_complete"},
    {6, "iommu_write_safe"},
    {7, "tio_en"},
};

constexpr Bit kFlagBits[] = {
    {0, "author_key_en"},
    {1, "mask_chip_key"},
};

const char* signingKeyName(std::uint32_t key) {
    switch (key) {
        case 0: return "vcek";
        case 1: return "vlek";
        case 7: return "none";
        default: return "reserved";
    }
}

void tcb(JsonWriter& json, std::string_view key, TcbVersion v, bool turin) {
    const detail::TcbParts parts = detail::tcbParts(v, turin);
    json.beginObject(key);
    json.string("raw", detail::hex64(v.raw));
    if (parts.fmc) json.number("fmc", *parts.fmc);
    json.number("boot_loader", parts.bootLoader);
    json.number("tee", parts.tee);
    json.number("snp", parts.snp);
    json.number("microcode", parts.microcode);
    json.endObject();
}

}  // namespace

namespace detail {

std::string hex64(std::uint64_t v) {
    char buffer[19];
    std::snprintf(buffer, sizeof buffer, "0x%016llx", static_cast<unsigned long long>(v));
    return buffer;
}

bool turinLayout(const Report& report) {
    return report.version >= kCpuidVersion && report.cpuidFamId == kTurinFamily;
}

TcbParts tcbParts(TcbVersion tcb, bool turin) {
    const auto byte = [&](unsigned i) { return static_cast<std::uint8_t>(tcb.raw >> (8 * i)); };
    if (turin) return {byte(0), byte(1), byte(2), byte(3), byte(7)};
    return {std::nullopt, tcb.bootLoader(), tcb.tee(), tcb.snp(), tcb.microcode()};
}

Result<Report> decodeReport(Bytes b) {
    if (b.size() != kReportSize) {
        return Error{"report: " + std::to_string(b.size()) + " bytes, expected " + std::to_string(kReportSize)};
    }
    Report r;
    std::copy(b.begin(), b.end(), r.bytes.begin());
    r.version = readLe<std::uint32_t>(b, kVersionAt);
    if (r.version < kMinVersion || r.version > kMaxVersion) {
        return Error{"report: version " + std::to_string(r.version) + " is not supported (known versions: " +
                     std::to_string(kMinVersion) + " to " + std::to_string(kMaxVersion) + ")"};
    }
    r.guestSvn = readLe<std::uint32_t>(b, kGuestSvnAt);
    r.policy = readLe<std::uint64_t>(b, kPolicyAt);
    readBytes(b, kFamilyIdAt, r.familyId);
    readBytes(b, kImageIdAt, r.imageId);
    r.vmpl = readLe<std::uint32_t>(b, kVmplAt);
    r.signatureAlgo = readLe<std::uint32_t>(b, kSignatureAlgoAt);
    r.currentTcb.raw = readLe<std::uint64_t>(b, kCurrentTcbAt);
    r.platformInfo = readLe<std::uint64_t>(b, kPlatformInfoAt);
    r.flags = readLe<std::uint32_t>(b, kFlagsAt);
    readBytes(b, kReportDataAt, r.reportData);
    readBytes(b, kMeasurementAt, r.measurement);
    readBytes(b, kHostDataAt, r.hostData);
    readBytes(b, kIdKeyDigestAt, r.idKeyDigest);
    readBytes(b, kAuthorKeyDigestAt, r.authorKeyDigest);
    readBytes(b, kReportIdAt, r.reportId);
    readBytes(b, kReportIdMaAt, r.reportIdMa);
    r.reportedTcb.raw = readLe<std::uint64_t>(b, kReportedTcbAt);
    if (r.version >= kCpuidVersion) {
        r.cpuidFamId = b[kCpuidFamIdAt];
        r.cpuidModId = b[kCpuidModIdAt];
        r.cpuidStep = b[kCpuidStepAt];
    }
    readBytes(b, kChipIdAt, r.chipId);
    r.committedTcb.raw = readLe<std::uint64_t>(b, kCommittedTcbAt);
    r.currentBuild = b[kCurrentBuildAt];
    r.currentMinor = b[kCurrentMinorAt];
    r.currentMajor = b[kCurrentMajorAt];
    r.committedBuild = b[kCommittedBuildAt];
    r.committedMinor = b[kCommittedMinorAt];
    r.committedMajor = b[kCommittedMajorAt];
    r.launchTcb.raw = readLe<std::uint64_t>(b, kLaunchTcbAt);
    if (r.version >= kMitVectorVersion) {
        r.launchMitVector = readLe<std::uint64_t>(b, kLaunchMitVectorAt);
        r.currentMitVector = readLe<std::uint64_t>(b, kCurrentMitVectorAt);
    }
    readBytes(b, kSignatureRAt, r.signatureR);
    readBytes(b, kSignatureSAt, r.signatureS);
    return r;
}

}  // namespace detail

Result<Report> parseReport(std::span<const std::uint8_t> bytes) {
    auto report = detail::decodeReport(bytes);
    if (report && report->signatureAlgo != kSignatureAlgoEcdsaP384Sha384) {
        return Error{"report: signature algorithm " + std::to_string(report->signatureAlgo) +
                     " is not supported (only 1, ECDSA P-384 with SHA-384)"};
    }
    return report;
}

std::array<std::uint8_t, kReportSize> encodeReport(const Report& r) {
    std::array<std::uint8_t, kReportSize> b{};
    writeLe(b, kVersionAt, r.version);
    writeLe(b, kGuestSvnAt, r.guestSvn);
    writeLe(b, kPolicyAt, r.policy);
    writeBytes(b, kFamilyIdAt, r.familyId);
    writeBytes(b, kImageIdAt, r.imageId);
    writeLe(b, kVmplAt, r.vmpl);
    writeLe(b, kSignatureAlgoAt, r.signatureAlgo);
    writeLe(b, kCurrentTcbAt, r.currentTcb.raw);
    writeLe(b, kPlatformInfoAt, r.platformInfo);
    writeLe(b, kFlagsAt, r.flags);
    writeBytes(b, kReportDataAt, r.reportData);
    writeBytes(b, kMeasurementAt, r.measurement);
    writeBytes(b, kHostDataAt, r.hostData);
    writeBytes(b, kIdKeyDigestAt, r.idKeyDigest);
    writeBytes(b, kAuthorKeyDigestAt, r.authorKeyDigest);
    writeBytes(b, kReportIdAt, r.reportId);
    writeBytes(b, kReportIdMaAt, r.reportIdMa);
    writeLe(b, kReportedTcbAt, r.reportedTcb.raw);
    // Fields a version does not have stay zero (reserved), as the parser ignores them: encode and parse agree.
    if (r.version >= kCpuidVersion) {
        b[kCpuidFamIdAt] = r.cpuidFamId;
        b[kCpuidModIdAt] = r.cpuidModId;
        b[kCpuidStepAt] = r.cpuidStep;
    }
    writeBytes(b, kChipIdAt, r.chipId);
    writeLe(b, kCommittedTcbAt, r.committedTcb.raw);
    b[kCurrentBuildAt] = r.currentBuild;
    b[kCurrentMinorAt] = r.currentMinor;
    b[kCurrentMajorAt] = r.currentMajor;
    b[kCommittedBuildAt] = r.committedBuild;
    b[kCommittedMinorAt] = r.committedMinor;
    b[kCommittedMajorAt] = r.committedMajor;
    writeLe(b, kLaunchTcbAt, r.launchTcb.raw);
    if (r.version >= kMitVectorVersion) {
        writeLe(b, kLaunchMitVectorAt, r.launchMitVector);
        writeLe(b, kCurrentMitVectorAt, r.currentMitVector);
    }
    writeBytes(b, kSignatureRAt, r.signatureR);
    writeBytes(b, kSignatureSAt, r.signatureS);
    return b;
}

std::string reportToJson(const Report& r) {
    const bool turin = detail::turinLayout(r);
    const bool software = isSoftwareChipId(r.chipId);
    JsonWriter json;
    json.beginObject();
    if (software) json.string("warning", "software stand-in report, signed by a local key: NOT hardware evidence");
    json.number("version", r.version);
    json.number("guest_svn", r.guestSvn);
    json.beginObject("policy");
    json.string("raw", detail::hex64(r.policy));
    json.number("abi_minor", r.policy & 0xff);
    json.number("abi_major", (r.policy >> 8) & 0xff);
    bits(json, r.policy, kPolicyBits, 0xffff);
    json.endObject();
    json.bytes("family_id", r.familyId);
    json.bytes("image_id", r.imageId);
    json.number("vmpl", r.vmpl);
    json.number("signature_algo", r.signatureAlgo);
    json.string("signature_algo_name",
                r.signatureAlgo == kSignatureAlgoEcdsaP384Sha384 ? "ecdsa-p384-sha384" : "unknown");
    tcb(json, "current_tcb", r.currentTcb, turin);
    json.beginObject("platform_info");
    json.string("raw", detail::hex64(r.platformInfo));
    bits(json, r.platformInfo, kPlatformInfoBits, 0);
    json.endObject();
    json.beginObject("flags");
    json.string("raw", hex32(r.flags));
    bits(json, r.flags, kFlagBits, 7u << 2);
    json.number("signing_key", r.signingKey());
    json.string("signing_key_name", signingKeyName(r.signingKey()));
    json.endObject();
    json.bytes("report_data", r.reportData);
    json.bytes("measurement", r.measurement);
    json.bytes("host_data", r.hostData);
    json.bytes("id_key_digest", r.idKeyDigest);
    json.bytes("author_key_digest", r.authorKeyDigest);
    json.bytes("report_id", r.reportId);
    json.bytes("report_id_ma", r.reportIdMa);
    tcb(json, "reported_tcb", r.reportedTcb, turin);
    json.number("cpuid_fam_id", r.cpuidFamId);
    json.number("cpuid_mod_id", r.cpuidModId);
    json.number("cpuid_step", r.cpuidStep);
    json.bytes("chip_id", r.chipId);
    json.boolean("software_chip_id", software);
    tcb(json, "committed_tcb", r.committedTcb, turin);
    json.number("current_build", r.currentBuild);
    json.number("current_minor", r.currentMinor);
    json.number("current_major", r.currentMajor);
    json.number("committed_build", r.committedBuild);
    json.number("committed_minor", r.committedMinor);
    json.number("committed_major", r.committedMajor);
    tcb(json, "launch_tcb", r.launchTcb, turin);
    json.string("launch_mit_vector", detail::hex64(r.launchMitVector));
    json.string("current_mit_vector", detail::hex64(r.currentMitVector));
    json.beginObject("signature");
    json.bytes("r_little_endian", r.signatureR);
    json.bytes("s_little_endian", r.signatureS);
    json.endObject();
    json.endObject();
    return json.take();
}

}  // namespace omega::attest
