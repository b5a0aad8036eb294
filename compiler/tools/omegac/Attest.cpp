// `omegac attest show|verify|prove|check-module` (docs/attestation.md). Exit status: 0 shown, accepted or proven;
// 1 rejected (a named check failed); 2 usage or I/O problems.
#include "Attest.h"

#include "omega/attest/Binding.h"
#include "omega/attest/Merkle.h"
#include "omega/attest/Software.h"
#include "omega/attest/Verify.h"
#include "omega/bundle/Bundle.h"
#include "omega/log/Log.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Load.h"
#include "omega/source/Diagnostic.h"

#include <openssl/sha.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>

namespace omega::omegac {

namespace {

enum Exit { kOk = 0, kRejected = 1, kUsage = 2 };

// Usage and I/O problems: printed, then the command exits 2.
struct UsageError {
    std::string message;
};

constexpr std::size_t kMaxInput = 16u << 20;

std::string readFile(const std::string& path, const char* what) {
    std::string error;
    auto text = parse::readFile(path, kMaxInput, error);
    if (!text) throw UsageError{"cannot read " + std::string(what) + " `" + path + "`: " + error};
    return *text;
}

std::span<const std::uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <std::size_t N>
std::array<std::uint8_t, N> hexMember(const nlohmann::json& j, const char* key, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) throw UsageError{where + ": missing string member `" + key + "`"};
    auto v = attest::fromHex<N>(it->get<std::string>());
    if (!v) throw UsageError{where + ": `" + key + "` must be " + std::to_string(2 * N) + " hex digits"};
    return *v;
}

// A log head as `omegac audit verify` and omegad print it, or the empty head `0:<64 zeros>` that a monitor without a
// log binds (log::parseHead names records, so it refuses seq 0).
log::Head parseLogHead(const std::string& text, const std::string& where) {
    if (text == log::formatHead(log::Head{})) return log::Head{};
    auto head = log::parseHead(text);
    if (!head)
        throw UsageError{where +
                         ": a log head is SEQ:HEX (64 hex digits), as `omegac audit verify` and omegad print "
                         "it; got `" +
                         text + "`"};
    return *head;
}

// What omegad's attest call returns (Monitor::Attestation::json).
struct EvidenceFile {
    std::vector<std::uint8_t> report;
    std::string certificates;
    attest::Sha384 measurement{};
    attest::Sha256 modulesRoot{};
    log::Head head;
    std::optional<attest::Sha384> gpuEvidence;
    bool hardware = false;
};

EvidenceFile parseEvidence(const std::string& text, const std::string& path) {
    const std::string where = "evidence `" + path + "`";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw UsageError{where + ": not JSON: " + e.what()};
    }
    if (!j.is_object() || j.value("format", "") != "omega-evidence-v1")
        throw UsageError{where + ": not an omega evidence object (\"format\":\"omega-evidence-v1\")"};
    EvidenceFile e;
    auto report = j.find("report");
    if (report == j.end() || !report->is_string()) throw UsageError{where + ": missing string member `report`"};
    const std::string hex = report->get<std::string>();
    if (hex.size() != 2 * attest::kReportSize)
        throw UsageError{where + ": `report` must be " + std::to_string(2 * attest::kReportSize) + " hex digits"};
    auto raw = attest::fromHexBytes(hex);
    if (!raw) throw UsageError{where + ": `report` is not hex"};
    e.report = std::move(*raw);
    if (auto c = j.find("certificates"); c != j.end() && c->is_string()) e.certificates = c->get<std::string>();
    e.measurement = hexMember<48>(j, "measurement", where);
    e.modulesRoot = hexMember<32>(j, "modules_root", where);
    auto head = j.find("log_head");
    if (head == j.end() || !head->is_string()) throw UsageError{where + ": missing string member `log_head`"};
    e.head = parseLogHead(head->get<std::string>(), where);
    if (auto g = j.find("gpu_evidence"); g != j.end() && !g->is_null())
        e.gpuEvidence = hexMember<48>(j, "gpu_evidence", where);
    e.hardware = j.value("hardware", false);
    return e;
}

bool looksLikeJson(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string::npos && text[first] == '{';
}

// A bundle's measurement and module tree, read without checking its signature: the measurement says which bundle
// it is whoever signed it, and the relying party compares it with the one it expects.
struct BundleFacts {
    attest::Sha384 measurement{};
    std::vector<attest::ModuleLeaf> leaves;
};

