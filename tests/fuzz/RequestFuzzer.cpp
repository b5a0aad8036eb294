// libFuzzer target for request decoding: any bytes as a JSON request against a fixed multi-principal policy must be
// decoded or refused with a message, and a decoded request must be decided, never crash.
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/parse/Parser.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

const char* kPolicy = R"(policy fuzz version 1 by principal "tenant";
label Public < Internal < PII < PHI;
attribute role: string;
agent a { owner "o"; role "nurse"; }
agent b {}
tool ehr.read(id: string, fields: set<string>, n: int, big: size, wait: duration, l: label, ok: bool) returns PHI;
data charts { path "/c/**"; label PHI; purpose {"treatment"}; }
kernels k { module sha256:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; name "g*"; }
permit tool ehr.read when args.fields <= {"a", "b"} and args.n < 10 and args.id like "p-[0-9]*" limit 3 per minute;
forbid tool * when session.taint >= PHI or agent.role == "intern";
require audit for read charts when request.purpose in data.purpose;
permit read charts by agent a;
permit send from agent a to agent b when message.label <= PII;
permit gpu.launch when kernel in k;
permit gpu.alloc when gpu.bytes_total <= 40 GiB;
permit net.connect when net.host startswith "api." and net.port == 443;
)";

struct Loaded {
    omega::source::SourceManager sm;
    omega::source::DiagnosticEngine diags;
    std::vector<omega::ast::Module> modules;
    omega::sema::Model model;
    std::unique_ptr<omega::eval::Evaluator> ev;
};

Loaded* load() {
    auto* l = new Loaded;
    auto m = omega::parse::parseModule(l->sm, l->sm.add("fuzz.omega", kPolicy), l->diags);
    if (!m) std::abort();
    l->modules.push_back(std::move(*m));
    l->model = omega::sema::check(l->modules, {true}, l->diags);
    if (l->diags.hasErrors()) std::abort();
    l->ev = std::make_unique<omega::eval::Evaluator>(l->modules, l->model);
    return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Loaded* policy = load();
    omega::eval::State state;
    std::string error;
    auto request = omega::eval::requestFromJson(std::string(reinterpret_cast<const char*>(data), size), policy->model,
                                                state, error);
    if (!request) {
        if (error.empty()) std::abort();  // a refusal must say why
        return 0;
    }
    auto d = policy->ev->decide(*request, state);
    if (d.allow && d.rules.empty()) std::abort();  // an allow always names its permits
    return 0;
}
