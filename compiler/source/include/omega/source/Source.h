// Source files and positions: the SourceManager owns every loaded text; a Span names a range in one of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::source {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = 0xffffffffu;

// 1-based line and column; columns count Unicode code points, so carets line up under non-ASCII text.
struct Position {
    std::uint32_t line = 0;
    std::uint32_t col = 0;
    friend bool operator==(const Position&, const Position&) = default;
    friend auto operator<=>(const Position&, const Position&) = default;
};

// INVARIANT: begin <= end; end is exclusive (one past the last character). A span with file == kNoFile is
// synthetic (made by a tool rather than read from text) and is rendered without a source line.
struct Span {
    FileId file = kNoFile;
    Position begin;
    Position end;
    bool valid() const { return file != kNoFile; }
};

struct SourceFile {
    std::string path;                       // as given or resolved; used in diagnostics
    std::string text;                       // raw bytes
    std::vector<std::uint32_t> lineStarts;  // byte offset of each line start
};

class SourceManager {
public:
    FileId add(std::string path, std::string text);
    const SourceFile& file(FileId id) const { return files_.at(id); }
    std::size_t size() const { return files_.size(); }
    // The text of a 1-based line without its terminator; empty when out of range.
    std::string_view line(FileId id, std::uint32_t line) const;

private:
    std::vector<SourceFile> files_;
};

// Limits that protect every stage from hostile input. Checked before parsing.
struct Limits {
    std::size_t maxFileBytes = 8u << 20;    // 8 MiB per source file
    std::size_t maxIdentifierLength = 256;  // characters
    std::size_t maxNesting = 200;           // brackets and expression depth
    std::size_t maxChain = 2000;            // terms joined by one `and`/`or` chain
    std::size_t maxStringLength = 4096;     // bytes in one string literal
    std::size_t maxImports = 1000;          // modules in one program
    std::size_t maxImportDepth = 64;        // length of an import chain
    std::size_t maxDiagnostics = 500;       // then stop with a summary
};

// Returns the byte offset of the first invalid UTF-8 sequence, if any.
std::optional<std::size_t> findInvalidUtf8(std::string_view text);
// Converts a byte offset to a 1-based line and code-point column.
Position positionOf(const SourceFile& file, std::size_t offset);

}  // namespace omega::source

namespace omega::source {
// The candidate closest to `word` by edit distance, if it is close enough to be a likely misspelling.
std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates);
}  // namespace omega::source