BundleFacts readBundle(const std::string& path) {
    const std::string bytes = readFile(path, "bundle");
    auto loaded = policy::load(bytesOf(bytes), {});
    if (!loaded) throw UsageError{"bundle `" + path + "` is rejected: " + loaded.error()};
    return BundleFacts{loaded->measurement.bytes, attest::moduleLeaves(loaded->engine.image())};
}

std::int64_t parseTime(const std::string& text) {
    if (!text.empty() && text[0] == '@') {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(text.c_str() + 1, &end, 10);
        if (errno == 0 && end && *end == '\0' && end != text.c_str() + 1) return v;
    } else {
        std::tm tm{};
        const char* end = strptime(text.c_str(), "%Y-%m-%d", &tm);
        if (end && *end == '\0') return static_cast<std::int64_t>(timegm(&tm));
        tm = {};
        end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (end && *end == '\0') return static_cast<std::int64_t>(timegm(&tm));
    }
    throw UsageError{"--at: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS, got `" + text + "`"};
}

attest::TcbVersion parseTcb(const std::string& text) {
    std::string digits = text;
    if (digits.rfind("0x", 0) == 0 || digits.rfind("0X", 0) == 0) digits = digits.substr(2);
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(digits.c_str(), &end, 16);
    if (digits.empty() || digits.size() > 16 || errno != 0 || !end || *end != '\0')
        throw UsageError{"--min-tcb: expected a TCB version as hex (for example 0x4405000000000002), got `" + text +
                         "`"};
    return attest::TcbVersion{v};
}

// The report and chain a verification starts from: --report (a raw report, or an evidence file) or --evidence,
// and --chain files, else the evidence's certificates.
struct Inputs {
    std::vector<std::uint8_t> report;
    std::vector<attest::Certificate> chain;
    std::optional<EvidenceFile> evidence;
};

std::vector<attest::Certificate> readCertificates(const std::string& text, const std::string& where) {
    auto certs = attest::parseCertificates(bytesOf(text));
    if (!certs) throw UsageError{where + ": " + certs.error()};
    return std::move(*certs);
}

}  // namespace

void AttestCommands::add(CLI::App& app) {
    attest_ = app.add_subcommand("attest",
                                 "Show and verify SEV-SNP attestation reports and prove which modules a "
                                 "policy holds (docs/attestation.md)");
    attest_->require_subcommand(1);

    show_ = attest_->add_subcommand("show", "Print every field of a 1184-byte SEV-SNP report as JSON");
    show_->add_option("report", report_, "The report: raw bytes, or omegad's evidence JSON")->required();
    show_->footer("Exit status: 0 printed, 1 not a well-formed report, 2 usage or I/O problems.");

    auto addEvidenceOptions = [&](CLI::App* cmd, bool formatOption) {
        cmd->add_option("--report", report_, "The report: raw bytes (1184), or omegad's evidence JSON");
        cmd->add_option("--evidence", evidence_,
                        "omegad's attest reply (JSON): report, certificates, measurement, module root and log head");
        cmd->add_option("--chain", chain_,
                        "Certificates (PEM or DER) of the chain, in any order: VCEK, ASK and ARK (repeatable); "
                        "default: the evidence's")
            ->allow_extra_args(false);
        cmd->add_option("--trust-ark", trustArk_,
                        "Accept this root besides AMD's pinned ones (another AMD product's ARK, or a software "
                        "authority's ark.pem for tests; repeatable)")
            ->allow_extra_args(false);
        cmd->add_option("--nonce", nonce_, "Your nonce, 64 hex digits: checks the REPORT_DATA binding");
        cmd->add_option("--log-head", logHead_, "SEQ:HEX, the decision-log head bound (default: the evidence's)");
        cmd->add_option("--gpu-evidence", gpuEvidence_, "The GPU attestation evidence file folded into the binding");
        cmd->add_flag("--no-debug", noDebug_, "Reject a report whose guest policy allows debugging");
        cmd->add_option("--max-vmpl", maxVmpl_, "Reject a report from a VMPL above this")->check(CLI::Range(0, 3));
        cmd->add_option("--min-tcb", minTcb_, "Reject a REPORTED_TCB with any component below this one's (hex u64)");
        cmd->add_option("--at", at_, "Check certificate validity at this time (YYYY-MM-DD or @SECONDS; default now)");
        if (formatOption)
            cmd->add_option("--format", format_, "Output: text or json")->check(CLI::IsMember({"text", "json"}));
    };

    verify_ = attest_->add_subcommand(
        "verify",
        "Check a report's signature, its certificate chain up to an AMD root, policy fields and the binding "
        "of a bundle, nonce and log head");
    addEvidenceOptions(verify_, true);
    verify_->add_option("--bundle", bundle_, "The bundle you expect the monitor to enforce");
    verify_->footer(
        "The binding is checked when --nonce is given: REPORT_DATA must be SHA-512 over the bundle's measurement and\n"
        "module root (from --bundle, else the evidence's), the log head, the nonce and the GPU evidence digest.\n"
        "Without --nonce the report may be a replay: only its signature and chain are checked.\n"
        "Exit status: 0 accepted, 1 rejected (the first failed check is named), 2 usage or I/O problems.");

    prove_ = attest_->add_subcommand("prove", "Print the inclusion proofs of a principal's modules in a bundle");
    prove_->add_option("--principal", principal_, "The principal, as its modules' headers name it")->required();
    prove_->add_option("bundle", bundle_, "The bundle")->required();
    prove_->add_option("-o,--output", output_, "Write the proof here (default: standard output)");
    prove_->footer("Exit status: 0 printed, 1 the bundle has no module of that principal, 2 usage or I/O problems.");

    checkModule_ = attest_->add_subcommand(
        "check-module",
        "Check that your module's source is in the policy an attestation report binds, with only "
        "your source, its proof and the report");
    checkModule_->add_option("--proof", proof_, "The proof from `omegac attest prove`")->required();
    checkModule_->add_option("--source", sources_, "Your module's source file (repeatable)")
        ->required()
        ->allow_extra_args(false);
    addEvidenceOptions(checkModule_, false);
    checkModule_->footer(
        "Checks, for each source: its SHA-256 and header (name, principal, version) are a leaf of the proof, the\n"
        "path leads to the proof's module root; then that the report is genuine and binds that root, the proof's\n"
        "measurement, the log head and your nonce (--nonce is required).\n"
        "Exit status: 0 every module is in the attested policy, 1 a check failed, 2 usage or I/O problems.");
}

