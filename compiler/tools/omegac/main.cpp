// omegac: the Omega policy compiler driver. Parses arguments, runs the library stages, prints diagnostics and
// returns an exit code CI can rely on: 0 clean, 1 policy errors (or findings), 2 usage or I/O problems.
#include "omega/analysis/Analysis.h"
#include "omega/analysis/Diff.h"
#include "omega/ast/Printer.h"
#include "omega/bundle/Signing.h"
#include "omega/codegen/CodeGen.h"
#include "omega/eval/Evaluator.h"
#include "omega/eval/Json.h"
#include "omega/eval/TestRunner.h"
#include "omega/isa/Disassembler.h"
#include "omega/isa/Instruction.h"
#include "omega/log/Log.h"
#include "omega/parse/Parser.h"
#include "omega/policy/Json.h"
#include "omega/policy/Load.h"
#include "omega/policy/Serialize.h"
#include "omega/sema/Sema.h"
#include "omega/source/Diagnostic.h"

#include "Attest.h"
#include "Sarif.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace {

using namespace omega;

enum Exit { kOk = 0, kErrors = 1, kUsage = 2 };

struct CommonOptions {
    std::string format = "human";
    std::string color = "auto";
    std::vector<std::string> includeDirs;
    bool noStdlib = false;
};

// `sarif` is for commands whose output is findings (lint), not only diagnostics.
void addCommon(CLI::App& cmd, CommonOptions& o, bool sarif = false) {
    if (sarif)
        cmd.add_option("--format", o.format, "Output: human, json or sarif (SARIF 2.1.0, docs/ci.md)")
            ->check(CLI::IsMember({"human", "json", "sarif"}));
    else
        cmd.add_option("--format", o.format, "Diagnostic output: human or json")
            ->check(CLI::IsMember({"human", "json"}));
    cmd.add_option("--color", o.color, "Colour human output: auto, always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    // Repeatable options take one value per occurrence, so `-I DIR FILE...` leaves the files to the command.
    cmd.add_option("-I,--include", o.includeDirs, "Directory searched for imports (repeatable)")
        ->allow_extra_args(false);
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

// A loaded and checked program, for the commands that go on to evaluate it.
struct Checked {
    source::SourceManager sm;
    source::DiagnosticEngine diags;
    parse::LoadResult loaded;
    sema::Model model;
    int status = kOk;  // kOk when the program is usable
};

std::unique_ptr<Checked> loadChecked(const std::vector<std::string>& files, const CommonOptions& o) {
    auto c = std::make_unique<Checked>();
    c->loaded = parse::loadProgram(files, loadOptions(o), c->sm, c->diags);
    if (!c->diags.hasErrors()) c->model = sema::check(c->loaded.program.modules, c->loaded.program.isRoot, c->diags);
    if (c->diags.hasErrors() || c->loaded.ioError) {
        // Only errors are worth a reader's attention when nothing can run.
        printDiagnostics(c->sm, c->diags, o);
        c->status = c->loaded.ioError ? kUsage : kErrors;
    }
    return c;
}

std::optional<std::string> readInput(const std::string& path, std::string& error) {
    if (path == "-") {
        std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return text;
    }
    return parse::readFile(path, 64u << 20, error);
}

bool writeAtomically(const std::string& path, const std::string& text, std::string& error);

// The requests of a document: one JSON object, or one per non-empty line.
std::vector<std::string> splitRequests(const std::string& text) {
    std::vector<std::string> requests;
    std::string trimmed = text;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
    if (trimmed.find('\n') == std::string::npos) {
        requests.push_back(trimmed);
    } else {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);)
            if (line.find_first_not_of(" \t\r") != std::string::npos) requests.push_back(line);
    }
    return requests;
}

std::optional<std::vector<std::uint8_t>> readBytes(const std::string& path, std::string& error) {
    auto text = readInput(path, error);
    if (!text) return std::nullopt;
    return std::vector<std::uint8_t>(text->begin(), text->end());
}

// Compiles a checked program to a verified image; prints the reason and returns nothing when it cannot.
std::optional<policy::Image> compileImage(const Checked& c) {
    policy::Image image;
    std::string error;
    codegen::Options options;
    options.compilerVersion = std::string("omegac ") + OMEGA_VERSION;
    if (!codegen::generate(c.loaded.program.modules, c.model, c.sm, options, image, error)) {
        std::cerr << "omegac: error: " << error << '\n';
        return std::nullopt;
    }
    if (auto invalid = policy::validate(image)) {
        std::cerr << "omegac: internal error: the image is invalid: " << invalid->message << '\n';
        return std::nullopt;
    }
    return image;
}

std::optional<std::vector<bundle::PublicKey>> loadTrusted(const std::vector<std::string>& paths) {
    std::vector<bundle::PublicKey> keys;
    for (const std::string& path : paths) {
        std::string error;
        auto pem = parse::readFile(path, 1u << 20, error);
        if (!pem) {
            std::cerr << "omegac: error: cannot read `" << path << "`: " << error << '\n';
            return std::nullopt;
        }
        auto key = bundle::loadPublicKey(*pem);
        if (!key) {
            std::cerr << "omegac: error: `" << path << "`: " << key.error() << '\n';
            return std::nullopt;
        }
        keys.push_back(*key);
    }
    return keys;
}

// Reads, checks and loads a bundle; prints the reason and returns nothing when it is rejected.
std::optional<policy::Loaded> loadBundle(const std::string& path, const std::vector<std::string>& trustPaths) {
    std::string error;
    auto bytes = readBytes(path, error);
    if (!bytes) {
        std::cerr << "omegac: error: cannot read `" << path << "`: " << error << '\n';
        return std::nullopt;
    }
    policy::LoadOptions options;
    auto trusted = loadTrusted(trustPaths);
    if (!trusted) return std::nullopt;
    options.trusted = std::move(*trusted);
    auto loaded = policy::load(*bytes, options);
    if (!loaded) {
        std::cerr << "omegac: error: `" << path << "` is rejected: " << loaded.error() << '\n';
        return std::nullopt;
    }
    return std::move(loaded).value();
}

