// The report providers (runtime/attest/src: Configfs.cpp, SevGuest.cpp, CertTable.cpp, Provider.cpp).
//
// configfs-tsm runs against KernelTsm, a stand-in for the kernel's configfs-tsm (drivers/virt/coco/tsm.c) behind the
// provider's FileSystem interface (ProviderDetail.h), because a plain directory cannot behave like it: mkdir of an
// entry makes its attributes; each write of inblob or privlevel advances `generation`; reading outblob or auxblob
// after a write makes a new report, signed by a software authority over the current inblob at the current privlevel,
// and a GHCB certificate table holding the authority's chain. It injects what the real one can do: another writer
// between our write and our read (once, or every time), a short outblob, an outblob whose REPORT_DATA is not the
// inblob, a missing directory, another TSM, a hidden privlevel or auxblob, a privlevel floor, a malformed table.
// The real POSIX path runs against a temporary directory for what a plain directory can show: a missing root, a
// missing attribute, the entry removed afterwards, and the file operations themselves.
//
// /dev/sev-guest runs against FakeSevDevice behind the SevDevice interface, which answers like the driver: a
// MSG_REPORT_RSP payload, certificates copied to certs_address, SNP_GUEST_VMM_ERR_INVALID_LEN with the needed length
// in certs_len when the buffer is too small. The real device path is exercised for its absence only.
#include "../../runtime/attest/src/ProviderDetail.h"
#include "omega/attest/Certs.h"
#include "omega/attest/Provider.h"
#include "omega/attest/Report.h"
#include "omega/attest/Software.h"
#include "omega/attest/Verify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

namespace omega::attest {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Guid = std::array<std::uint8_t, 16>;

Guid guidBytes(const char* hex32) {
    Guid g{};
    for (std::size_t i = 0; i < 16; ++i)
        g[i] = static_cast<std::uint8_t>(std::stoul(std::string(hex32 + 2 * i, 2), nullptr, 16));
    return g;
}

// The table's GUID bytes, pinned as wire bytes apart from the code under test: in the order the text is written.
const Guid kVcek = guidBytes("63da758de6644564adc5f4b93be8accd");
const Guid kVlek = guidBytes("a8074bc2a25a483eaae639c045a0b8a1");
const Guid kAsk = guidBytes("4ab7b379bbac4fe4a02f05aef327c782");
const Guid kArk = guidBytes("c0b406a4a803495297433fb6014cd0ae");
// The VCEK's GUID in the mixed-endian EFI_GUID layout: not what the table holds, so an unknown GUID.
const Guid kVcekMixedEndian = guidBytes("8d75da6364e66445adc5f4b93be8accd");
const Guid kCrl = guidBytes("92f81bc358114d3d97ffd19f88dc67ea");

// RSA-4096 generation takes a while: one authority for the whole test program.
const SoftwareAuthority& authority() {
    static const SoftwareAuthority a = [] {
        auto generated = SoftwareAuthority::generate();
        if (!generated) {
            std::cerr << "SoftwareAuthority::generate: " << generated.error() << "\n";
            std::abort();
        }
        return std::move(*generated);
    }();
    return a;
}

Bytes vcekDer() {
    return authority().chain().vcek.der();
}
Bytes askDer() {
    return authority().chain().ask.der();
}
Bytes arkDer() {
    return authority().chain().ark.der();
}

ReportData sampleData(std::uint8_t seed) {
    ReportData d{};
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(seed + 3 * i);
    return d;
}

void putLe32(Bytes& out, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct TableEntry {
    Guid guid;
    Bytes bytes;
};

// A well-formed table: the header, a zero entry, then each entry's bytes in order; `padTo` adds zero bytes at the
// end as the driver's page-sized buffer does.
Bytes makeTable(const std::vector<TableEntry>& entries, std::size_t padTo = 0) {
    const std::size_t header = (entries.size() + 1) * 24;
    Bytes out(header, 0);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::copy(entries[i].guid.begin(), entries[i].guid.end(), out.begin() + 24 * i);
        putLe32(out, 24 * i + 16, static_cast<std::uint32_t>(out.size()));
        putLe32(out, 24 * i + 20, static_cast<std::uint32_t>(entries[i].bytes.size()));
        out.insert(out.end(), entries[i].bytes.begin(), entries[i].bytes.end());
    }
    if (out.size() < padTo) out.resize(padTo, 0);
    return out;
}

Bytes chainTable(std::size_t padTo = 0) {
    return makeTable({{kVcek, vcekDer()}, {kAsk, askDer()}, {kArk, arkDer()}}, padTo);
}

// The DER of each certificate in `pem`, in order.
std::vector<Bytes> dersOf(const std::string& pem) {
    auto certs = parseCertificates(std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()));
    EXPECT_TRUE(certs.ok()) << (certs.ok() ? "" : certs.error());
    std::vector<Bytes> out;
    if (certs.ok()) {
        for (const Certificate& c : *certs) out.push_back(c.der());
    }
    return out;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A report as a chip would make it for `data` at `vmpl`, signed by the test authority.
Bytes signedReport(std::span<const std::uint8_t> data, unsigned vmpl) {
    Report fields;
    fields.version = 2;
    fields.vmpl = vmpl;
    std::copy_n(data.begin(), std::min(data.size(), fields.reportData.size()), fields.reportData.begin());
    auto report = authority().sign(fields);
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error());
    if (!report) return {};
    return Bytes(report->bytes.begin(), report->bytes.end());
}

