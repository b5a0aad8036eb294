// libFuzzer target for the untrusted-input path of the front end: any bytes go through parsing and checking
// without crashing, hanging or tripping a sanitizer; whatever parses must also format to text that parses back to
// the same AST (the `omegac fmt` guarantee).
#include "omega/ast/Printer.h"
#include "omega/parse/Parser.h"
#include "omega/sema/Sema.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace omega;
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto module =
        parse::parseModule(sm, sm.add("fuzz.omega", std::string(reinterpret_cast<const char*>(data), size)), diags);
    if (!module) {
        if (!diags.hasErrors()) std::abort();  // a failed parse must always say why
        return 0;
    }
    std::string formatted = ast::format(*module);
    source::SourceManager sm2;
    source::DiagnosticEngine diags2;
    auto again = parse::parseModule(sm2, sm2.add("fmt.omega", formatted), diags2);
    if (!again || ast::dump(*again) != ast::dump(*module)) std::abort();
    if (ast::format(*again) != formatted) std::abort();  // idempotent
    std::vector<ast::Module> modules;
    modules.push_back(std::move(*module));
    sema::check(modules, {true}, diags);
    return 0;
}