int runCompile(const std::vector<std::string>& files, const CommonOptions& o, const std::string& output,
               const std::vector<std::string>& keys, bool quiet) {
    auto c = loadChecked(files, o);
    if (c->status != kOk) return c->status;
    auto image = compileImage(*c);
    if (!image) return kErrors;
    const std::size_t rules = image->rules.size(), slots = image->code.size();
    const policy::CostBound bound = image->bound;
    auto encoded = bundle::encode(policy::toSections(*image));
    if (!encoded) {
        std::cerr << "omegac: internal error: " << encoded.error() << '\n';
        return kUsage;
    }
    std::vector<std::uint8_t> bytes = std::move(encoded).value();
    for (const std::string& keyPath : keys) {
        std::string error;
        auto pem = parse::readFile(keyPath, 1u << 20, error);
        if (!pem) {
            std::cerr << "omegac: error: cannot read `" << keyPath << "`: " << error << '\n';
            return kUsage;
        }
        auto signedBytes = bundle::sign(bytes, *pem);
        if (!signedBytes) {
            std::cerr << "omegac: error: cannot sign with `" << keyPath << "`: " << signedBytes.error() << '\n';
            return kUsage;
        }
        bytes = std::move(signedBytes).value();
    }
    // What is written is what a monitor loads: check it the way the monitor will before it leaves the compiler.
    auto loaded = policy::load(bytes, {});
    if (!loaded) {
        std::cerr << "omegac: internal error: the bundle does not load: " << loaded.error() << '\n';
        return kUsage;
    }
    std::string error;
    if (!writeAtomically(output, std::string(bytes.begin(), bytes.end()), error)) {
        std::cerr << "omegac: error: cannot write `" << output << "`: " << error << '\n';
        return kUsage;
    }
    if (!quiet) {
        std::cout << "compiled " << rules << (rules == 1 ? " rule" : " rules") << " into " << slots
                  << " instruction slots; worst case " << bound.instructions << " instructions, cost " << bound.cost
                  << "\nwrote " << output << ": " << bytes.size() << " bytes, " << keys.size()
                  << (keys.size() == 1 ? " signature" : " signatures")
                  << "\nmeasurement sha384:" << loaded->measurement.hex() << '\n';
    }
    return kOk;
}

int runHash(const std::string& path) {
    std::string error;
    auto bytes = readBytes(path, error);
    if (!bytes) {
        std::cerr << "omegac: error: cannot read `" << path << "`: " << error << '\n';
        return kUsage;
    }
    auto decoded = bundle::decode(*bytes);
    if (!decoded) {
        std::cerr << "omegac: error: `" << path << "` is not a valid bundle: " << decoded.error() << '\n';
        return kErrors;
    }
    std::cout << "sha384:" << bundle::measure(*decoded).hex() << '\n';
    return kOk;
}

// The listing of a bundle's program, each `match` call named by its rule, each section's start marked.
int runDisasm(const std::string& path) {
    auto loaded = loadBundle(path, {});
    if (!loaded) return kErrors;
    const policy::Image& image = loaded->engine.image();
    std::cout << "; bundle " << path << "\n; measurement sha384:" << loaded->measurement.hex() << "\n; compiler "
              << image.compilerVersion << "\n; " << image.rules.size() << " rules, " << image.code.size()
              << " slots, worst case " << image.bound.instructions << " instructions (cost " << image.bound.cost
              << "), context " << image.layout().words() << " words\n";
    auto lines = isa::listing(image.code);
    // r1 and r3 constants as the code generator sets them just before a call.
    std::int64_t r1 = -1;  // -1: not a known constant
    static const char* const kHelperNames[] = {"",       "match",    "set_has", "set_cmp",   "glob",
                                               "prefix", "label_le", "taint",   "rate_count"};
    for (auto& line : lines) {
        if (!line.valid) continue;
        auto insn = isa::unmarshalAt(image.code, line.pc);
        if (!insn) continue;
        if (const auto* alu = std::get_if<isa::Alu>(&insn.value());
            alu && alu->op == isa::AluOp::Mov && alu->dst.index == 1) {
            const auto* imm = std::get_if<isa::Imm>(&alu->src);
            r1 = imm ? imm->value : -1;
        } else if (const auto* call = std::get_if<isa::Call>(&insn.value())) {
            if (call->helper == 1 && r1 >= 0 && static_cast<std::size_t>(r1) < image.rules.size()) {
                const policy::Rule& rule = image.rules[static_cast<std::size_t>(r1)];
                static const char* const kinds[] = {"permit", "forbid", "obligation"};
                line.comment = "match " + image.strings[rule.id] + " (" + kinds[static_cast<int>(rule.kind)] + ", " +
                               image.strings[rule.principal] + ")";
            } else if (call->helper >= 1 && call->helper <= 8) {
                line.comment = kHelperNames[call->helper];
            }
            r1 = -1;
        } else if (const auto* ld = std::get_if<isa::Load>(&insn.value()); ld && ld->dst.index == 1) {
            r1 = -1;
        }
    }
    std::cout << isa::formatListing(lines);
    return kOk;
}

// Decides each request of a JSON document, or of a stream of JSON lines, with the reference evaluator.
int runEval(const std::vector<std::string>& files, const CommonOptions& o, const std::string& requestPath) {
    auto c = loadChecked(files, o);
    if (c->status != kOk) return c->status;
    std::string error;
    auto text = readInput(requestPath, error);
    if (!text) {
        std::cerr << "omegac: error: cannot read `" << requestPath << "`: " << error << '\n';
        return kUsage;
    }
    eval::Evaluator ev(c->loaded.program.modules, c->model);
    int status = kOk;
    for (const std::string& r : splitRequests(*text)) {
        eval::State state;
        std::string why;
        auto request = eval::requestFromJson(r, c->model, state, why);
        if (!request) {
            // Fail closed: a request that cannot be decoded is denied, and the run reports it.
            std::cout << eval::errorDecisionJson(why) << '\n';
            status = kErrors;
            continue;
        }
        std::cout << eval::decisionToJson(ev.decide(*request, state)) << '\n';
    }
    return status;
}