// ---------------------------------------------------------------------------------------------------------------
// The certificate table.

TEST(CertificateTable, ConvertsInVcekAskArkOrder) {
    // Stored ARK first: the output order is the role order, not the table's.
    const Bytes table = makeTable({{kArk, arkDer()}, {kVcek, vcekDer()}, {kAsk, askDer()}});
    auto pem = certificateTableToPem(table);
    ASSERT_TRUE(pem.ok()) << pem.error();
    EXPECT_EQ(dersOf(*pem), (std::vector<Bytes>{vcekDer(), askDer(), arkDer()}));
}

TEST(CertificateTable, VlekTakesTheVcekPlace) {
    auto pem = certificateTableToPem(makeTable({{kAsk, askDer()}, {kVlek, vcekDer()}}));
    ASSERT_TRUE(pem.ok()) << pem.error();
    EXPECT_EQ(dersOf(*pem), (std::vector<Bytes>{vcekDer(), askDer()}));
}

TEST(CertificateTable, EmptyAndAllZeroMeanNoCertificates) {
    auto none = certificateTableToPem({});
    ASSERT_TRUE(none.ok()) << none.error();
    EXPECT_EQ(*none, "");
    // What the driver leaves when the host sends nothing: its zeroed buffer.
    auto zeros = certificateTableToPem(Bytes(4096, 0));
    ASSERT_TRUE(zeros.ok()) << zeros.error();
    EXPECT_EQ(*zeros, "");
}

TEST(CertificateTable, PaddingAfterTheTableIsAllowed) {
    auto pem = certificateTableToPem(chainTable(16384));
    ASSERT_TRUE(pem.ok()) << pem.error();
    EXPECT_EQ(dersOf(*pem).size(), 3u);
}

TEST(CertificateTable, UnknownGuidsAreSkipped) {
    auto pem = certificateTableToPem(makeTable({{kCrl, Bytes(100, 0xAB)}, {kVcek, vcekDer()}}));
    ASSERT_TRUE(pem.ok()) << pem.error();
    EXPECT_EQ(dersOf(*pem), (std::vector<Bytes>{vcekDer()}));
}

TEST(CertificateTable, GuidByteOrderIsTheWrittenOrder) {
    // The same certificate under the mixed-endian spelling of the VCEK GUID is not recognised.
    auto pem = certificateTableToPem(makeTable({{kVcekMixedEndian, vcekDer()}}));
    ASSERT_TRUE(pem.ok()) << pem.error();
    EXPECT_EQ(*pem, "");
}

TEST(CertificateTable, TruncatedHeader) {
    Bytes table = chainTable();
    table.resize(24 * 2 + 10);  // inside the third entry
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: no all-zero entry ends the table within its 58 bytes");
}

TEST(CertificateTable, TruncatedCertificate) {
    Bytes table = chainTable();
    table.resize(table.size() - 1);
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_TRUE(contains(pem.error(), "entry 2 (ARK): bytes")) << pem.error();
    EXPECT_TRUE(contains(pem.error(), "lie beyond the table's")) << pem.error();
}

TEST(CertificateTable, MissingTerminator) {
    // One entry and no zero entry after it: the certificate's own bytes are read as the next entry and are not
    // zero, and the table ends before any zero entry.
    Bytes table(24, 0);
    std::copy(kVcek.begin(), kVcek.end(), table.begin());
    putLe32(table, 16, 24);
    putLe32(table, 20, 0);
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: no all-zero entry ends the table within its 24 bytes");
}

TEST(CertificateTable, OffsetOutOfRange) {
    Bytes table = chainTable();
    putLe32(table, 16, 0xFFFFFFF0u);  // offset + length overflows 32 bits: checked in 64
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_TRUE(contains(pem.error(), "entry 0 (VCEK): bytes 4294967280 to")) << pem.error();
}

TEST(CertificateTable, OffsetInsideHeader) {
    Bytes table = chainTable();
    putLe32(table, 16, 8);
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entry 0 (VCEK): offset 8 is inside the table's 96-byte header");
}

TEST(CertificateTable, OverlappingEntries) {
    Bytes table = chainTable();
    // The ASK's range starts one byte before the VCEK's ends.
    const std::uint32_t vcekEnd = 96 + static_cast<std::uint32_t>(vcekDer().size());
    putLe32(table, 24 + 16, vcekEnd - 1);
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entry 0 (VCEK) and entry 1 (ASK) overlap");
}

TEST(CertificateTable, DuplicateRole) {
    auto pem = certificateTableToPem(makeTable({{kVcek, vcekDer()}, {kVcek, vcekDer()}}));
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entries 0 and 1 are both the VCEK");
}

TEST(CertificateTable, ZeroGuidWithRange) {
    Bytes table = makeTable({{kVcek, vcekDer()}});
    putLe32(table, 24 + 20, 5);  // the terminator with a length
    auto pem = certificateTableToPem(table);
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entry 1 has a zero GUID but offset 0 and length 5");
}

