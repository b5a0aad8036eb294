// Helpers shared by the unit tests.
#include "TestUtil.h"

namespace omega::test {

const char* kPrelude = R"(policy t version 1 by principal "tenant:test";
label Public < Internal < PII < PHI;
agent triage { owner "clinic"; role "nurse"; }
agent billing { owner "clinic"; }
tool ehr.read(patient_id: string, fields: set<string>) returns PHI;
tool web.search(query: string) sink;
tool bank.transfer(to: string, amount: int);
data records { path "/ehr/**"; label PHI; region "eu"; purpose {"treatment"}; }
)";

std::vector<std::string> Checked::codes() const {
    std::vector<std::string> out;
    for (const auto& d : diags.sorted()) out.push_back(d.code);
    return out;
}

std::string Checked::first() const {
    auto all = diags.sorted();
    if (all.empty()) return "";
    const auto& d = all.front();
    return std::to_string(d.span.begin.line) + ":" + std::to_string(d.span.begin.col) + " " + d.code + " " + d.message;
}

std::optional<ast::Module> parseText(const std::string& text, source::SourceManager& sm,
                                     source::DiagnosticEngine& diags) {
    auto id = sm.add("test.omega", text);
    return parse::parseModule(sm, id, diags);
}

std::unique_ptr<Checked> check(const std::vector<std::string>& texts) {
    auto c = std::make_unique<Checked>();
    gen::checkInto(*c, texts);
    return c;
}

}  // namespace omega::test
