// Loading a program: read the root files, parse them, follow `import`s (beside the importer first, then the
// include directories), each file once, with cycles and missing files reported at the `import` that caused them.
#include "omega/parse/Parser.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace omega::parse {

namespace fs = std::filesystem;
using source::DiagnosticEngine;
using source::Span;

std::optional<std::string> readFile(const std::string& path, std::size_t maxBytes, std::string& error) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        error = "is a directory";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::error_code(errno, std::generic_category()).message();
        return std::nullopt;
    }
    std::string text;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > maxBytes) break;  // the parser reports the size with a location
    }
    if (in.bad()) {
        error = "read error";
        return std::nullopt;
    }
    return text;
}

namespace {

class Loader {
public:
    Loader(const LoadOptions& options, source::SourceManager& sm, DiagnosticEngine& diags)
        : options_(options), sm_(sm), diags_(diags) {}

    LoadResult result;

    void root(const std::string& path) {
        std::string error;
        std::string key = canonical(path);
        if (state_.count(key)) {
            // Already loaded as an import of an earlier root; mark it a root.
            if (auto it = index_.find(key); it != index_.end()) result.program.isRoot[it->second] = true;
            return;
        }
        auto text = readFile(path, options_.limits.maxFileBytes, error);
        if (!text) {
            diags_.error("E0103", Span{}, "cannot read `" + path + "`: " + error);
            result.ioError = true;
            return;
        }
        load(path, key, std::move(*text), true);
    }

private:
    static std::string canonical(const std::string& path) {
        std::error_code ec;
        fs::path p = fs::weakly_canonical(fs::path(path), ec);
        return ec ? path : p.string();
    }

    void load(const std::string& displayPath, const std::string& key, std::string text, bool isRoot, Span where = {}) {
        // Counted as loads start, so a deep chain of imports is bounded as well as a wide one; the depth bound
        // also bounds this recursion.
        if (++started_ > options_.limits.maxImports) {
            if (started_ == options_.limits.maxImports + 1)
                diags_.error("E0104", where,
                             "more than " + std::to_string(options_.limits.maxImports) + " modules in one program",
                             "one too many");
            return;
        }
        if (stack_.size() >= options_.limits.maxImportDepth) {
            diags_
                .error("E0104", where,
                       "imports are nested more than " + std::to_string(options_.limits.maxImportDepth) + " deep",
                       "too deep")
                .help = "import shared modules from the top-level module instead of in a chain";
            return;
        }
        state_[key] = State::Visiting;
        stack_.push_back(key);
        source::FileId id = sm_.add(displayPath, std::move(text));
        auto module = parseModule(sm_, id, diags_, options_.limits);
        if (module) {
            for (const ast::Item& item : module->items) {
                if (const auto* imp = std::get_if<ast::Import>(&item)) follow(*imp, displayPath);
                if (diags_.full()) break;
            }
            index_[key] = result.program.modules.size();
            result.program.modules.push_back(std::move(*module));
            result.program.isRoot.push_back(isRoot);
        }
        stack_.pop_back();
        state_[key] = State::Done;
    }

    void follow(const ast::Import& imp, const std::string& importer) {
        std::vector<fs::path> candidates;
        fs::path target(imp.path);
        if (target.is_absolute()) {
            candidates.push_back(target);
        } else {
            candidates.push_back(fs::path(importer).parent_path() / target);
            for (const std::string& dir : options_.includeDirs) candidates.push_back(fs::path(dir) / target);
        }
        for (const fs::path& c : candidates) {
            std::error_code ec;
            if (!fs::is_regular_file(c, ec)) continue;
            std::string key = canonical(c.string());
            auto st = state_.find(key);
            if (st != state_.end() && st->second == State::Visiting) {
                std::string cycle;
                bool on = false;
                for (const std::string& s : stack_) {
                    if (s == key) on = true;
                    if (on) cycle += fs::path(s).filename().string() + " -> ";
                }
                cycle += fs::path(key).filename().string();
                diags_.error("E0102", imp.span, "import cycle: " + cycle, "this import closes the cycle").help =
                    "move the shared declarations into a module that both import";
                return;
            }
            if (st != state_.end()) return;  // already loaded
            std::string error;
            auto text = readFile(c.string(), options_.limits.maxFileBytes, error);
            if (!text) {
                diags_.error("E0103", imp.span, "cannot read imported module `" + imp.path + "`: " + error,
                             "imported here");
                return;
            }
            load(c.lexically_normal().string(), key, std::move(*text), false, imp.span);
            return;
        }
        auto& d = diags_.error("E0101", imp.span, "imported module `" + imp.path + "` not found", "imported here");
        std::string searched;
        for (const fs::path& c : candidates) searched += (searched.empty() ? "" : ", ") + c.lexically_normal().string();
        d.notes.push_back({"searched: " + searched, {}});
        d.help = "imports are resolved beside the importing file, then in each `-I` directory";
    }

    enum class State { Visiting, Done };
    const LoadOptions& options_;
    source::SourceManager& sm_;
    DiagnosticEngine& diags_;
    std::map<std::string, State> state_;
    std::map<std::string, std::size_t> index_;
    std::vector<std::string> stack_;
    std::size_t started_ = 0;
};

}  // namespace

LoadResult loadProgram(const std::vector<std::string>& roots, const LoadOptions& options, source::SourceManager& sm,
                       DiagnosticEngine& diags) {
    Loader loader(options, sm, diags);
    for (const std::string& r : roots) {
        try {
            loader.root(r);
        } catch (const std::exception& e) {
            diags.error("E0900", Span{}, std::string("internal error while loading `") + r + "`: " + e.what());
        }
    }
    return std::move(loader.result);
}

}  // namespace omega::parse