std::optional<int> AttestCommands::run() const {
    if (!attest_ || !*attest_) return std::nullopt;
    try {
        if (*show_) return runShow();
        if (*verify_) return runVerify();
        if (*prove_) return runProve();
        if (*checkModule_) return runCheckModule();
    } catch (const UsageError& e) {
        std::cerr << "omegac attest: error: " << e.message << '\n';
        return kUsage;
    }
    return kUsage;
}

int AttestCommands::runShow() const {
    const std::string text = readFile(report_, "report");
    std::vector<std::uint8_t> bytes(text.begin(), text.end());
    bool hardware = true;
    if (looksLikeJson(text)) {
        EvidenceFile e = parseEvidence(text, report_);
        bytes = std::move(e.report);
        hardware = e.hardware;
    }
    auto report = attest::parseReport(bytes);
    if (!report) {
        std::cerr << "omegac attest: `" << report_ << "`: " << report.error() << '\n';
        return kRejected;
    }
    if (!hardware || attest::isSoftwareChipId(report->chipId))
        std::cerr << "omegac attest: note: a software provider's report: NOT hardware evidence\n";
    std::cout << attest::reportToJson(*report) << '\n';
    return kOk;
}

namespace {

struct Plan {
    Inputs in;
    attest::VerifyOptions options;
    std::optional<attest::Binding> binding;  // when the binding is checked
    std::vector<std::string> notes;          // where the bound values came from
};

void printVerdict(const attest::Verdict& v, const Plan& plan, const std::string& format) {
    if (format == "json") {
        nlohmann::json out;
        out["accepted"] = v.accepted;
        out["software"] = v.software;
        out["binding_checked"] = plan.binding.has_value();
        for (const attest::Check& c : v.checks)
            out["checks"].push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
        if (plan.binding) {
            const attest::Binding& b = *plan.binding;
            out["binding"] = {{"measurement", attest::toHex(b.measurement)},
                              {"modules_root", attest::toHex(b.modulesRoot)},
                              {"log_head", std::to_string(b.logSeq) + ":" + attest::toHex(b.logHash)},
                              {"nonce", attest::toHex(b.nonce)},
                              {"gpu_evidence", b.gpuEvidence ? nlohmann::json(attest::toHex(*b.gpuEvidence))
                                                             : nlohmann::json(nullptr)}};
        }
        out["notes"] = plan.notes;
        std::cout << out.dump() << '\n';
        return;
    }
    for (const attest::Check& c : v.checks)
        std::cout << (c.ok ? "ok    " : "FAIL  ") << c.name << (c.detail.empty() ? "" : ": " + c.detail) << '\n';
    for (const std::string& n : plan.notes) std::cout << "note: " << n << '\n';
    if (v.software)
        std::cout << "WARNING: software evidence: signed by a local authority, not by AMD hardware; it proves nothing "
                     "about the platform\n";
    if (v.accepted) {
        std::cout << "accepted" << (plan.binding ? "" : " (signature and chain only: the binding was not checked)")
                  << '\n';
    } else {
        const attest::Check* f = v.firstFailure();
        std::cout << "rejected: " << (f ? f->name + ": " + f->detail : std::string("no check ran")) << '\n';
    }
}

// Reads the report, the chain and the options shared by verify and check-module.
Plan plan(const std::string& reportPath, const std::string& evidencePath, const std::vector<std::string>& chainPaths,
          const std::vector<std::string>& trustPaths, bool noDebug, const std::optional<std::uint32_t>& maxVmpl,
          const std::string& minTcb, const std::string& at) {
    Plan p;
    if (reportPath.empty() == evidencePath.empty()) throw UsageError{"give one of --report and --evidence"};
    const std::string& path = reportPath.empty() ? evidencePath : reportPath;
    const std::string text = readFile(path, reportPath.empty() ? "evidence" : "report");
    if (!evidencePath.empty() || looksLikeJson(text)) {
        p.in.evidence = parseEvidence(text, path);
        p.in.report = p.in.evidence->report;
    } else {
        p.in.report.assign(text.begin(), text.end());
    }
    for (const std::string& c : chainPaths) {
        auto certs = readCertificates(readFile(c, "certificates"), "certificates `" + c + "`");
        p.in.chain.insert(p.in.chain.end(), certs.begin(), certs.end());
    }
    if (chainPaths.empty() && p.in.evidence && !p.in.evidence->certificates.empty())
        p.in.chain = readCertificates(p.in.evidence->certificates, "the evidence's certificates");
    if (p.in.chain.empty())
        throw UsageError{
            "no certificate chain: give --chain (the VCEK from AMD's key distribution service, and the "
            "ASK and ARK of the product)"};
    for (const std::string& t : trustPaths) {
        auto certs = readCertificates(readFile(t, "root"), "root `" + t + "`");
        if (certs.size() != 1) throw UsageError{"--trust-ark `" + t + "`: expected one certificate"};
        p.options.trustedRoots.push_back(certs[0]);
    }
    p.options.allowDebug = !noDebug;
    p.options.maxVmpl = maxVmpl;
    if (!minTcb.empty()) p.options.minTcb = parseTcb(minTcb);
    if (!at.empty()) p.options.now = parseTime(at);
    return p;
}

// Fills the binding from the caller's nonce and the other inputs, and asks verify() to check it.
void bindInputs(Plan& p, const std::string& nonceText, const std::string& logHeadText, const std::string& gpuPath,
                const std::optional<attest::Sha384>& measurement, const std::optional<attest::Sha256>& root,
                const std::string& measurementSource) {
    if (nonceText.empty()) {
        if (!logHeadText.empty() || !gpuPath.empty())
            throw UsageError{"--log-head and --gpu-evidence are bound with a nonce: give --nonce"};
        p.notes.push_back("no --nonce: the binding (policy, log head, freshness) was not checked");
        return;
    }
    auto nonce = attest::parseNonce(nonceText);
    if (!nonce) throw UsageError{"--nonce: " + nonce.error()};
    attest::Binding b;
    b.nonce = *nonce;
    if (!measurement || !root)
        throw UsageError{"the binding needs the bundle's measurement and module root: give --bundle or --evidence"};
    b.measurement = *measurement;
    b.modulesRoot = *root;
    p.notes.push_back("measurement and module root from " + measurementSource);
    if (!logHeadText.empty()) {
        const log::Head h = parseLogHead(logHeadText, "--log-head");
        b.logSeq = h.seq;
        b.logHash = h.hash;
    } else if (p.in.evidence) {
        b.logSeq = p.in.evidence->head.seq;
        b.logHash = p.in.evidence->head.hash;
        p.notes.push_back("log head " + std::to_string(b.logSeq) + ":" + attest::toHex(b.logHash) +
                          " from the evidence: check the log holds it (omegac audit verify --expect-head)");
    } else {
        throw UsageError{"the binding needs the decision-log head: give --log-head (or --evidence)"};
    }
    if (!gpuPath.empty()) {
        const std::string gpu = readFile(gpuPath, "GPU evidence");
        attest::Sha384 digest{};
        SHA384(reinterpret_cast<const unsigned char*>(gpu.data()), gpu.size(), digest.data());
        b.gpuEvidence = digest;
    } else if (p.in.evidence && p.in.evidence->gpuEvidence) {
        p.notes.push_back("the evidence folds in GPU evidence (SHA-384 " + attest::toHex(*p.in.evidence->gpuEvidence) +
                          "); give that evidence with --gpu-evidence to check it");
    }
    p.binding = b;
    p.options.expectedReportData = attest::reportData(b);
}

}  // namespace