// Decides requests with a compiled bundle: the runtime's decoder, interner, bytecode and combiner.
int runEvalBundle(const std::string& bundlePath, const std::vector<std::string>& trust,
                  const std::string& requestPath) {
    auto loaded = loadBundle(bundlePath, trust);
    if (!loaded) return kErrors;
    std::string error;
    auto text = readInput(requestPath, error);
    if (!text) {
        std::cerr << "omegac: error: cannot read `" << requestPath << "`: " << error << '\n';
        return kUsage;
    }
    const policy::Engine& engine = loaded->engine;
    policy::Interned interned;
    policy::Scratch scratch;
    policy::Decision decision;
    policy::Request request;
    int status = kOk;
    for (const std::string& r : splitRequests(*text)) {
        std::string why;
        if (!policy::decodeRequest(r, engine.image(), request, why) || !engine.intern(request, interned, why)) {
            std::cout << policy::errorDecisionJson(why) << '\n';
            status = kErrors;
            continue;
        }
        engine.decide(interned, scratch, decision);
        std::cout << policy::decisionToJson(decision, engine.image()) << '\n';
    }
    return status;
}

// Runs the test blocks of the root modules against the compiled program (cross-checked with the reference
// evaluator) and reports each, rule coverage, and a summary line.
int runTest(const std::vector<std::string>& files, const CommonOptions& o, bool verbose,
            const std::string& bundlePath) {
    auto c = loadChecked(files, o);
    if (c->status != kOk) return c->status;
    eval::Evaluator ev(c->loaded.program.modules, c->model);
    std::optional<policy::Engine> engine;
    if (!bundlePath.empty()) {
        auto loaded = loadBundle(bundlePath, {});
        if (!loaded) return kErrors;
        engine.emplace(std::move(loaded->engine));
    } else {
        auto image = compileImage(*c);
        if (!image) return kErrors;
        auto made = policy::Engine::make(std::move(*image));
        if (!made) {
            std::cerr << "omegac: internal error: " << made.error() << '\n';
            return kUsage;
        }
        engine.emplace(std::move(made).value());
    }
    eval::TestReport report = eval::runTests(ev, c->loaded.program.modules, c->loaded.program.isRoot, c->sm, &*engine);
    for (const eval::TestResult& r : report.results) {
        if (r.passed && !verbose) continue;
        std::cout << (r.passed ? "PASS " : "FAIL ") << r.file << ':' << r.test->span.begin.line << ": \""
                  << r.test->name << "\"\n";
        if (!r.passed) std::cout << "    " << r.failure << '\n';
    }
    // Coverage: rules of root modules that decided at least one test.
    std::size_t total = 0;
    std::vector<std::string> never;
    for (const eval::RuleInfo& rule : ev.rules()) {
        bool root = false;
        for (std::size_t m = 0; m < c->loaded.program.modules.size(); ++m)
            if (c->loaded.program.isRoot[m] && c->loaded.program.modules[m].header.name.text == rule.module)
                root = true;
        if (!root || rule.kind == eval::RuleInfo::Kind::Obligation) continue;
        ++total;
        if (!report.covered.count(rule.id)) never.push_back(rule.id);
    }
    std::size_t covered = total - never.size();
    std::cout << "coverage: " << covered << " of " << total << " rules decided at least one test";
    if (total) std::cout << " (" << (100 * covered / total) << "%)";
    std::cout << '\n';
    if (verbose && !never.empty()) {
        std::cout << "never deciding:";
        for (const std::string& id : never) std::cout << ' ' << id;
        std::cout << '\n';
    }
    std::cout << report.passed() << " passed, " << report.failed() << " failed\n";
    return report.failed() == 0 ? kOk : kErrors;
}

// A rule as JSON: id, principal and where it is.
std::string ruleJson(const eval::RuleInfo& r, const source::SourceManager& sm) {
    return "{\"id\":" + ast::quoteString(r.id) + ",\"principal\":" + ast::quoteString(r.principal) +
           ",\"file\":" + ast::quoteString(sm.file(r.span.file).path) +
           ",\"line\":" + std::to_string(r.span.begin.line) + ",\"column\":" + std::to_string(r.span.begin.col) + "}";
}

std::string rulesJson(const std::vector<const eval::RuleInfo*>& rules, const source::SourceManager& sm) {
    std::string out = "[";
    for (std::size_t k = 0; k < rules.size(); ++k) out += std::string(k ? "," : "") + ruleJson(*rules[k], sm);
    return out + "]";
}

// The policy sources of a program given as one path: a file, or every `.omega` file directly in a directory
// (in name order; `skipTests` leaves out `*_test.omega`, the packs' test modules).
std::optional<std::vector<std::string>> programFiles(const std::string& path, bool skipTests) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) return std::vector<std::string>{path};
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        const std::string name = entry.path().filename().string();
        const bool test = name.size() > 11 && name.compare(name.size() - 11, 11, "_test.omega") == 0;
        if (entry.path().extension() == ".omega" && !(skipTests && test)) files.push_back(entry.path().string());
    }
    if (ec) {
        std::cerr << "omegac: error: cannot read directory `" << path << "`: " << ec.message() << '\n';
        return std::nullopt;
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::cerr << "omegac: error: no .omega files in `" << path << "`\n";
        return std::nullopt;
    }
    return files;
}

// A compliance pack named on the command line: a path, or a pack directory of the bundled stdlib-policies.
std::optional<std::vector<std::string>> packFiles(const std::string& pack, const CommonOptions& o) {
    std::error_code ec;
    std::string path = pack;
    if (!std::filesystem::exists(path, ec) && !o.noStdlib) {
        const std::string bundled = std::string(OMEGA_STDLIB_DIR) + "/" + pack;
        if (std::filesystem::exists(bundled, ec)) path = bundled;
    }
    if (!std::filesystem::exists(path, ec)) {
        std::cerr << "omegac: error: no compliance pack `" << pack << "` (a file, a directory, or a directory of "
                  << OMEGA_STDLIB_DIR << ")\n";
        return std::nullopt;
    }
    return programFiles(path, /*skipTests=*/true);
}

// The policy with the packs added as roots, loaded into the policy's own SourceManager so that every finding's
// location resolves in one place. Returns the combined evaluator's inputs, or nothing (after printing why).
struct Combined {
    parse::LoadResult loaded;
    sema::Model model;
    std::set<std::string> packModules;  // modules the packs brought in that the policy does not have
};

