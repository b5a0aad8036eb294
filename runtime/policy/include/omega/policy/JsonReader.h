// A strict JSON reader (RFC 8259) for untrusted input: one value per document, UTF-8 checked, every limit enforced,
// failures reported as "byte N: expected X, found Y". No recursion; nothing thrown but std::bad_alloc. The request
// decoder (Json.h) reads its documents with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::policy::json {

struct ReaderLimits {
    std::size_t maxBytes = 1u << 20;   // the whole document
    std::size_t maxDepth = 64;         // arrays and objects nested in each other
    std::size_t maxString = 1u << 20;  // bytes of one string or key, after unescaping
    std::size_t maxItems = 1u << 20;   // items of one array, members of one object
};

// The length of the well-formed UTF-8 sequence that starts at `text[at]` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF; 1 for ASCII), or 0 when there is none.
std::size_t utf8Length(std::string_view text, std::size_t at);
// Appends code point `cp` (at most U+10FFFF, not a surrogate: the caller checks) to `out` as UTF-8.
void appendUtf8(std::string& out, std::uint32_t cp);

enum class Kind : std::uint8_t { Null, Bool, Number, String, Array, Object };

class Document;

// A value of a parsed document: a small handle, valid (with the views it returns) while its document lives and is
// neither moved nor parsed into again.
class Value {
public:
    // Walks the items of an array or the members of an object, in document order.
    class Iterator {
    public:
        Value operator*() const { return Value(doc_, index_); }
        Iterator& operator++();
        friend bool operator==(const Iterator&, const Iterator&) = default;

    private:
        friend class Value;
        Iterator(const Document* doc, std::uint32_t index) : doc_(doc), index_(index) {}
        const Document* doc_ = nullptr;
        std::uint32_t index_ = 0;
    };
    struct Range {
        Iterator first, last;
        Iterator begin() const { return first; }
        Iterator end() const { return last; }
    };

    Kind kind() const;
    bool isNull() const { return kind() == Kind::Null; }
    bool isBool() const { return kind() == Kind::Bool; }
    bool isNumber() const { return kind() == Kind::Number; }
    bool isString() const { return kind() == Kind::String; }
    bool isArray() const { return kind() == Kind::Array; }
    bool isObject() const { return kind() == Kind::Object; }

    bool boolean() const;  // a Bool's value; false for other kinds
    // A Number written without fraction or exponent (`12`, `-0`), whether or not it fits in 64 bits.
    bool isIntegral() const;
    // A Number written without fraction or exponent that fits in an int64; nothing otherwise.
    std::optional<std::int64_t> integer() const;
    std::string_view string() const;  // a String's bytes (valid UTF-8); empty for other kinds
    std::size_t size() const;         // items of an Array, members of an Object; 0 otherwise
    Range items() const;              // of an Array or an Object (then each item has a key()); empty otherwise
    std::string_view key() const;     // the member name of a value inside an object; empty otherwise
    std::optional<Value> find(std::string_view key) const;  // the member named `key` of an Object
    std::size_t offset() const;                             // the byte where the value begins in the document

private:
    friend class Document;
    Value(const Document* doc, std::uint32_t index) : doc_(doc), index_(index) {}
    static std::uint32_t next(const Document* doc, std::uint32_t index);
    const Document* doc_;
    std::uint32_t index_;
};

// A parsed document: its values in one array, in document order (a container is followed by its contents).
class Document {
public:
    // Parses `text` as exactly one JSON value, replacing what the document held. On failure returns false, leaves the
    // document empty and sets `error` to "byte N: expected X, found Y" (or a limit that was exceeded).
    bool parse(std::string_view text, std::string& error, const ReaderLimits& limits = {});

    // The top value. INVARIANT: the last parse succeeded.
    Value root() const { return Value(this, 0); }

private:
    friend class Value;
    friend class Parser;
    static constexpr std::uint32_t kEnd = 0xFFFFFFFFu;

    struct Node {
        Kind kind = Kind::Null;
        bool boolean = false;
        bool integral = false;      // Number: no fraction or exponent
        bool fits = false;          // Number: integral and within int64
        std::uint32_t next = kEnd;  // the next item of the same container
        std::uint32_t count = 0;    // items or members; the first one is the next node
        std::uint32_t text = 0;     // String: its bytes in `pool_`
        std::uint32_t length = 0;
        std::uint32_t key = 0;  // the member name, in `pool_`, inside an object
        std::uint32_t keyLength = 0;
        std::uint32_t offset = 0;  // in the document
        std::int64_t integer = 0;
    };

    std::vector<Node> nodes_;
    std::string pool_;  // unescaped strings and keys
};

}  // namespace omega::policy::json