int AttestCommands::runVerify() const {
    Plan p = plan(report_, evidence_, chain_, trustArk_, noDebug_, maxVmpl_, minTcb_, at_);
    std::optional<attest::Sha384> measurement;
    std::optional<attest::Sha256> root;
    std::string source;
    if (!bundle_.empty()) {
        const BundleFacts facts = readBundle(bundle_);
        measurement = facts.measurement;
        root = attest::modulesRoot(facts.leaves);
        source = "the bundle `" + bundle_ + "`";
    } else if (p.in.evidence) {
        measurement = p.in.evidence->measurement;
        root = p.in.evidence->modulesRoot;
        source = "the evidence (compare sha384:" + attest::toHex(*measurement) + " with the bundle you expect)";
    }
    bindInputs(p, nonce_, logHead_, gpuEvidence_, measurement, root, source);
    const attest::Verdict v = attest::verify(p.in.report, p.in.chain, p.options);
    printVerdict(v, p, format_);
    return v.accepted ? kOk : kRejected;
}

int AttestCommands::runProve() const {
    const BundleFacts facts = readBundle(bundle_);
    std::vector<attest::Sha256> hashes;
    for (const attest::ModuleLeaf& l : facts.leaves) hashes.push_back(attest::leafHash(l));
    nlohmann::json out;
    out["format"] = "omega-inclusion-proof-v1";
    out["principal"] = principal_;
    out["measurement"] = attest::toHex(facts.measurement);
    out["modules_root"] = attest::toHex(attest::merkleRoot(hashes));
    out["tree_size"] = facts.leaves.size();
    out["modules"] = nlohmann::json::array();
    std::vector<std::string> principals;
    for (std::size_t i = 0; i < facts.leaves.size(); ++i) {
        const attest::ModuleLeaf& l = facts.leaves[i];
        if (std::find(principals.begin(), principals.end(), l.principal) == principals.end())
            principals.push_back(l.principal);
        if (l.principal != principal_) continue;
        const attest::InclusionProof proof = attest::proveInclusion(hashes, i);
        nlohmann::json path = nlohmann::json::array();
        for (const attest::Sha256& h : proof.path) path.push_back(attest::toHex(h));
        out["modules"].push_back({{"name", l.name},
                                  {"principal", l.principal},
                                  {"version", l.version},
                                  {"root", l.root},
                                  {"source_sha256", attest::toHex(l.sourceHash)},
                                  {"index", proof.index},
                                  {"path", path}});
    }
    if (out["modules"].empty()) {
        std::string known;
        for (const std::string& p : principals) known += (known.empty() ? "" : ", ") + ("`" + p + "`");
        std::cerr << "omegac attest: error: the bundle `" << bundle_ << "` has no module of principal `" << principal_
                  << "` (its principals: " << (known.empty() ? "none" : known) << ")\n";
        return kRejected;
    }
    const std::string text = out.dump(2) + "\n";
    if (output_.empty()) {
        std::cout << text;
        return kOk;
    }
    std::ofstream file(output_, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) throw UsageError{"cannot write `" + output_ + "`"};
    return kOk;
}