std::unique_ptr<Combined> loadCombined(Checked& c, std::vector<std::string> files,
                                       const std::vector<std::string>& packs, const CommonOptions& o, int& status) {
    for (const std::string& pack : packs) {
        auto more = packFiles(pack, o);
        if (!more) {
            status = kUsage;
            return nullptr;
        }
        files.insert(files.end(), more->begin(), more->end());
    }
    auto combined = std::make_unique<Combined>();
    source::DiagnosticEngine diags;
    combined->loaded = parse::loadProgram(files, loadOptions(o), c.sm, diags);
    if (!diags.hasErrors())
        combined->model = sema::check(combined->loaded.program.modules, combined->loaded.program.isRoot, diags);
    if (diags.hasErrors() || combined->loaded.ioError) {
        std::cerr << "omegac: error: the policy and the compliance packs do not check together:\n";
        printDiagnostics(c.sm, diags, o);
        status = combined->loaded.ioError ? kUsage : kErrors;
        return nullptr;
    }
    std::set<std::string> own;
    for (const ast::Module& m : c.loaded.program.modules) own.insert(m.header.name.text);
    for (const ast::Module& m : combined->loaded.program.modules)
        if (!own.count(m.header.name.text)) combined->packModules.insert(m.header.name.text);
    return combined;
}

// Proves things about the program with Z3 (docs/analysis.md) and reports each finding with its witness request.
int runLint(const std::vector<std::string>& files, const CommonOptions& o, const analysis::Options& options,
            const std::string& failOn, const std::vector<std::string>& against) {
    auto c = loadChecked(files, o);
    if (c->status != kOk) return c->status;
    eval::Evaluator ev(c->loaded.program.modules, c->model);
    const auto start = std::chrono::steady_clock::now();
    std::vector<analysis::Finding> findings = analysis::analyze(ev, options);
    std::unique_ptr<Combined> combined;
    std::unique_ptr<eval::Evaluator> combinedEv;
    if (!against.empty()) {
        int status = kOk;
        combined = loadCombined(*c, files, against, o, status);
        if (!combined) return status;
        combinedEv = std::make_unique<eval::Evaluator>(combined->loaded.program.modules, combined->model);
        // The budget is for the whole run: the refinement gets what the analysis left (at least a millisecond, so
        // that a spent budget still makes every check unknown rather than unlimited).
        analysis::Options rest = options;
        if (options.budgetMs > 0) {
            const auto spent =
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
            rest.budgetMs = spent >= options.budgetMs ? 1u : options.budgetMs - static_cast<unsigned>(spent);
        }
        std::vector<analysis::Finding> more = analysis::refine(ev, *combinedEv, combined->packModules, rest);
        findings.insert(findings.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    std::size_t failing = 0, unknown = 0;
    for (const analysis::Finding& f : findings) {
        unknown += f.unknown;
        const bool atLeast = f.severity == analysis::Severity::Error ||
                             (failOn == "warning" && f.severity == analysis::Severity::Warning);
        if (!f.unknown && atLeast) ++failing;
    }
    if (o.format == "sarif") {
        std::cout << tools::toSarif(findings, c->sm, OMEGA_VERSION, std::filesystem::current_path());
    } else if (o.format == "json") {
        std::string out = "{\"findings\":[";
        for (std::size_t i = 0; i < findings.size(); ++i) {
            const analysis::Finding& f = findings[i];
            out += std::string(i ? "," : "") + "{\"code\":" + ast::quoteString(f.code) +
                   ",\"severity\":" + ast::quoteString(analysis::severityName(f.severity)) +
                   ",\"status\":" + (f.unknown ? "\"unknown\"" : "\"found\"") +
                   ",\"message\":" + ast::quoteString(f.message) +
                   ",\"location\":{\"file\":" + ast::quoteString(c->sm.file(f.span.file).path) +
                   ",\"line\":" + std::to_string(f.span.begin.line) +
                   ",\"column\":" + std::to_string(f.span.begin.col) + "},\"rules\":" + rulesJson(f.rules, c->sm);
            if (!f.witness.empty()) out += ",\"witness\":" + f.witness;
            out += "}";
        }
        out += "],\"summary\":{\"findings\":" + std::to_string(findings.size() - unknown) +
               ",\"unknown\":" + std::to_string(unknown) + "}}";
        std::cout << out << '\n';
    } else {
        source::DiagnosticEngine diags(100000);
        for (const analysis::Finding& f : findings) {
            auto severity = f.unknown || f.severity == analysis::Severity::Note ? source::Severity::Note
                            : f.severity == analysis::Severity::Error           ? source::Severity::Error
                                                                                : source::Severity::Warning;
            source::Diagnostic& d = diags.report(severity, f.code, f.span, f.message);
            for (std::size_t k = 1; k < f.rules.size(); ++k)
                d.notes.push_back({f.rules[k]->id + " (" + f.rules[k]->principal + ") is here", f.rules[k]->span});
            if (!f.witness.empty()) d.help = "for example: " + f.witness;
        }
        printDiagnostics(c->sm, diags, o);
        if (findings.empty()) std::cout << "lint: no findings\n";
    }
    return failing ? kErrors : kOk;
}

// Exit status of `omegac diff` when new access could be neither found nor ruled out (docs/analysis.md 5).
constexpr int kDiffUnknown = 3;

// Compares two programs (docs/analysis.md 5): the requests NEW allows that OLD denies (new access) and the reverse.
int runDiff(const std::string& oldPath, const std::string& newPath, const CommonOptions& o,
            const analysis::DiffOptions& options) {
    auto oldFiles = programFiles(oldPath, false);
    auto newFiles = programFiles(newPath, false);
    if (!oldFiles || !newFiles) return kUsage;
    auto before = loadChecked(*oldFiles, o);
    if (before->status != kOk) return before->status;
    auto after = loadChecked(*newFiles, o);
    if (after->status != kOk) return after->status;
    eval::Evaluator oldEv(before->loaded.program.modules, before->model);
    eval::Evaluator newEv(after->loaded.program.modules, after->model);
    const analysis::DiffResult result = analysis::diff(oldEv, newEv, options);
    const std::size_t gained = result.count(true, false), lost = result.count(false, false);
    const std::size_t unknown = result.count(true, true) + result.count(false, true);
    auto smOf = [&](const analysis::Difference& d, bool allowing) -> const source::SourceManager& {
        return d.newAccess == allowing ? after->sm : before->sm;
    };
    if (o.format == "json") {
        std::string out = "{";
        for (const bool newAccess : {true, false}) {
            out += std::string(newAccess ? "" : ",") + (newAccess ? "\"new_access\":[" : "\"lost_access\":[");
            bool first = true;
            for (const analysis::Difference& d : result.differences) {
                if (d.newAccess != newAccess) continue;
                out += std::string(first ? "" : ",") + "{\"action\":" + ast::quoteString(ast::actionName(d.action)) +
                       ",\"status\":" + (d.unknown ? "\"unknown\"" : "\"found\"") +
                       ",\"message\":" + ast::quoteString(d.message);
                first = false;
                if (d.unknown) {
                    out += "}";
                    continue;
                }
                out += ",\"agent\":" + ast::quoteString(d.agent);
                if (!d.target.empty()) out += ",\"target\":" + ast::quoteString(d.target);
                if (!d.recipient.empty()) out += ",\"recipient\":" + ast::quoteString(d.recipient);
                out += ",\"allowed_by\":" + rulesJson(d.allowedBy, smOf(d, true)) +
                       ",\"denied_by\":" + rulesJson(d.deniedBy, smOf(d, false)) +
                       ",\"denied_because\":" + ast::quoteString(d.deniedBecause) + ",\"witness\":" + d.witness + "}";
            }
            out += "]";
        }
        out += ",\"changed_tools\":[";
        for (std::size_t i = 0; i < result.changedTools.size(); ++i)
            out += std::string(i ? "," : "") + ast::quoteString(result.changedTools[i]);
        out += "],\"summary\":{\"new_access\":" + std::to_string(gained) + ",\"lost_access\":" + std::to_string(lost) +
               ",\"unknown\":" + std::to_string(unknown) + ",\"truncated\":" + (result.truncated ? "true" : "false") +
               "}}";
        std::cout << out << '\n';
    } else {
        auto where = [](const eval::RuleInfo& r, const source::SourceManager& sm) {
            return sm.file(r.span.file).path + ":" + std::to_string(r.span.begin.line) + ":" +
                   std::to_string(r.span.begin.col) + ": " + r.id + " (" + r.principal + ")";
        };
        for (const std::string& tool : result.changedTools)
            std::cout << "note: tool " << tool
                      << " has different parameters in OLD and NEW: a request to it is shaped for one of them only\n";
        for (const bool newAccess : {true, false}) {
            const std::size_t n = newAccess ? gained : lost;
            std::cout << (newAccess ? "new access (allowed by NEW, denied by OLD): "
                                    : "lost access (allowed by OLD, denied by NEW): ")
                      << (n == 0 ? std::string("none") : std::to_string(n) + (n == 1 ? " class" : " classes")) << '\n';
            for (const analysis::Difference& d : result.differences) {
                if (d.newAccess != newAccess) continue;
                std::cout << "  " << d.message << '\n';
                if (d.unknown) continue;
                for (const eval::RuleInfo* r : d.allowedBy)
                    std::cout << "    allowed by " << where(*r, smOf(d, true)) << '\n';
                std::cout << "    " << (newAccess ? "OLD" : "NEW") << ": " << d.deniedBecause << '\n';
                for (const eval::RuleInfo* r : d.deniedBy)
                    std::cout << "    denied by " << where(*r, smOf(d, false)) << '\n';
                std::cout << "    for example: " << d.witness << '\n';
            }
        }
        if (result.truncated) std::cout << "(more classes exist: raise --limit to list them)\n";
        std::cout << "diff: "
                  << (gained    ? "NEW grants new access"
                      : unknown ? "new access not ruled out"
                                : "no new access")
                  << "; " << gained << " new, " << lost << " lost, " << unknown << " unknown\n";
    }
    if (gained) return kErrors;
    return result.count(true, true) ? kDiffUnknown : kOk;
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

// ---- omegac audit: the decision log (docs/decision-log.md) ----

std::string hexOf(std::span<const std::uint8_t> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : bytes) out += {digits[b >> 4], digits[b & 15]};
    return out;
}

// RFC 3339 UTC with nanoseconds; log times are untrusted, so any value prints.
std::string formatTime(std::int64_t ns) {
    std::int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) frac += 1000000000, --secs;
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    char date[64] = "?";
    if (gmtime_r(&t, &tm) != nullptr) std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[96];
    std::snprintf(out, sizeof out, "%s.%09lldZ", date, static_cast<long long>(frac));
    return out;
}

// Log text is untrusted: control bytes are escaped so that a record cannot move the cursor or fake other lines.
std::string printable(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        } else {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
        }
    }
    return out;
}