TEST(CertificateTable, NotACertificate) {
    auto pem = certificateTableToPem(makeTable({{kAsk, Bytes(64, 0x30)}}));
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entry 0 (ASK): not a DER X.509 certificate");
}

TEST(CertificateTable, TrailingBytesInAnEntry) {
    Bytes der = vcekDer();
    der.push_back(0);
    der.push_back(0);
    auto padded = certificateTableToPem(makeTable({{kVcek, der}}));
    ASSERT_TRUE(padded.ok()) << padded.error();
    EXPECT_EQ(dersOf(*padded), (std::vector<Bytes>{vcekDer()}));
    der.push_back(7);
    auto garbage = certificateTableToPem(makeTable({{kVcek, der}}));
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.error(), "certificate table: entry 0 (VCEK): 3 bytes after the certificate are not zero padding");
}

TEST(CertificateTable, EmptyKnownEntry) {
    auto pem = certificateTableToPem(makeTable({{kArk, {}}}));
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: entry 0 (ARK) is empty");
}

TEST(CertificateTable, TooManyEntries) {
    std::vector<TableEntry> entries(65, TableEntry{kCrl, Bytes(1, 1)});
    auto pem = certificateTableToPem(makeTable(entries));
    ASSERT_FALSE(pem.ok());
    EXPECT_EQ(pem.error(), "certificate table: more than 64 entries");
}

// ---------------------------------------------------------------------------------------------------------------
// configfs-tsm.

// Behaves like drivers/virt/coco/tsm.c with the sev_guest provider (see the top of this file). Not thread-safe:
// the provider serialises its calls.
class KernelTsm : public detail::FileSystem {
public:
    static constexpr const char* kRoot = "/sys/kernel/config/tsm/report";

    // What it is and does.
    bool rootExists = true;
    std::string provider = "sev_guest";
    bool privlevelVisible = true;
    bool auxblobVisible = true;
    unsigned privlevelFloor = 0;
    Bytes hostCertificates = chainTable();  // the host's certificate table, "" for none
    int racesToInject = 0;                  // another writer replaces inblob right after ours, this many times
    std::size_t truncateOutblob = 0;        // nonzero: outblob is cut to this many bytes
    bool corruptReportData = false;         // outblob's REPORT_DATA differs from the inblob
    std::string generationOverride;         // nonempty: what `generation` reads

    // What it saw.
    int reportsMade = 0;
    int auxblobReads = 0;
    int entriesMade = 0;
    unsigned lastPrivlevel = 0;
    std::size_t liveEntries() const { return entries_.size(); }

    int makeDir(const std::string& path) override {
        const auto [parent, name] = split(path);
        if (!rootExists || parent != kRoot) return ENOENT;
        if (entries_.count(path)) return EEXIST;
        entries_[path] = State{};
        ++entriesMade;
        return 0;
    }

    int removeDir(const std::string& path) override { return entries_.erase(path) ? 0 : ENOENT; }

    int writeFile(const std::string& path, std::span<const std::uint8_t> bytes) override {
        const auto [dir, attribute] = split(path);
        auto it = entries_.find(dir);
        if (it == entries_.end()) return ENOENT;
        State& s = it->second;
        if (attribute == "inblob") {
            if (bytes.size() > 64) return EFBIG;
            s.inblob.assign(bytes.begin(), bytes.end());
            ++s.writeGeneration;
            if (racesToInject > 0) {
                --racesToInject;
                s.inblob.assign(64, 0xEE);
                ++s.writeGeneration;
            }
            return 0;
        }
        if (attribute == "privlevel") {
            if (!privlevelVisible) return ENOENT;
            const std::string text(bytes.begin(), bytes.end());
            char* end = nullptr;
            const unsigned long level = std::strtoul(text.c_str(), &end, 0);
            if (end == text.c_str() || (*end != '\0' && std::string(end) != "\n")) return EINVAL;
            if (level < privlevelFloor || level > 3) return EINVAL;
            s.privlevel = static_cast<unsigned>(level);
            ++s.writeGeneration;
            return 0;
        }
        if (isAttribute(attribute)) return EACCES;
        return ENOENT;
    }

    int readFile(const std::string& path, std::size_t limit, Bytes& out) override {
        const auto [dir, attribute] = split(path);
        auto it = entries_.find(dir);
        if (it == entries_.end()) return ENOENT;
        State& s = it->second;
        std::string text;
        if (attribute == "generation") {
            text = generationOverride.empty() ? std::to_string(s.writeGeneration) + "\n" : generationOverride;
        } else if (attribute == "provider") {
            text = provider + "\n";
        } else if (attribute == "privlevel_floor") {
            if (!privlevelVisible) return ENOENT;
            text = std::to_string(privlevelFloor) + "\n";
        } else if (attribute == "outblob" || attribute == "auxblob") {
            if (attribute == "auxblob") {
                if (!auxblobVisible) return ENOENT;
                ++auxblobReads;
            }
            if (s.inblob.empty()) return EINVAL;
            if (!s.made || s.readGeneration != s.writeGeneration) makeReport(s);
            out = attribute == "outblob" ? s.outblob : s.auxblob;
            return out.size() > limit ? EFBIG : 0;
        } else {
            return isAttribute(attribute) ? EACCES : ENOENT;
        }
        out.assign(text.begin(), text.end());
        return out.size() > limit ? EFBIG : 0;
    }

private:
    struct State {
        Bytes inblob;
        unsigned privlevel = 0;
        std::uint64_t writeGeneration = 0, readGeneration = 0;
        bool made = false;
        Bytes outblob, auxblob;
    };

