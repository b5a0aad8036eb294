// SARIF 2.1.0 output for `omegac lint` (docs/ci.md): rules from the finding codes, one result per finding with its
// locations, a stable fingerprint and the witness request as a JSON object.
#include "Sarif.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

namespace omega::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// What a finding code means (docs/analysis.md 2). `proof` results record a check that passed: SARIF kind `pass`,
// whose level must be `none`; their rule's default level stays `note`, the lowest that code-scanning UIs accept.
struct RuleMeta {
    const char* code;
    const char* name;
    const char* shortText;
    const char* fullText;
    const char* level;
    bool proof = false;
};

constexpr RuleMeta kRules[] = {
    {"A0101", "PermitForbidConflict", "A permit and a forbid both match some request",
     "A permit rule and a forbid rule both match at least one request, and the forbid decides it. The result's "
     "witness (properties.witness) is such a request; `omegac eval` over the sources or the bundle confirms it.",
     "warning"},
    {"A0102", "ShadowedPermit", "A permit never takes effect",
     "Every request the permit matches is also matched by a forbid, so the permit never allows anything. This is a "
     "proof over every request: there is no witness.",
     "warning"},
    {"A0103", "DeadRule", "A rule matches no request",
     "No request satisfies the rule's target, subject and condition together, so the rule never applies. This is a "
     "proof over every request: there is no witness.",
     "warning"},
    {"A0104", "RedundantPermit", "A permit is implied by other permits",
     "Other permits of the same principal, each carrying at least this permit's obligations, match every request it "
     "matches, so removing it changes no decision. This is a proof over every request: there is no witness.",
     "warning"},
    {"A0105", "ObligationsDisagree", "Rules require approval by different roles for one request",
     "Two rules that both apply to one allowed request require `approve` by different roles, so the request waits "
     "for every one of them. The witness is such a request.",
     "warning"},
    {"A0106", "PermitCappedByRateLimit", "A rate-limit forbid caps a permit",
     "A forbid with a rate limit matches requests the permit allows once its counter reaches the limit. Usually "
     "intended; the witness shows the counter at the limit.",
     "note"},
    {"A0301", "PackForbids", "The policy allows what a compliance pack forbids",
     "A permit of the policy allows a request that a forbid of the compliance pack given with --against denies. "
     "The witness is such a request: the policy alone allows it, the policy with the pack denies it by that forbid.",
     "error"},
    {"A0201", "AssertionFails", "An assertion has a counterexample",
     "A request that the assertion is about is decided the way the assertion excludes. The witness is that request.",
     "error"},
    {"A0202", "AssertionHolds", "An assertion is proved",
     "The assertion holds for every request and state. Reported as a passing result (kind `pass`, level `none`).",
     "note", true},
};

const RuleMeta* metaOf(const std::string& code) {
    for (const RuleMeta& m : kRules)
        if (code == m.code) return &m;
    return nullptr;
}

const char* levelOf(analysis::Severity s) {
    switch (s) {
        case analysis::Severity::Note: return "note";
        case analysis::Severity::Warning: return "warning";
        case analysis::Severity::Error: return "error";
    }
    return "warning";
}