int AttestCommands::runCheckModule() const {
    // The proof: untrusted until its root is matched by an attested report.
    const std::string proofText = readFile(proof_, "proof");
    const std::string where = "proof `" + proof_ + "`";
    nlohmann::json proof;
    try {
        proof = nlohmann::json::parse(proofText);
    } catch (const nlohmann::json::exception& e) {
        throw UsageError{where + ": not JSON: " + e.what()};
    }
    if (!proof.is_object() || proof.value("format", "") != "omega-inclusion-proof-v1")
        throw UsageError{where + ": not an inclusion proof (\"format\":\"omega-inclusion-proof-v1\")"};
    const attest::Sha384 measurement = hexMember<48>(proof, "measurement", where);
    const attest::Sha256 root = hexMember<32>(proof, "modules_root", where);
    if (!proof.contains("tree_size") || !proof["tree_size"].is_number_unsigned() || !proof.contains("modules") ||
        !proof["modules"].is_array())
        throw UsageError{where + ": needs `tree_size` (an unsigned integer) and `modules` (an array)"};
    const std::uint64_t size = proof["tree_size"].get<std::uint64_t>();

    bool allIn = true;
    for (const std::string& path : sources_) {
        const std::string text = readFile(path, "source");
        attest::Sha256 sourceHash{};
        SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), sourceHash.data());
        // The header the source declares: the leaf binds name, principal and version, not only the text's hash.
        source::SourceManager sm;
        source::DiagnosticEngine diags;
        const source::FileId file = sm.add(path, text);
        auto module = parse::parseModule(sm, file, diags);
        if (!module) throw UsageError{"source `" + path + "` does not parse: run `omegac check` on it"};
        const nlohmann::json* entry = nullptr;
        for (const nlohmann::json& m : proof["modules"])
            if (m.is_object() && m.value("source_sha256", "") == attest::toHex(sourceHash)) entry = &m;
        if (!entry) {
            std::cout << "FAIL  " << path << ": no module of the proof has this source (sha256 "
                      << attest::toHex(sourceHash) << ")\n";
            allIn = false;
            continue;
        }
        attest::ModuleLeaf leaf;
        attest::InclusionProof inclusion;
        try {
            leaf.name = entry->at("name").get<std::string>();
            leaf.principal = entry->at("principal").get<std::string>();
            leaf.version = entry->at("version").get<std::int64_t>();
            leaf.root = entry->at("root").get<bool>();
            inclusion.index = entry->at("index").get<std::uint64_t>();
            for (const nlohmann::json& h : entry->at("path")) {
                auto v = h.is_string() ? attest::fromHex<32>(h.get<std::string>()) : std::nullopt;
                if (!v) throw UsageError{where + ": a path entry is not 64 hex digits"};
                inclusion.path.push_back(*v);
            }
        } catch (const nlohmann::json::exception& e) {
            throw UsageError{where + ": a module entry is malformed: " + e.what()};
        }
        leaf.sourceHash = sourceHash;
        inclusion.size = size;
        const ast::Header& h = module->header;
        if (h.name.text != leaf.name || h.principal != leaf.principal || h.version != leaf.version) {
            std::cout << "FAIL  " << path << ": the source declares `" << h.name.text << "` version " << h.version
                      << " by `" << h.principal << "`, the proof's leaf `" << leaf.name << "` version " << leaf.version
                      << " by `" << leaf.principal << "`\n";
            allIn = false;
            continue;
        }
        auto computed = attest::rootFromProof(attest::leafHash(leaf), inclusion);
        if (!computed || *computed != root) {
            std::cout << "FAIL  " << path << ": "
                      << (computed ? "the path leads to " + attest::toHex(*computed) + ", not the proof's root"
                                   : computed.error())
                      << '\n';
            allIn = false;
            continue;
        }
        std::cout << "ok    " << path << ": module `" << leaf.name << "` version " << leaf.version << " of `"
                  << leaf.principal << "` is leaf " << inclusion.index << " of " << size << " under root "
                  << attest::toHex(root) << '\n';
    }

    if (nonce_.empty())
        throw UsageError{"check-module needs --nonce: the binding is what ties the proof to the report"};
    Plan p = plan(report_, evidence_, chain_, trustArk_, noDebug_, maxVmpl_, minTcb_, at_);
    bindInputs(p, nonce_, logHead_, gpuEvidence_, measurement, root, "the proof");
    const attest::Verdict v = attest::verify(p.in.report, p.in.chain, p.options);
    printVerdict(v, p, "text");
    if (!allIn) std::cout << "rejected: a source is not in the proof\n";
    return v.accepted && allIn ? kOk : kRejected;
}

}  // namespace omega::omegac