    static std::pair<std::string, std::string> split(const std::string& path) {
        const std::size_t slash = path.rfind('/');
        return {path.substr(0, slash), path.substr(slash + 1)};
    }

    static bool isAttribute(const std::string& name) {
        for (const char* a : {"inblob", "outblob", "auxblob", "provider", "generation", "privlevel", "privlevel_floor"})
            if (name == a) return true;
        return false;
    }

    void makeReport(State& s) {
        ++reportsMade;
        lastPrivlevel = s.privlevel;
        s.outblob = signedReport(s.inblob, s.privlevel);
        if (corruptReportData) s.outblob[kReportDataAt + 7] ^= 0x01;
        if (truncateOutblob) s.outblob.resize(truncateOutblob);
        s.auxblob = hostCertificates;
        s.readGeneration = s.writeGeneration;
        s.made = true;
    }

    std::map<std::string, State> entries_;
};

struct ConfigfsRun {
    std::shared_ptr<KernelTsm> kernel = std::make_shared<KernelTsm>();
    ConfigfsOptions options;
    ConfigfsRun() { options.root = KernelTsm::kRoot; }
    Result<Evidence> report(const ReportData& data) { return detail::configfsTsm(options, kernel)->report(data); }
};

TEST(Configfs, RoundTrip) {
    ConfigfsRun run;
    auto provider = detail::configfsTsm(run.options, run.kernel);
    EXPECT_EQ(provider->name(), "configfs-tsm (/sys/kernel/config/tsm/report)");
    EXPECT_TRUE(provider->hardware());
    const ReportData data = sampleData(1);
    auto evidence = provider->report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_TRUE(evidence->hardware);
    EXPECT_EQ(evidence->provider, "configfs-tsm (sev_guest)");
    auto report = parseReport(evidence->report);
    ASSERT_TRUE(report.ok()) << report.error();
    EXPECT_EQ(report->reportData, data);
    EXPECT_EQ(report->vmpl, 0u);
    EXPECT_EQ(dersOf(evidence->certificates), (std::vector<Bytes>{vcekDer(), askDer(), arkDer()}));
    EXPECT_EQ(run.kernel->reportsMade, 1);
    EXPECT_EQ(run.kernel->entriesMade, 1);
    EXPECT_EQ(run.kernel->liveEntries(), 0u);  // removed
}

TEST(Configfs, EvidenceVerifiesWithTheChainItCarries) {
    ConfigfsRun run;
    const ReportData data = sampleData(2);
    auto evidence = run.report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    auto chain = parseCertificates(
        std::span(reinterpret_cast<const std::uint8_t*>(evidence->certificates.data()), evidence->certificates.size()));
    ASSERT_TRUE(chain.ok()) << chain.error();
    VerifyOptions options;
    options.trustedRoots.push_back(authority().chain().ark);
    options.expectedReportData = data;
    const Verdict verdict = verify(evidence->report, *chain, options);
    EXPECT_TRUE(verdict.accepted) << (verdict.firstFailure()
                                          ? verdict.firstFailure()->name + ": " + verdict.firstFailure()->detail
                                          : "");
}

TEST(Configfs, Privlevel) {
    ConfigfsRun run;
    run.options.privlevel = 2;
    auto evidence = run.report(sampleData(3));
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_EQ(run.kernel->lastPrivlevel, 2u);
    auto report = parseReport(evidence->report);
    ASSERT_TRUE(report.ok()) << report.error();
    EXPECT_EQ(report->vmpl, 2u);
}

TEST(Configfs, PrivlevelOutOfRange) {
    ConfigfsRun run;
    run.options.privlevel = 4;
    auto evidence = run.report(sampleData(4));
    ASSERT_FALSE(evidence.ok());
    EXPECT_EQ(evidence.error(), "configfs-tsm: privlevel 4 is out of range (0 to 3)");
    EXPECT_EQ(run.kernel->entriesMade, 0);
}

TEST(Configfs, PrivlevelBelowFloor) {
    ConfigfsRun run;
    run.kernel->privlevelFloor = 1;
    auto evidence = run.report(sampleData(5));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "configfs-tsm: cannot write 0 to `/sys/kernel/config/tsm/report/omega-"))
        << evidence.error();
    EXPECT_TRUE(contains(evidence.error(), "/privlevel`: Invalid argument (privlevel_floor is 1)")) << evidence.error();
    EXPECT_EQ(run.kernel->liveEntries(), 0u);
}

TEST(Configfs, HiddenPrivlevel) {
    ConfigfsRun run;
    run.kernel->privlevelVisible = false;
    auto evidence = run.report(sampleData(6));  // level 0: nothing to write
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    run.options.privlevel = 1;
    auto refused = run.report(sampleData(6));
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(contains(refused.error(), "/privlevel`: No such file or directory")) << refused.error();
}

