// Collecting, sorting and rendering diagnostics.
#include "omega/source/Diagnostic.h"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace omega::source {

const char* severityName(Severity s) {
    switch (s) {
        case Severity::Error: return "error";
        case Severity::Warning: return "warning";
        case Severity::Note: return "note";
    }
    return "error";
}

Diagnostic& DiagnosticEngine::report(Severity severity, std::string code, Span span, std::string message,
                                     std::string label) {
    if (severity == Severity::Error) ++errors_;
    if (severity == Severity::Warning) ++warnings_;
    if (diagnostics_.size() >= limit_) {
        ++dropped_;
        overflow_ = Diagnostic{};
        return overflow_;
    }
    diagnostics_.push_back(Diagnostic{severity, std::move(code), std::move(message), span, std::move(label), {}, {}});
    return diagnostics_.back();
}

std::vector<Diagnostic> DiagnosticEngine::sorted() const {
    std::vector<Diagnostic> out = diagnostics_;
    std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.span.file != b.span.file) return a.span.file < b.span.file;
        if (a.span.begin != b.span.begin) return a.span.begin < b.span.begin;
        return a.code < b.code;
    });
    return out;
}

namespace {

// Prints `line` with tabs kept, then an underline from column `from` to `to` (1-based, exclusive end).
void underline(std::ostream& out, std::string_view line, std::uint32_t from, std::uint32_t to,
               const std::string& gutter, const std::string& label) {
    std::string marks;
    std::uint32_t col = 1;
    for (std::size_t i = 0; i < line.size() && col < from; ++i) {
        auto c = static_cast<unsigned char>(line[i]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: same column
        marks += (c == '\t') ? '\t' : ' ';
        ++col;
    }
    while (col < from) {
        marks += ' ';
        ++col;
    }
    std::uint32_t width = to > from ? to - from : 1;
    marks.append(width, '^');
    out << gutter << " | " << marks;
    if (!label.empty()) out << ' ' << label;
    out << '\n';
}

void renderSnippet(std::ostream& out, const SourceManager& sm, const Span& span, const std::string& label) {
    if (!span.valid() || span.file >= sm.size()) return;
    std::string_view text = sm.line(span.file, span.begin.line);
    // Keep very long lines readable: show at most 200 characters around the caret.
    std::uint32_t from = span.begin.col;
    std::uint32_t to = span.end.line == span.begin.line ? span.end.col : from + 1;
    std::string shown(text);
    if (shown.size() > 240) {
        std::size_t start = from > 80 ? from - 80 : 0;
        // Column arithmetic on bytes is close enough for an elided display of a very long line.
        if (start > 0) {
            shown = "..." + shown.substr(start, 200);
            from = from - static_cast<std::uint32_t>(start) + 3;
            to = std::min<std::uint32_t>(to - static_cast<std::uint32_t>(start) + 3, 204);
        } else {
            shown = shown.substr(0, 200) + "...";
            to = std::min<std::uint32_t>(to, 201);
        }
    }
    std::string number = std::to_string(span.begin.line);
    std::string gutter(number.size(), ' ');
    out << ' ' << number << " | " << shown << '\n';
    underline(out, shown, from, to, ' ' + gutter, label);
}

std::string location(const SourceManager& sm, const Span& span) {
    if (!span.valid() || span.file >= sm.size()) return "omegac";
    std::ostringstream s;
    s << sm.file(span.file).path << ':' << span.begin.line << ':' << span.begin.col;
    return s.str();
}

}  // namespace

void renderHuman(std::ostream& out, const SourceManager& sm, const std::vector<Diagnostic>& diags,
                 const RenderOptions& options) {
    const char* bold = options.color ? "\x1b[1m" : "";
    const char* reset = options.color ? "\x1b[0m" : "";
    for (const Diagnostic& d : diags) {
        const char* color = "";
        if (options.color) color = d.severity == Severity::Error ? "\x1b[1;31m" : "\x1b[1;35m";
        out << bold << location(sm, d.span) << ": " << reset << color << severityName(d.severity) << '[' << d.code
            << "]" << reset << bold << ": " << d.message << reset << '\n';
        renderSnippet(out, sm, d.span, d.label);
        for (const Note& n : d.notes) {
            if (n.span.valid()) {
                out << location(sm, n.span) << ": note: " << n.message << '\n';
                renderSnippet(out, sm, n.span, {});
            } else {
                out << "  = note: " << n.message << '\n';
            }
        }
        if (!d.help.empty()) out << "  = help: " << d.help << '\n';
    }
}

std::string jsonEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    static const char* hex = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += ch;
                }
        }
    }
    return out;
}

namespace {

void jsonSpan(std::ostream& out, const SourceManager& sm, const Span& span) {
    if (!span.valid() || span.file >= sm.size()) {
        out << "null";
        return;
    }
    out << "{\"file\":\"" << jsonEscape(sm.file(span.file).path) << "\",\"line\":" << span.begin.line
        << ",\"column\":" << span.begin.col << ",\"end_line\":" << span.end.line << ",\"end_column\":" << span.end.col
        << '}';
}

}  // namespace

void renderJson(std::ostream& out, const SourceManager& sm, const DiagnosticEngine& engine) {
    out << "{\"diagnostics\":[";
    bool first = true;
    for (const Diagnostic& d : engine.sorted()) {
        out << (first ? "" : ",") << "\n  {\"severity\":\"" << severityName(d.severity) << "\",\"code\":\"" << d.code
            << "\",\"message\":\"" << jsonEscape(d.message) << "\",\"span\":";
        first = false;
        jsonSpan(out, sm, d.span);
        out << ",\"label\":\"" << jsonEscape(d.label) << "\",\"notes\":[";
        for (std::size_t i = 0; i < d.notes.size(); ++i) {
            out << (i ? "," : "") << "{\"message\":\"" << jsonEscape(d.notes[i].message) << "\",\"span\":";
            jsonSpan(out, sm, d.notes[i].span);
            out << '}';
        }
        out << "],\"help\":\"" << jsonEscape(d.help) << "\"}";
    }
    out << "\n],\"errors\":" << engine.errorCount() << ",\"warnings\":" << engine.warningCount()
        << ",\"dropped\":" << engine.dropped() << "}\n";
}

}  // namespace omega::source
