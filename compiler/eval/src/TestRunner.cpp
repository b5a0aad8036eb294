// Test blocks to requests, decisions compared with expectations, and which rules the tests exercised.
#include "omega/eval/TestRunner.h"

#include "omega/eval/Runtime.h"

namespace omega::eval {

using namespace omega::ast;

std::size_t TestReport::passed() const {
    std::size_t n = 0;
    for (const TestResult& r : results) n += r.passed;
    return n;
}

Request requestOf(const Evaluator& ev, const TestBlock& test) {
    Request r;
    for (const TestStmt& s : test.stmts) {
        if (const auto* q = std::get_if<TestRequest>(&s)) {
            r.action = q->body.action;
            if (q->body.target) r.target = q->body.target->text();
            if (q->body.subject && !q->body.subject->names.empty()) r.agent = q->body.subject->names[0].text;
            if (q->body.recipient && !q->body.recipient->names.empty()) r.recipient = q->body.recipient->names[0].text;
            for (const TestArg& a : q->args)
                if (auto v = ev.literal(*a.value)) r.args[a.name.text] = *v;
        } else if (const auto* a = std::get_if<TestAssign>(&s)) {
            std::string key = a->path[0].text + "." + a->path[1].text;
            auto v = ev.literal(*a->value);
            if (!v) continue;
            if (key == "session.taint" && v->kind == Value::Kind::Label)
                v = Value{Value::Kind::LabelSet, 0, {}, {v->text}};
            if (v->kind == Value::Kind::StringSet && v->items.empty() && key == "session.taint")
                v->kind = Value::Kind::LabelSet;
            r.fields[key] = *v;
        }
    }
    return r;
}

namespace {

Obligations expected(const TestExpect& e) {
    Obligations o;
    for (const Obligation& ob : e.obligations) {
        if (ob.name.text == "audit") o.audit = true;
        for (const auto& a : ob.args) (ob.name.text == "redact" ? o.redact : o.approve).insert(a->text);
    }
    return o;
}

std::string describe(const Obligations& o) {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (o.audit) add("audit");
    if (!o.redact.empty()) {
        std::string fields;
        for (const auto& f : o.redact) fields += (fields.empty() ? "\"" : ", \"") + f + "\"";
        add("redact(" + fields + ")");
    }
    for (const auto& role : o.approve) add("approve(\"" + role + "\")");
    return out.empty() ? "none" : out;
}

}  // namespace

TestReport runTests(const Evaluator& ev, const std::vector<Module>& modules, const std::vector<bool>& isRoot,
                    const source::SourceManager& sm, const policy::Engine* bytecode) {
    TestReport report;
    for (std::size_t m = 0; m < modules.size(); ++m) {
        if (!isRoot[m]) continue;
        for (const Item& item : modules[m].items) {
            const auto* test = std::get_if<TestBlock>(&item);
            if (!test) continue;
            const TestExpect* expect = nullptr;
            for (const TestStmt& s : test->stmts)
                if (const auto* e = std::get_if<TestExpect>(&s)) expect = e;
            TestResult result;
            result.test = test;
            result.file = sm.file(modules[m].file).path;
            const Request request = requestOf(ev, *test);
            result.decision = ev.decide(request);
            const Decision& d = result.decision;
            std::string disagreement;
            if (bytecode) {
                const policy::Decision b = bytecode->decide(toPolicy(request));
                disagreement = compareDecisions(d, b, bytecode->image());
                while (!disagreement.empty() && disagreement.back() == '\n') disagreement.pop_back();
            }
            for (const RuleInfo* r : d.rules) report.covered.insert(r->id);
            result.passed = expect && d.allow == expect->allow;
            if (!result.passed) {
                result.failure = std::string("expected ") + (expect && expect->allow ? "allow" : "deny") + ", got " +
                                 (d.allow ? "allow" : "deny") + ": " + d.reason;
            } else if (!expect->obligations.empty() && d.obligations != expected(*expect)) {
                result.passed = false;
                result.failure =
                    "expected obligations " + describe(expected(*expect)) + ", got " + describe(d.obligations);
            }
            if (!disagreement.empty()) {
                result.passed = false;
                result.failure = "the bytecode decides differently from the reference evaluator: " + disagreement;
            }
            report.results.push_back(std::move(result));
        }
    }
    return report;
}

}  // namespace omega::eval