TEST(Configfs, RaceIsRetried) {
    ConfigfsRun run;
    run.kernel->racesToInject = 1;
    const ReportData data = sampleData(7);
    auto evidence = run.report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_EQ(run.kernel->reportsMade, 2);  // the first report answered the other writer's inblob
    auto report = parseReport(evidence->report);
    ASSERT_TRUE(report.ok()) << report.error();
    EXPECT_EQ(report->reportData, data);
}

TEST(Configfs, RaceRetryLimit) {
    ConfigfsRun run;
    run.kernel->racesToInject = 1000;
    run.options.retries = 2;
    auto evidence = run.report(sampleData(8));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "/generation` went from 6 to 9 where our writes make 8"))
        << evidence.error();
    EXPECT_TRUE(contains(evidence.error(),
                         "(another writer uses the entry, or the kernel dropped a write), in each of 3 attempts"))
        << evidence.error();
    EXPECT_EQ(run.kernel->reportsMade, 3);
    EXPECT_EQ(run.kernel->liveEntries(), 0u);

    ConfigfsRun once;
    once.kernel->racesToInject = 1;
    once.options.retries = 0;
    auto single = once.report(sampleData(8));
    ASSERT_FALSE(single.ok());
    EXPECT_TRUE(contains(single.error(), "in the only attempt allowed")) << single.error();
}

TEST(Configfs, ShortOutblob) {
    ConfigfsRun run;
    run.kernel->truncateOutblob = 1000;
    auto evidence = run.report(sampleData(9));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "/outblob`: the report is 1000 bytes, expected 1184")) << evidence.error();
    EXPECT_EQ(run.kernel->liveEntries(), 0u);
}

TEST(Configfs, ReportDataMismatch) {
    ConfigfsRun run;
    run.kernel->corruptReportData = true;
    auto evidence = run.report(sampleData(10));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(),
                         "/outblob`: the report's REPORT_DATA is not the data asked for (it answers another request)"))
        << evidence.error();
}

TEST(Configfs, MissingDirectory) {
    ConfigfsRun run;
    run.kernel->rootExists = false;
    auto evidence = run.report(sampleData(11));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(
        contains(evidence.error(), "configfs-tsm: cannot create report entry `/sys/kernel/config/tsm/report/omega-"))
        << evidence.error();
    EXPECT_TRUE(contains(evidence.error(),
                         "`: No such file or directory (is configfs mounted and configfs-tsm in this kernel?)"))
        << evidence.error();
}

TEST(Configfs, OtherProvider) {
    ConfigfsRun run;
    run.kernel->provider = "tdx_guest";
    auto evidence = run.report(sampleData(12));
    ASSERT_FALSE(evidence.ok());
    EXPECT_EQ(evidence.error(),
              "configfs-tsm: the provider is `tdx_guest`; only `sev_guest` (SEV-SNP) reports are understood");
    EXPECT_EQ(run.kernel->reportsMade, 0);
    EXPECT_EQ(run.kernel->liveEntries(), 0u);
}

TEST(Configfs, NoCertificates) {
    ConfigfsRun hidden;
    hidden.kernel->auxblobVisible = false;
    auto a = hidden.report(sampleData(13));
    ASSERT_TRUE(a.ok()) << a.error();
    EXPECT_EQ(a->certificates, "");

    ConfigfsRun empty;
    empty.kernel->hostCertificates.clear();
    auto b = empty.report(sampleData(13));
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_EQ(b->certificates, "");

    ConfigfsRun unwanted;
    unwanted.options.certificates = false;
    auto c = unwanted.report(sampleData(13));
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->certificates, "");
    EXPECT_EQ(unwanted.kernel->auxblobReads, 0);
}

TEST(Configfs, MalformedAuxblob) {
    ConfigfsRun run;
    run.kernel->hostCertificates = Bytes(24, 0x11);
    auto evidence = run.report(sampleData(14));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(),
                         "/auxblob`: certificate table: no all-zero entry ends the table within its 24 bytes"))
        << evidence.error();
}

TEST(Configfs, BadGeneration) {
    ConfigfsRun run;
    run.kernel->generationOverride = "12x\n";
    auto evidence = run.report(sampleData(15));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "/generation` is not a generation number: `12x`")) << evidence.error();
}

TEST(Configfs, CallsAreSerialised) {
    auto kernel = std::make_shared<KernelTsm>();
    ConfigfsOptions options;
    options.root = KernelTsm::kRoot;
    auto provider = detail::configfsTsm(options, kernel);
    std::vector<std::thread> threads;
    std::vector<int> good(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                const ReportData data = sampleData(static_cast<std::uint8_t>(16 * t + i));
                auto evidence = provider->report(data);
                if (evidence.ok() && std::equal(data.begin(), data.end(), evidence->report.begin() + kReportDataAt))
                    ++good[t];
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(good, (std::vector<int>{3, 3, 3, 3}));
    EXPECT_EQ(kernel->liveEntries(), 0u);
}

// The real POSIX calls on a temporary directory.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "omega-provider-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(ConfigfsPosix, MissingRoot) {
    TempDir dir;
    ConfigfsOptions options;
    options.root = dir.path() + "/absent";
    auto evidence = configfsTsm(options)->report(sampleData(20));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "configfs-tsm: cannot create report entry `" + dir.path() +
                                               "/absent/omega-" + std::to_string(::getpid()) + "-"))
        << evidence.error();
    EXPECT_TRUE(contains(evidence.error(), "`: No such file or directory")) << evidence.error();
}

