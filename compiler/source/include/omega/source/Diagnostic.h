// Diagnostics are data: severity, stable code, message, primary span with a label, notes and help. They are
// collected by a DiagnosticEngine and rendered for people (carets) or machines (JSON) by the functions below.
#pragma once

#include "omega/source/Source.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace omega::source {

enum class Severity { Error, Warning, Note };
const char* severityName(Severity s);

struct Note {
    std::string message;
    Span span;  // may be invalid: a note without a location
};

struct Diagnostic {
    Severity severity = Severity::Error;
    std::string code;     // stable, e.g. "E0203"; listed in docs/diagnostics.md
    std::string message;  // lowercase, no final period, user input in backticks
    Span span;
    std::string label;  // text under the caret
    std::vector<Note> notes;
    std::string help;
};

class DiagnosticEngine {
public:
    explicit DiagnosticEngine(std::size_t limit = 500) : limit_(limit) {}

    // Returns the stored diagnostic so callers can add notes and help.
    Diagnostic& report(Severity severity, std::string code, Span span, std::string message, std::string label = {});
    Diagnostic& error(std::string code, Span span, std::string message, std::string label = {}) {
        return report(Severity::Error, std::move(code), span, std::move(message), std::move(label));
    }
    Diagnostic& warning(std::string code, Span span, std::string message, std::string label = {}) {
        return report(Severity::Warning, std::move(code), span, std::move(message), std::move(label));
    }

    std::size_t errorCount() const { return errors_; }
    std::size_t warningCount() const { return warnings_; }
    bool hasErrors() const { return errors_ > 0; }
    bool full() const { return diagnostics_.size() >= limit_; }
    std::size_t dropped() const { return dropped_; }
    // Sorted by file, then position, then code; stable for equal keys.
    std::vector<Diagnostic> sorted() const;

private:
    std::vector<Diagnostic> diagnostics_;
    Diagnostic overflow_;  // target for reports past the limit
    std::size_t limit_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
    std::size_t dropped_ = 0;
};

struct RenderOptions {
    bool color = false;
};

// `file:line:col: error[E0123]: message`, the source line, a caret underline with the label, notes, help.
void renderHuman(std::ostream& out, const SourceManager& sm, const std::vector<Diagnostic>& diags,
                 const RenderOptions& options = {});
// One JSON document: {"diagnostics": [...], "errors": N, "warnings": N, "dropped": N}. The counts are the
// engine's totals, including diagnostics past the cap that are not listed (`dropped` of them).
void renderJson(std::ostream& out, const SourceManager& sm, const DiagnosticEngine& diags);
// Escapes a string for inclusion in JSON output (quotes not included).
std::string jsonEscape(std::string_view text);

}  // namespace omega::source
