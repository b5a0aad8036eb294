// omegac: the Omega policy compiler driver. Parses arguments, runs the library stages, prints diagnostics and
// returns an exit code CI can rely on: 0 clean, 1 policy errors (or findings), 2 usage or I/O problems.
#include "omega/ast/Printer.h"
#include "omega/parse/Parser.h"
#include "omega/sema/Sema.h"
#include "omega/source/Diagnostic.h"

#include <CLI/CLI.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

using namespace omega;

enum Exit { kOk = 0, kErrors = 1, kUsage = 2 };

struct CommonOptions {
    std::string format = "human";
    std::string color = "auto";
    std::vector<std::string> includeDirs;
    bool noStdlib = false;
};

void addCommon(CLI::App& cmd, CommonOptions& o) {
    cmd.add_option("--format", o.format, "Diagnostic output: human or json")->check(CLI::IsMember({"human", "json"}));
    cmd.add_option("--color", o.color, "Colour human output: auto, always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    cmd.add_option("-I,--include", o.includeDirs, "Directory searched for imports (repeatable)");
    cmd.add_flag("--no-stdlib", o.noStdlib, "Do not search the bundled stdlib-policies directory for imports");
}

void printDiagnostics(const source::SourceManager& sm, const source::DiagnosticEngine& diags, const CommonOptions& o) {
    if (o.format == "json") {
        source::renderJson(std::cout, sm, diags);
        return;
    }
    auto sorted = diags.sorted();
    source::RenderOptions r;
    r.color = o.color == "always" || (o.color == "auto" && isatty(STDERR_FILENO));
    source::renderHuman(std::cerr, sm, sorted, r);
    if (diags.dropped() > 0) std::cerr << "omegac: " << diags.dropped() << " more diagnostics not shown\n";
    if (diags.errorCount() || diags.warningCount()) {
        std::cerr << diags.errorCount() << (diags.errorCount() == 1 ? " error" : " errors") << ", "
                  << diags.warningCount() << (diags.warningCount() == 1 ? " warning" : " warnings") << " generated\n";
    }
}

parse::LoadOptions loadOptions(const CommonOptions& o) {
    parse::LoadOptions l;
    l.includeDirs = o.includeDirs;
    if (!o.noStdlib) l.includeDirs.push_back(OMEGA_STDLIB_DIR);
    return l;
}

int runCheck(const std::vector<std::string>& files, const CommonOptions& o, bool werror, bool quiet) {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    auto loaded = parse::loadProgram(files, loadOptions(o), sm, diags);
    if (!diags.hasErrors()) sema::check(loaded.program.modules, loaded.program.isRoot, diags);
    printDiagnostics(sm, diags, o);
    if (loaded.ioError) return kUsage;
    if (diags.hasErrors() || (werror && diags.warningCount() > 0)) return kErrors;
    if (!quiet && o.format == "human") {
        std::size_t rules = 0, tests = 0;
        std::set<std::string> principals;
        for (const ast::Module& m : loaded.program.modules) {
            principals.insert(m.header.principal);
            for (const ast::Item& i : m.items) {
                rules += std::holds_alternative<ast::Rule>(i) || std::holds_alternative<ast::ObligationRule>(i);
                tests += std::holds_alternative<ast::TestBlock>(i);
            }
        }
        std::cout << "ok: " << loaded.program.modules.size()
                  << (loaded.program.modules.size() == 1 ? " module" : " modules") << ", " << principals.size()
                  << (principals.size() == 1 ? " principal" : " principals") << ", " << rules
                  << (rules == 1 ? " rule" : " rules") << ", " << tests << (tests == 1 ? " test" : " tests") << '\n';
    }
    return kOk;
}

bool writeAtomically(const std::string& path, const std::string& text, std::string& error) {
    std::string tmp = path + ".omegafmt.tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            error = "cannot create " + tmp;
            return false;
        }
        out << text;
        if (!out.flush()) {
            error = "cannot write " + tmp;
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        error = ec.message();
        std::filesystem::remove(tmp, ec);
        return false;
    }
    return true;
}

int runFmt(const std::vector<std::string>& files, const CommonOptions& o, bool check, bool write) {
    int status = kOk;
    for (const std::string& path : files) {
        source::SourceManager sm;
        source::DiagnosticEngine diags;
        source::Limits limits;
        std::string error;
        auto text = parse::readFile(path, limits.maxFileBytes, error);
        if (!text) {
            std::cerr << "omegac: error: cannot read `" << path << "`: " << error << '\n';
            status = kUsage;
            continue;
        }
        source::FileId id = sm.add(path, *text);
        auto module = parse::parseModule(sm, id, diags, limits);
        if (!module) {
            printDiagnostics(sm, diags, o);
            if (status == kOk) status = kErrors;
            continue;
        }
        std::string formatted = ast::format(*module);
        // Prove the layout kept meaning before anyone sees it: the reparsed text must give the same AST.
        source::SourceManager sm2;
        source::DiagnosticEngine diags2;
        auto again = parse::parseModule(sm2, sm2.add(path, formatted), diags2, limits);
        if (!again || ast::dump(*again) != ast::dump(*module)) {
            std::cerr << "omegac: internal error: formatting `" << path
                      << "` would change its meaning; the file was left as it is\n";
            status = kUsage;
            continue;
        }
        if (check) {
            if (formatted != *text) {
                std::cout << path << ": not formatted\n";
                if (status == kOk) status = kErrors;
            }
        } else if (write) {
            if (formatted != *text && !writeAtomically(path, formatted, error)) {
                std::cerr << "omegac: error: cannot write `" << path << "`: " << error << '\n';
                status = kUsage;
            }
        } else {
            std::cout << formatted;
        }
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"omegac: the Omega policy compiler"};
    app.set_version_flag("--version", std::string("omegac ") + OMEGA_VERSION);
    app.require_subcommand(1);
    app.fallthrough(false);

    CommonOptions common;
    std::vector<std::string> files;

    bool werror = false, quiet = false;
    CLI::App* check = app.add_subcommand("check", "Parse and check policy modules and everything they import");
    check->add_option("files", files, "Policy sources (.omega); checked together as one program")->required();
    check->add_flag("--werror", werror, "Treat warnings as errors");
    check->add_flag("-q,--quiet", quiet, "Print nothing when the policy is clean");
    addCommon(*check, common);
    check->footer("Exit status: 0 clean, 1 errors (or warnings with --werror), 2 usage or I/O problems.");

    bool fmtCheck = false, fmtWrite = false;
    CLI::App* fmt = app.add_subcommand("fmt", "Print policy sources in the canonical layout");
    fmt->add_option("files", files, "Policy sources (.omega)")->required();
    auto* checkFlag = fmt->add_flag("--check", fmtCheck, "Report files that are not formatted; change nothing");
    fmt->add_flag("-w,--write", fmtWrite, "Rewrite files in place")->excludes(checkFlag);
    addCommon(*fmt, common);
    fmt->footer("Exit status: 0 formatted, 1 unformatted (--check) or syntax errors, 2 usage or I/O problems.");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kUsage;
    }

    try {
        if (*check) return runCheck(files, common, werror, quiet);
        if (*fmt) return runFmt(files, common, fmtCheck, fmtWrite);
    } catch (const std::exception& e) {
        std::cerr << "omegac: internal error: " << e.what() << '\n';
        return kUsage;
    }
    return kUsage;
}