TEST(ConfigfsPosix, PlainDirectoryHasNoAttributesAndTheEntryIsRemoved) {
    TempDir dir;
    ConfigfsOptions options;
    options.root = dir.path();
    auto evidence = configfsTsm(options)->report(sampleData(21));
    ASSERT_FALSE(evidence.ok());
    EXPECT_TRUE(contains(evidence.error(), "configfs-tsm: cannot read `" + dir.path() + "/omega-")) << evidence.error();
    EXPECT_TRUE(contains(evidence.error(), "/provider`: No such file or directory")) << evidence.error();
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ConfigfsPosix, FileOperations) {
    TempDir dir;
    auto fs = detail::posixFileSystem();
    const std::string file = dir.path() + "/attribute";
    const Bytes first(100, 0x41), second(10, 0x42);
    EXPECT_EQ(fs->writeFile(file, first), ENOENT);  // never creates
    { std::ofstream(file).put('x'); }
    EXPECT_EQ(fs->writeFile(file, first), 0);
    EXPECT_EQ(fs->writeFile(file, second), 0);  // replaces
    Bytes out;
    EXPECT_EQ(fs->readFile(file, 10, out), 0);
    EXPECT_EQ(out, second);
    EXPECT_EQ(fs->readFile(file, 9, out), EFBIG);
    EXPECT_EQ(fs->readFile(dir.path() + "/absent", 10, out), ENOENT);
    EXPECT_EQ(fs->makeDir(dir.path() + "/entry"), 0);
    EXPECT_EQ(fs->makeDir(dir.path() + "/entry"), EEXIST);
    EXPECT_EQ(fs->removeDir(dir.path() + "/entry"), 0);
    EXPECT_EQ(fs->removeDir(dir.path() + "/entry"), ENOENT);
}

// ---------------------------------------------------------------------------------------------------------------
// /dev/sev-guest.

Bytes responsePayload(std::uint32_t status, std::span<const std::uint8_t> report) {
    Bytes payload(0x20 + report.size(), 0);
    putLe32(payload, 0, status);
    putLe32(payload, 4, static_cast<std::uint32_t>(report.size()));
    std::copy(report.begin(), report.end(), payload.begin() + 0x20);
    return payload;
}

// Answers like drivers/virt/coco/sev-guest for a guest whose host holds `hostCertificates`.
class FakeSevDevice : public detail::SevDevice {
public:
    struct Script {
        Bytes hostCertificates = chainTable();
        std::size_t certsNeeded = 0;  // nonzero: the length the host asks for (else the table's, page rounded)
        std::size_t certsGrowth = 0;  // nonzero: what it asks for grows by this much after every refusal
        bool lieAboutLength = false;  // refuses the buffer but asks for no more than it was given
        int error = 0;                // nonzero: every request fails with this errno and `exitinfo2`
        std::uint64_t exitinfo2 = 0;
        std::uint32_t status = 0;                 // MSG_REPORT_RSP status
        bool ignoreVmpl = false;                  // makes VMPL 0 reports whatever is asked
        bool otherData = false;                   // answers with REPORT_DATA that was not asked for
        std::vector<std::uint32_t> certsLengths;  // seen, one per SNP_GET_EXT_REPORT
        int plainRequests = 0;
    };

    explicit FakeSevDevice(std::shared_ptr<Script> script) : script_(std::move(script)) {}

    int getReport(snp_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) override {
        ++script_->plainRequests;
        return answer(request, response, exitinfo2);
    }

    int getExtReport(snp_ext_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) override {
        Script& s = *script_;
        s.certsLengths.push_back(request.certs_len);
        std::size_t needed = s.certsNeeded ? s.certsNeeded : (s.hostCertificates.size() + 4095) / 4096 * 4096;
        if (s.lieAboutLength) needed = request.certs_len + 1;
        if (request.certs_len < needed) {
            request.certs_len = static_cast<std::uint32_t>(s.lieAboutLength ? request.certs_len : needed);
            if (s.certsGrowth) s.certsNeeded = needed + s.certsGrowth;
            exitinfo2 = std::uint64_t{SNP_GUEST_VMM_ERR_INVALID_LEN} << 32;
            return EIO;
        }
        auto* certs = reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(request.certs_address));
        if (!s.hostCertificates.empty()) std::memcpy(certs, s.hostCertificates.data(), s.hostCertificates.size());
        return answer(request.data, response, exitinfo2);
    }

private:
    int answer(const snp_report_req& request, snp_report_resp& response, std::uint64_t& exitinfo2) {
        const Script& s = *script_;
        if (s.error) {
            exitinfo2 = s.exitinfo2;
            return s.error;
        }
        Bytes data(request.user_data, request.user_data + sizeof request.user_data);
        if (s.otherData) data[0] ^= 0xFF;
        const Bytes payload = responsePayload(s.status, signedReport(data, s.ignoreVmpl ? 0 : request.vmpl));
        std::memcpy(response.data, payload.data(), payload.size());
        return 0;
    }

    std::shared_ptr<Script> script_;
};