// The request or decision as JSON when it is a JSON document of modest depth (the parser recurses), else as a string.
nlohmann::ordered_json jsonText(const std::string& text) {
    int depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (char c : text) {
        if (inString) {
            escaped = !escaped && c == '\\';
            if (c == '"' && !escaped) inString = false;
            continue;
        }
        if (c == '"') inString = true;
        if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
        if (c == '}' || c == ']') --depth;
    }
    if (deepest <= 64) {
        auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded()) return parsed;
    }
    return text;
}

std::string dumpJson(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

const char* tornReasonName(std::uint32_t reason) {
    switch (static_cast<log::TornReason>(reason)) {
        case log::TornReason::Incomplete: return "incomplete record";
        case log::TornReason::Zeros: return "zero bytes";
        case log::TornReason::Damaged: return "damaged last record";
    }
    return "unknown";
}

std::optional<bundle::PublicKey> loadLogKey(const std::string& path) {
    auto keys = loadTrusted({path});
    if (!keys) return std::nullopt;
    return keys->front();
}

nlohmann::ordered_json problemJson(const log::Problem& p) {
    nlohmann::ordered_json j;
    j["file"] = p.file;
    j["offset"] = p.offset;
    if (p.seq != 0) j["seq"] = p.seq;
    j["message"] = p.what;
    return j;
}

std::string problemText(const log::Problem& p) {
    return p.file + ": offset " + std::to_string(p.offset) + (p.seq ? ": seq " + std::to_string(p.seq) : "") + ": " +
           p.what;
}

int runAuditVerify(const std::string& logPath, const std::string& keyPath, const std::string& expectHead,
                   const log::VerifyOptions& base, const std::string& format) {
    log::VerifyOptions options = base;
    if (!expectHead.empty()) {
        options.expectHead = log::parseHead(expectHead);
        if (!options.expectHead) {
            std::cerr << "omegac audit verify: error: --expect-head takes SEQ:HEX (a seq and 64 hex digits), not `"
                      << expectHead << "`\n";
            return kUsage;
        }
    }
    auto key = loadLogKey(keyPath);
    if (!key) return kUsage;
    auto report = log::verify(logPath, *key, options);
    if (!report) {
        std::cerr << "omegac: error: " << report.error() << '\n';
        return kUsage;
    }
    const log::VerifyReport& r = *report;
    if (format == "json") {
        nlohmann::ordered_json j;
        j["log"] = logPath;
        j["verified"] = r.ok();
        j["files"] = r.files;
        j["records"] = r.records;
        j["first_seq"] = r.firstSeq;
        j["head"] = {{"seq", r.head.seq}, {"hash", hexOf(r.head.hash)}};
        j["decisions"] = r.decisions;
        j["approvals"] = r.approvals;
        j["events"] = r.events;
        j["checkpoints"] = r.checkpoints;
        j["sessions"] = r.sessions;
        j["recoveries"] = r.recoveries;
        j["last_checkpoint_seq"] = r.lastCheckpointSeq;
        j["unsigned_records"] = r.unsignedRecords;
        j["closed"] = r.closed;
        j["torn_tail"] = nullptr;
        if (r.tornTail) {
            j["torn_tail"] = {{"file", r.tornTail->file},
                              {"offset", r.tornTail->offset},
                              {"length", r.tornTail->length},
                              {"reason", tornReasonName(r.tornTail->reason)}};
        }
        j["problem_count"] = r.problemCount;
        j["problems"] = nlohmann::ordered_json::array();
        for (const auto& p : r.problems) j["problems"].push_back(problemJson(p));
        j["notes"] = nlohmann::ordered_json::array();
        for (const auto& n : r.notes) j["notes"].push_back(problemJson(n));
        std::cout << dumpJson(j) << '\n';
        return r.ok() ? kOk : kErrors;
    }
    for (const auto& p : r.problems) std::cout << "error: " << printable(problemText(p)) << '\n';
    if (r.problemCount > r.problems.size()) {
        std::cout << "error: " << (r.problemCount - r.problems.size()) << " more problems not shown\n";
    }
    for (const auto& n : r.notes) std::cout << "note: " << printable(problemText(n)) << '\n';
    const auto count = [](std::uint64_t n, const char* one, const char* many) {
        return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::cout << count(r.records, "record", "records");
    if (r.records) std::cout << " (seq " << r.firstSeq << ".." << r.head.seq << ")";
    std::cout << " in " << count(r.files.size(), "file", "files") << ": " << count(r.decisions, "decision", "decisions")
              << ", " << count(r.approvals, "approval", "approvals") << ", " << count(r.events, "event", "events")
              << ", " << count(r.checkpoints, "valid checkpoint", "valid checkpoints") << ", "
              << count(r.sessions, "session", "sessions") << ", " << count(r.recoveries, "recovery", "recoveries")
              << '\n';
    std::cout << "head " << log::formatHead(r.head) << '\n';
    if (r.ok()) {
        std::cout << "verified: the chain is intact and every checkpoint signature is valid\n";
    } else {
        std::cout << "FAILED: " << r.problemCount << (r.problemCount == 1 ? " problem" : " problems") << '\n';
    }
    return r.ok() ? kOk : kErrors;
}

nlohmann::ordered_json recordJson(const log::Record& r) {
    nlohmann::ordered_json j;
    j["seq"] = r.seq;
    j["time"] = formatTime(r.timeNs);
    j["time_ns"] = r.timeNs;
    j["kind"] = log::kindName(r.kind);
    j["hash"] = hexOf(r.hash);
    j["file"] = r.file;
    j["offset"] = r.offset;
    if (const auto* e = std::get_if<log::EntryBody>(&r.body)) {
        j["measurement"] = "sha384:" + hexOf(e->measurement);
        j["request_digest"] = "sha256:" + hexOf(e->requestDigest);
        j["digest_of"] = e->digestOfLogged ? "logged request" : "request before redaction";
        j["request"] = e->request.empty() ? nlohmann::ordered_json() : jsonText(e->request);
        j["decision"] = jsonText(e->decision);
    } else if (const auto* c = std::get_if<log::CheckpointBody>(&r.body)) {
        j["key_id"] = hexOf(c->keyId);
        j["closing"] = (c->flags & log::kCheckpointClosing) != 0;
        j["rotation"] = (c->flags & log::kCheckpointRotation) != 0;
        j["signature"] = hexOf(c->signature);
    } else if (const auto* o = std::get_if<log::OpenBody>(&r.body)) {
        j["key_id"] = hexOf(o->keyId);
        j["new_log"] = (o->flags & log::kOpenNewLog) != 0;
        j["after_close"] = (o->flags & log::kOpenAfterClose) != 0;
        j["after_recovery"] = (o->flags & log::kOpenAfterRecovery) != 0;
    } else if (const auto* v = std::get_if<log::RecoveryBody>(&r.body)) {
        j["cut_offset"] = v->offset;
        j["cut_length"] = v->length;
        j["cut_sha256"] = hexOf(v->digest);
        j["reason"] = tornReasonName(v->reason);
    }
    return j;
}

void printRecordText(const log::Record& r) {
    std::cout << r.seq << ' ' << formatTime(r.timeNs) << ' ' << log::kindName(r.kind);
    if (const auto* e = std::get_if<log::EntryBody>(&r.body)) {
        std::cout << " measurement sha384:" << hexOf(e->measurement) << '\n';
        if (r.kind != log::Kind::Event || !e->request.empty()) {
            std::cout << "    request sha256:" << hexOf(e->requestDigest)
                      << (e->digestOfLogged ? " " : " (before redaction) ") << printable(e->request) << '\n';
        }
        std::cout << "    " << (r.kind == log::Kind::Decision ? "decision " : "") << printable(e->decision) << '\n';
    } else if (const auto* c = std::get_if<log::CheckpointBody>(&r.body)) {
        std::cout << ((c->flags & log::kCheckpointClosing) ? " (closing)" : "")
                  << ((c->flags & log::kCheckpointRotation) ? " (rotation)" : "") << " key " << hexOf(c->keyId) << '\n';
    } else if (const auto* o = std::get_if<log::OpenBody>(&r.body)) {
        std::cout << ((o->flags & log::kOpenNewLog)          ? " new log"
                      : (o->flags & log::kOpenAfterClose)    ? " after a clean close"
                      : (o->flags & log::kOpenAfterRecovery) ? " after a crash, torn tail recovered"
                                                             : " after a crash")
                  << " key " << hexOf(o->keyId) << '\n';
    } else if (const auto* v = std::get_if<log::RecoveryBody>(&r.body)) {
        std::cout << " cut " << v->length << " bytes at offset " << v->offset << " (" << tornReasonName(v->reason)
                  << ") sha256:" << hexOf(v->digest) << '\n';
    }
}

int runAuditShow(const std::string& logPath, std::uint64_t from, std::uint64_t to, const std::string& format) {
    auto reader = log::Reader::open(logPath);
    if (!reader) {
        std::cerr << "omegac: error: " << reader.error() << '\n';
        return kUsage;
    }
    while (true) {
        auto next = (*reader)->next();
        if (!next) {
            std::cout.flush();
            std::cerr << "omegac: error: " << printable(next.error()) << '\n';
            return kErrors;
        }
        if (!*next) break;
        const log::Record& r = **next;
        if (r.seq < from || r.seq > to) continue;
        if (format == "json") {
            std::cout << dumpJson(recordJson(r)) << '\n';
        } else {
            printRecordText(r);
        }
    }
    if (const auto& torn = (*reader)->tornTail()) {
        std::cout.flush();
        std::cerr << "note: " << torn->file << ": offset " << torn->offset << ": torn tail of " << torn->length
                  << " bytes (" << tornReasonName(torn->reason) << "; a crash while writing)\n";
    }
    return kOk;
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

    std::string output;
    std::vector<std::string> signKeys;
    bool compileQuiet = false;
    CLI::App* compileCmd =
        app.add_subcommand("compile", "Compile policy sources to a verified, optionally signed bundle");
    compileCmd->add_option("files", files, "Policy sources (.omega); compiled together as one program")->required();
    compileCmd->add_option("-o,--output", output, "The bundle to write (.omb)")->required();
    compileCmd->add_option("--sign", signKeys, "Sign with this private key (PEM: Ed25519 or ECDSA P-384; repeatable)")
        ->allow_extra_args(false);
    compileCmd->add_flag("-q,--quiet", compileQuiet, "Print nothing on success");
    addCommon(*compileCmd, common);
    compileCmd->footer(
        "Prints the rule count, the program's worst-case cost and the bundle's measurement.\n"
        "Exit status: 0 written, 1 policy errors, 2 usage or I/O problems.");

    std::string bundlePath;
    CLI::App* hashCmd = app.add_subcommand("hash", "Print a bundle's measurement (SHA-384, docs/bundle.md)");
    hashCmd->add_option("bundle", bundlePath, "The bundle (.omb)")->required();
    hashCmd->footer("Exit status: 0 printed, 1 not a valid bundle, 2 usage or I/O problems.");

    CLI::App* disasmCmd = app.add_subcommand("disasm", "List a bundle's bytecode with the rule each match reports");
    disasmCmd->add_option("bundle", bundlePath, "The bundle (.omb)")->required();
    disasmCmd->footer("Exit status: 0 listed, 1 the bundle is rejected, 2 usage or I/O problems.");

    std::string requestPath;
    std::vector<std::string> trustKeys;
    CLI::App* evalCmd = app.add_subcommand(
        "eval", "Decide requests (JSON) with the reference evaluator over sources, or with a compiled bundle");
    auto* evalFiles = evalCmd->add_option("files", files, "Policy sources (.omega)");
    auto* evalBundle =
        evalCmd->add_option("-b,--bundle", bundlePath, "Decide with this compiled bundle instead of sources");
    evalFiles->excludes(evalBundle);
    evalCmd->add_option("--trust", trustKeys, "With --bundle: require a signature by this public key (PEM; repeatable)")
        ->needs(evalBundle)
        ->allow_extra_args(false);
    evalCmd
        ->add_option("-r,--request", requestPath,
                     "Request JSON file, or - for standard input; one document or one "
                     "request per line")
        ->required();
    addCommon(*evalCmd, common);
    evalCmd->footer(
        "Prints one decision per request as a JSON line (docs/requests.md).\n"
        "Exit status: 0 every request decided, 1 policy errors or a request that could not be decoded "
        "(it is printed as a deny with an error), 2 usage or I/O problems.");

    analysis::Options lintOptions;
    std::string failOn = "warning";
    std::vector<std::string> against;
    CLI::App* lintCmd = app.add_subcommand(
        "lint", "Find conflicts, shadowed and dead rules with Z3, each with a witness request (docs/analysis.md)");
    lintCmd->add_option("files", files, "Policy sources (.omega); analysed together as one program")->required();
    lintCmd
        ->add_option("--timeout", lintOptions.timeoutMs,
                     "Milliseconds per solver query; a query that runs out is unknown")
        ->check(CLI::Range(1u, 3600000u));
    lintCmd->add_option("--budget", lintOptions.budgetMs,
                        "Milliseconds for the whole analysis (0: no limit); checks past it are reported as unknown");
    lintCmd->add_option("-j,--jobs", lintOptions.jobs,
                        "Solver threads (0: one per core); findings do not depend on it");
    lintCmd->add_option("--fail-on", failOn, "Lowest severity that makes the exit status 1: warning or error")
        ->check(CLI::IsMember({"warning", "error"}));
    lintCmd
        ->add_option("--against", against,
                     "Also report every request the policy allows that this compliance pack forbids (a pack "
                     "file or directory, or a stdlib-policies pack such as gdpr; repeatable)")
        ->allow_extra_args(false);
    addCommon(*lintCmd, common, /*sarif=*/true);
    lintCmd->footer(
        "Exit status: 0 no finding at or above --fail-on (unknowns do not fail), 1 such findings or policy errors, "
        "2 usage or I/O problems.");

    std::string oldPath, newPath;
    analysis::DiffOptions diffOptions;
    CLI::App* diffCmd = app.add_subcommand(
        "diff", "Find the requests NEW allows that OLD denies (new access), and the reverse, with witnesses");
    diffCmd->add_option("old", oldPath, "The old program: a policy file, or a directory of .omega files")->required();
    diffCmd->add_option("new", newPath, "The new program: a policy file, or a directory of .omega files")->required();
    diffCmd->add_option("--timeout", diffOptions.timeoutMs, "Milliseconds per solver query")
        ->check(CLI::Range(1u, 3600000u));
    diffCmd->add_option("--budget", diffOptions.budgetMs, "Milliseconds for the whole comparison (0: no limit)");
    diffCmd->add_option("--limit", diffOptions.limit, "Classes listed per direction (action, agent, target)")
        ->check(CLI::Range(1u, 100000u));
    diffCmd->add_option("-j,--jobs", diffOptions.jobs, "1: one thread; otherwise both directions side by side");
    addCommon(*diffCmd, common);
    diffCmd->footer(
        "A class is one action, agent, target and recipient; each comes with a request that NEW allows and OLD "
        "denies (or the reverse), replayed through both programs.\n"
        "Exit status: 0 no new access (proved), 1 new access or policy errors, 2 usage or I/O problems, 3 new "
        "access could not be ruled out within the time limits.");

    bool verbose = false;
    CLI::App* testCmd = app.add_subcommand("test", "Run the test blocks of policy sources and report rule coverage");
    testCmd->add_option("files", files, "Policy sources (.omega); their imports' tests are not run")->required();
    testCmd->add_flag("-v,--verbose", verbose, "List passing tests and the rules no test decided");
    testCmd->add_option("-b,--bundle", bundlePath,
                        "Run the tests against this compiled bundle instead of compiling the sources");
    addCommon(*testCmd, common);
    testCmd->footer(
        "Each test is decided by the compiled bytecode and by the reference evaluator; a test fails if either\n"
        "misses its expectation or they disagree.\n"
        "Exit status: 0 all tests pass, 1 a test fails or the policy has errors, 2 usage or I/O problems.");

    CLI::App* auditCmd =
        app.add_subcommand("audit", "Verify or print a tamper-evident decision log (docs/decision-log.md)");
    auditCmd->require_subcommand(1);
    std::string logPath, logKey, expectHead, auditFormat = "text";
    log::VerifyOptions verifyOptions;
    CLI::App* auditVerify = auditCmd->add_subcommand(
        "verify",
        "Check every record's hash chain and sequence and every checkpoint signature; say where the log "
        "was changed");
    auditVerify
        ->add_option("log", logPath,
                     "The active log file (its rotated files LOG.<seq> are read first), or a "
                     "directory holding one log")
        ->required();
    auditVerify->add_option("--key", logKey, "The monitor's public key (PEM, Ed25519) that signs checkpoints")
        ->required();
    auditVerify->add_option("--expect-head", expectHead,
                            "SEQ:HEX: the record SEQ must be in the log with this hash (a head the monitor reported "
                            "or attested); finds records cut off after the last checkpoint");
    auditVerify->add_flag("--expect-closed", verifyOptions.expectClosed,
                          "Fail unless the log ends with a closing checkpoint (the writer shut down cleanly)");
    auditVerify->add_flag("--allow-pruned", verifyOptions.allowPruned,
                          "Accept a log whose oldest files were removed on purpose (it need not start at seq 1)");
    auditVerify->add_option("--max-problems", verifyOptions.maxProblems, "Problems listed (all are counted)")
        ->check(CLI::Range(1u, 1000000u));
    auditVerify->add_option("--format", auditFormat, "Output: text or json")->check(CLI::IsMember({"text", "json"}));
    auditVerify->footer(
        "Finds edited, deleted, inserted, reordered and truncated records, bad or foreign checkpoint signatures and\n"
        "missing or cut rotated files, each with its file, offset and seq. Records after the last checkpoint can be\n"
        "cut off or rewritten without a trace unless --expect-head or --expect-closed says what to expect: the\n"
        "report counts them. A half-written last record is a torn tail (a crash while writing; never acknowledged)\n"
        "and is a note, not a failure.\n"
        "Exit status: 0 verified (notes may follow), 1 tampering or another verification failure, 2 usage or I/O "
        "problems.");

    std::uint64_t showFrom = 0, showTo = UINT64_MAX;
    CLI::App* auditShow = auditCmd->add_subcommand(
        "show", "Print a decision log's records (read as they are: run audit verify to check)");
    auditShow
        ->add_option("log", logPath,
                     "The active log file (its rotated files LOG.<seq> are read first), or a "
                     "directory holding one log")
        ->required();
    auditShow->add_option("--from", showFrom, "First seq to print");
    auditShow->add_option("--to", showTo, "Last seq to print");
    auditShow->add_option("--format", auditFormat, "Output: text or json (one object per line)")
        ->check(CLI::IsMember({"text", "json"}));
    auditShow->footer(
        "Control characters in logged text are printed as \\xNN. A torn tail is reported on standard error.\n"
        "Exit status: 0 printed, 1 a malformed record stopped the listing, 2 usage or I/O problems.");

    omegac::AttestCommands attestCommands;
    attestCommands.add(app);

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
        if (*lintCmd) return runLint(files, common, lintOptions, failOn, against);
        if (*diffCmd) return runDiff(oldPath, newPath, common, diffOptions);
        if (*compileCmd) return runCompile(files, common, output, signKeys, compileQuiet);
        if (*hashCmd) return runHash(bundlePath);
        if (*disasmCmd) return runDisasm(bundlePath);
        if (*evalCmd) {
            if (!bundlePath.empty()) return runEvalBundle(bundlePath, trustKeys, requestPath);
            if (files.empty()) {
                std::cerr << "omegac eval: error: give policy sources or --bundle\n";
                return kUsage;
            }
            return runEval(files, common, requestPath);
        }
        if (*testCmd) return runTest(files, common, verbose, bundlePath);
        if (*auditVerify) return runAuditVerify(logPath, logKey, expectHead, verifyOptions, auditFormat);
        if (*auditShow) return runAuditShow(logPath, showFrom, showTo, auditFormat);
        if (auto status = attestCommands.run()) return *status;
    } catch (const std::exception& e) {
        std::cerr << "omegac: internal error: " << e.what() << '\n';
        return kUsage;
    }
    return kUsage;
}