// Percent-encodes everything but unreserved characters and `/` (RFC 3986), byte by byte.
std::string encodeUriPath(const std::string& path) {
    std::string out;
    for (unsigned char c : path) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '.' || c == '_' || c == '~' || c == '/';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

fs::path withoutTrailingSeparator(fs::path p) {
    if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
    return p;
}

// `p` relative to `root` when it lies under it, else empty.
fs::path underRoot(const fs::path& p, const fs::path& root) {
    fs::path rel = p.lexically_relative(root);
    if (rel.empty() || rel == "." || *rel.begin() == "..") return {};
    return rel;
}

class Artifacts {
public:
    explicit Artifacts(const fs::path& srcRoot) {
        std::error_code ec;
        root_ = withoutTrailingSeparator(fs::absolute(srcRoot, ec).lexically_normal());
        canonicalRoot_ = fs::weakly_canonical(root_, ec);
        if (ec) canonicalRoot_ = root_;
    }

    std::string rootUri() const { return "file://" + encodeUriPath(root_.generic_string()) + "/"; }

    // {"uri": ..., "uriBaseId": "%SRCROOT%"} for a file under the root, else an absolute file:// URI.
    json location(const std::string& path) const {
        std::error_code ec;
        const fs::path abs = fs::absolute(path, ec).lexically_normal();
        fs::path rel = underRoot(abs, root_);
        if (rel.empty()) {
            // The path may reach the root through a symbolic link.
            const fs::path canonical = fs::weakly_canonical(abs, ec);
            if (!ec) rel = underRoot(canonical, canonicalRoot_);
        }
        if (!rel.empty()) return {{"uri", encodeUriPath(rel.generic_string())}, {"uriBaseId", "%SRCROOT%"}};
        return {{"uri", "file://" + encodeUriPath(abs.generic_string())}};
    }

private:
    fs::path root_;
    fs::path canonicalRoot_;
};

json physicalLocation(const source::Span& span, const source::SourceManager& sm, const Artifacts& artifacts) {
    json region = {{"startLine", span.begin.line}, {"startColumn", span.begin.col}};
    if (span.end.line >= span.begin.line && span.end.line > 0) {
        region["endLine"] = span.end.line;
        region["endColumn"] = span.end.col;
    }
    return {{"artifactLocation", artifacts.location(sm.file(span.file).path)}, {"region", std::move(region)}};
}

bool hasLocation(const source::Span& span, const source::SourceManager& sm) {
    return span.valid() && span.file < sm.size() && span.begin.line > 0 && span.begin.col > 0;
}

// FNV-1a, 64 bits: the same on every platform and run, so code-scanning UIs can match a finding across runs.
std::string fingerprint(const std::string& text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace

std::string toSarif(const std::vector<analysis::Finding>& findings, const source::SourceManager& sm,
                    const std::string& toolVersion, const fs::path& srcRoot) {
    const Artifacts artifacts(srcRoot);

    // One reportingDescriptor per code used, in code order; results point at them by index.
    std::map<std::string, std::size_t> ruleIndex;
    for (const analysis::Finding& f : findings) ruleIndex.emplace(f.code, 0);
    json rules = json::array();
    for (auto& [code, index] : ruleIndex) {
        index = rules.size();
        const RuleMeta* m = metaOf(code);
        std::string level = m ? m->level : "warning";
        if (!m)
            for (const analysis::Finding& f : findings)
                if (f.code == code) level = levelOf(f.severity);
        rules.push_back({
            {"id", code},
            {"name", m ? m->name : code},
            {"shortDescription", {{"text", m ? m->shortText : "omegac lint finding " + code}}},
            {"fullDescription", {{"text", m ? m->fullText : "See docs/analysis.md, section 2."}}},
            {"defaultConfiguration", {{"level", level}}},
        });
    }

    json results = json::array();
    for (const analysis::Finding& f : findings) {
        const RuleMeta* m = metaOf(f.code);
        json result = {{"ruleId", f.code}, {"ruleIndex", ruleIndex.at(f.code)}};
        if (m && m->proof && !f.unknown) {
            result["kind"] = "pass";
            result["level"] = "none";
        } else {
            result["level"] = f.unknown ? "note" : levelOf(f.severity);
        }
        std::string text = f.message;
        if (!f.witness.empty()) text += "\nfor example: " + f.witness;
        result["message"] = {{"text", text}};

        // The primary location is where the finding is reported; every other rule involved is a related location.
        json locations = json::array();
        if (hasLocation(f.span, sm))
            locations.push_back({{"physicalLocation", physicalLocation(f.span, sm, artifacts)}});
        result["locations"] = std::move(locations);
        json related = json::array();
        for (const eval::RuleInfo* rule : f.rules) {
            const eval::RuleInfo& r = *rule;
            const bool primary = r.span.file == f.span.file && r.span.begin == f.span.begin;
            if (primary || !hasLocation(r.span, sm)) continue;
            related.push_back({{"id", related.size()},
                               {"physicalLocation", physicalLocation(r.span, sm, artifacts)},
                               {"message", {{"text", r.id + " (" + r.principal + ") is here"}}}});
        }
        if (!related.empty()) result["relatedLocations"] = std::move(related);

        // The code and the rule ids (module:line; an assertion: its file and line): the same on every run while the
        // rules stay where they are.
        std::string key = f.code;
        for (const eval::RuleInfo* r : f.rules) key += '\n' + r->id;
        if (f.rules.empty() && hasLocation(f.span, sm))
            key += '\n' + artifacts.location(sm.file(f.span.file).path)["uri"].get<std::string>() + ':' +
                   std::to_string(f.span.begin.line);
        result["partialFingerprints"] = {{"omegaFinding/v1", fingerprint(key)}};

        json properties = {{"status", f.unknown ? "unknown" : "found"}};
        if (!f.witness.empty()) {
            // INVARIANT: the analyser writes the witness as one JSON object; anything else is kept as text.
            json witness = json::parse(f.witness, nullptr, /*allow_exceptions=*/false);
            properties["witness"] = witness.is_object() ? std::move(witness) : json(f.witness);
        }
        json ruleIds = json::array(), principals = json::array();
        std::set<std::string> seen;
        for (const eval::RuleInfo* r : f.rules) {
            ruleIds.push_back(r->id);
            if (seen.insert(r->principal).second) principals.push_back(r->principal);
        }
        properties["rules"] = std::move(ruleIds);
        properties["principals"] = std::move(principals);
        result["properties"] = std::move(properties);
        results.push_back(std::move(result));
    }

    json driver = {{"name", "omegac"},
                   {"fullName", "omegac lint (the Omega policy analyser)"},
                   {"version", toolVersion},
                   {"semanticVersion", toolVersion},
                   {"rules", std::move(rules)}};
    json run = {{"tool", {{"driver", std::move(driver)}}},
                {"originalUriBaseIds", {{"%SRCROOT%", {{"uri", artifacts.rootUri()}}}}},
                {"columnKind", "unicodeCodePoints"},
                {"results", std::move(results)}};
    json log = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                {"version", "2.1.0"},
                {"runs", json::array({std::move(run)})}};
    // Paths and messages are bytes; invalid UTF-8 becomes U+FFFD instead of failing.
    return log.dump(2, ' ', false, json::error_handler_t::replace) + '\n';
}

}  // namespace omega::tools