struct SevRun {
    std::shared_ptr<FakeSevDevice::Script> script = std::make_shared<FakeSevDevice::Script>();
    SevGuestOptions options;
    SevRun() { options.device = "/dev/fake-sev-guest"; }
    Result<Evidence> report(const ReportData& data) {
        auto s = script;
        return detail::sevGuest(options,
                                [s](const std::string&) -> Result<std::unique_ptr<detail::SevDevice>> {
                                    return std::unique_ptr<detail::SevDevice>(std::make_unique<FakeSevDevice>(s));
                                })
            ->report(data);
    }
};

TEST(SevGuest, MissingDevice) {
    auto device = detail::openSevDevice("/nonexistent/sev-guest");
    ASSERT_FALSE(device.ok());
    EXPECT_EQ(
        device.error(),
        "sev-guest: cannot open `/nonexistent/sev-guest`: No such file or directory (not an SEV-SNP guest, or the "
        "sev-guest driver is not loaded)");
    SevGuestOptions options;
    options.device = "/nonexistent/sev-guest";
    auto provider = sevGuest(options);
    EXPECT_EQ(provider->name(), "sev-guest (/nonexistent/sev-guest)");
    EXPECT_TRUE(provider->hardware());
    auto evidence = provider->report(sampleData(30));
    ASSERT_FALSE(evidence.ok());
    EXPECT_EQ(evidence.error(), device.error());
}

TEST(SevGuest, ResponsePayload) {
    const Bytes report(kReportSize, 0x5A);
    Bytes payload = responsePayload(0, report);
    payload.resize(4000, 0);
    auto parsed = detail::parseReportResponse(payload);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, report);

    Bytes failed = responsePayload(0x16, {});
    failed.resize(4000, 0);
    auto status = detail::parseReportResponse(failed);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error(), "report response: firmware status 0x16 (invalid parameters)");

    Bytes oversized = payload;
    putLe32(oversized, 4, 4000);
    auto size = detail::parseReportResponse(oversized);
    ASSERT_FALSE(size.ok());
    EXPECT_EQ(size.error(), "report response: report_size 4000 exceeds the 3968 bytes after the header");

    auto shortPayload = detail::parseReportResponse(Bytes(10, 0));
    ASSERT_FALSE(shortPayload.ok());
    EXPECT_EQ(shortPayload.error(), "report response: 10 bytes, shorter than its 32-byte header");
}

TEST(SevGuest, ExtendedRoundTrip) {
    SevRun run;
    run.options.vmpl = 1;
    const ReportData data = sampleData(31);
    auto evidence = run.report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_TRUE(evidence->hardware);
    EXPECT_EQ(evidence->provider, "sev-guest");
    auto report = parseReport(evidence->report);
    ASSERT_TRUE(report.ok()) << report.error();
    EXPECT_EQ(report->reportData, data);
    EXPECT_EQ(report->vmpl, 1u);
    EXPECT_EQ(dersOf(evidence->certificates), (std::vector<Bytes>{vcekDer(), askDer(), arkDer()}));
    EXPECT_EQ(run.script->certsLengths, (std::vector<std::uint32_t>{16384}));
}

TEST(SevGuest, ExtendedBufferGrows) {
    SevRun run;
    run.script->hostCertificates = chainTable(20000);
    auto evidence = run.report(sampleData(32));
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_EQ(run.script->certsLengths, (std::vector<std::uint32_t>{16384, 20480}));
    EXPECT_EQ(dersOf(evidence->certificates).size(), 3u);
}

TEST(SevGuest, ExtendedBufferBounded) {
    SevRun tooLarge;
    tooLarge.script->certsNeeded = 2 * 1024 * 1024;
    auto a = tooLarge.report(sampleData(33));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error(),
              "sev-guest: SNP_GET_EXT_REPORT on `/dev/fake-sev-guest`: the host asks for 2097152 bytes of "
              "certificates, more than the 1048576 allowed");

    SevRun growing;
    growing.script->certsNeeded = 20480;
    growing.script->certsGrowth = 4096;
    auto b = growing.report(sampleData(33));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error(),
              "sev-guest: SNP_GET_EXT_REPORT on `/dev/fake-sev-guest`: the certificates did not fit in 3 attempts (the "
              "host last asked for 28672 bytes)");
    EXPECT_EQ(growing.script->certsLengths, (std::vector<std::uint32_t>{16384, 20480, 24576}));

    SevRun liar;
    liar.script->lieAboutLength = true;
    auto c = liar.report(sampleData(33));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(),
              "sev-guest: SNP_GET_EXT_REPORT on `/dev/fake-sev-guest`: the host finds 16384 bytes too few for the "
              "certificates but asks for 16384");
}

TEST(SevGuest, HostWithoutCertificates) {
    SevRun run;
    run.script->hostCertificates.clear();
    run.script->certsNeeded = 4096;
    auto evidence = run.report(sampleData(34));
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_EQ(evidence->certificates, "");
}

