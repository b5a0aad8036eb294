// A strict subset of YAML for omegad's configuration: block mappings and sequences, one-line flow sequences, plain,
// single- and double-quoted scalars, comments. Everything else (anchors, tags, flow mappings, block scalars,
// several documents, tabs in indentation) is an error at its line and column, never a guess.
#pragma once

#include "omega/bundle/Result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::omegad::yaml {

struct Mark {
    std::uint32_t line = 1;    // 1-based
    std::uint32_t column = 1;  // 1-based, in bytes
};

// A member of a mapping: a key (a scalar) and its value.
struct Member;

struct Node {
    enum class Kind : std::uint8_t { Scalar, Sequence, Mapping };
    Kind kind = Kind::Scalar;
    Mark mark;                    // where the node begins
    std::string text;             // Scalar: its value (quotes removed, escapes applied)
    bool quoted = false;          // Scalar: written in quotes, so a string whatever it spells
    std::vector<Node> items;      // Sequence
    std::vector<Member> members;  // Mapping: in document order

    bool isScalar() const { return kind == Kind::Scalar; }
    bool isSequence() const { return kind == Kind::Sequence; }
    bool isMapping() const { return kind == Kind::Mapping; }
    // The value of member `key` of a mapping; null when absent (or not a mapping).
    const Node* find(std::string_view key) const;
};

struct Member {
    Node key;
    Node value;
};

// Limits that keep any input cheap to read.
inline constexpr std::size_t kMaxDepth = 32;
inline constexpr std::size_t kMaxBytes = 1u << 20;

// Parses one document. Errors read "LINE:COLUMN: message" (lowercase, user text in backticks).
bundle::Result<Node> parse(std::string_view text);

// Typed reading of scalars, for configuration loaders. Plain scalars only for numbers and booleans (a quoted "12" is
// a string); errors name where the value is, in the form of parse()'s errors.
std::optional<std::int64_t> integerOf(const Node& node);  // decimal, optional '-', fits in 64 bits
std::optional<bool> booleanOf(const Node& node);          // `true` or `false`, nothing else
std::string where(const Mark& mark);                      // "LINE:COLUMN"

}  // namespace omega::omegad::yaml