TEST(SevGuest, PlainReport) {
    SevRun run;
    run.options.extended = false;
    const ReportData data = sampleData(35);
    auto evidence = run.report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_EQ(run.script->plainRequests, 1);
    EXPECT_TRUE(run.script->certsLengths.empty());
    EXPECT_EQ(evidence->certificates, "");
    EXPECT_TRUE(std::equal(data.begin(), data.end(), evidence->report.begin() + kReportDataAt));
}

TEST(SevGuest, DriverErrors) {
    SevRun firmware;
    firmware.options.extended = false;
    firmware.script->error = EIO;
    firmware.script->exitinfo2 = 0x16;
    auto a = firmware.report(sampleData(36));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error(),
              "sev-guest: SNP_GET_REPORT on `/dev/fake-sev-guest` failed: Input/output error, firmware error 0x16");

    SevRun busy;
    busy.script->error = EAGAIN;
    busy.script->exitinfo2 = std::uint64_t{SNP_GUEST_VMM_ERR_BUSY} << 32;
    auto b = busy.report(sampleData(36));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error(),
              "sev-guest: SNP_GET_EXT_REPORT on `/dev/fake-sev-guest` failed: Resource temporarily unavailable, VMM "
              "error 2 (the host is busy)");

    SevRun noCall;
    noCall.options.extended = false;
    noCall.script->error = EINVAL;
    noCall.script->exitinfo2 = ~std::uint64_t{0};
    auto c = noCall.report(sampleData(36));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(
        c.error(),
        "sev-guest: SNP_GET_REPORT on `/dev/fake-sev-guest` failed: Invalid argument (no firmware call was made)");
}

TEST(SevGuest, ResponseChecks) {
    SevRun status;
    status.script->status = 0x16;
    auto a = status.report(sampleData(37));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error(), "sev-guest: report response: firmware status 0x16 (invalid parameters)");

    SevRun other;
    other.script->otherData = true;
    auto b = other.report(sampleData(37));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error(), "sev-guest: the report's REPORT_DATA is not the data asked for (it answers another request)");

    SevRun vmpl;
    vmpl.options.vmpl = 1;
    vmpl.script->ignoreVmpl = true;
    auto c = vmpl.report(sampleData(37));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(), "sev-guest: the report is for VMPL 0, asked for 1");

    SevRun range;
    range.options.vmpl = 4;
    auto d = range.report(sampleData(37));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error(), "sev-guest: VMPL 4 is out of range (0 to 3)");
}

// ---------------------------------------------------------------------------------------------------------------
// The software provider and the choice of hardware.

TEST(SoftwareProvider, RoundTrip) {
    auto provider = software(authority(), 1);
    EXPECT_EQ(provider->name(), "software (NOT hardware evidence)");
    EXPECT_FALSE(provider->hardware());
    const ReportData data = sampleData(40);
    auto evidence = provider->report(data);
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    EXPECT_FALSE(evidence->hardware);
    EXPECT_EQ(evidence->provider, "software");
    EXPECT_EQ(evidence->certificates, authority().chainPem());
    EXPECT_EQ(dersOf(evidence->certificates), (std::vector<Bytes>{vcekDer(), askDer(), arkDer()}));
    auto report = parseReport(evidence->report);
    ASSERT_TRUE(report.ok()) << report.error();
    EXPECT_EQ(report->reportData, data);
    EXPECT_EQ(report->vmpl, 1u);
    EXPECT_FALSE(report->debugAllowed());
    EXPECT_EQ(report->measurement, (std::array<std::uint8_t, 48>{}));
    EXPECT_TRUE(isSoftwareChipId(report->chipId));

    auto chain = parseCertificates(
        std::span(reinterpret_cast<const std::uint8_t*>(evidence->certificates.data()), evidence->certificates.size()));
    ASSERT_TRUE(chain.ok()) << chain.error();
    VerifyOptions options;
    options.trustedRoots.push_back(authority().chain().ark);
    options.allowDebug = false;
    options.expectedReportData = data;
    const Verdict verdict = verify(evidence->report, *chain, options);
    EXPECT_TRUE(verdict.accepted);
    EXPECT_TRUE(verdict.software);
}

TEST(DetectHardware, NeverSoftware) {
    const bool configfs = std::filesystem::exists("/sys/kernel/config/tsm/report");
    const bool device = std::filesystem::exists("/dev/sev-guest");
    auto provider = detectHardware();
    if (!configfs && !device) {
        ASSERT_FALSE(provider.ok());
        EXPECT_EQ(provider.error(),
                  "no SEV-SNP attestation interface on this machine: neither `/sys/kernel/config/tsm/report` nor "
                  "`/dev/sev-guest` exists (the software provider works anywhere but is not hardware evidence)");
        return;
    }
    ASSERT_TRUE(provider.ok()) << provider.error();
    EXPECT_TRUE((*provider)->hardware());
    EXPECT_EQ((*provider)->name(),
              configfs ? "configfs-tsm (/sys/kernel/config/tsm/report)" : "sev-guest (/dev/sev-guest)");
}

}  // namespace
}  // namespace omega::attest
