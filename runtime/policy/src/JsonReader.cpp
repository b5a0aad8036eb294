// The strict JSON reader: an explicit stack of open containers instead of recursion, so no input can exhaust the
// machine stack; duplicate keys found by sorting an object's keys when it closes (no hash an attacker could flood).
#include "omega/policy/JsonReader.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace omega::policy::json {

void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::size_t utf8Length(std::string_view text, std::size_t at) {
    auto byte = [&](std::size_t i) -> unsigned {
        return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0u;
    };
    auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
        unsigned b = byte(i);
        return b >= lo && b <= hi;
    };
    if (at >= text.size()) return 0;
    unsigned c = byte(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

class Parser {
public:
    Parser(std::string_view text, Document& doc, const ReaderLimits& limits)
        : text_(text), nodes_(doc.nodes_), pool_(doc.pool_), limits_(limits) {}

    bool run(std::string& error) {
        // Offsets are 32 bits wide.
        const std::size_t limit =
            std::min<std::size_t>(limits_.maxBytes, std::numeric_limits<std::uint32_t>::max() - 1);
        if (text_.size() > limit) {
            error = "document of " + std::to_string(text_.size()) + " bytes; the limit is " + std::to_string(limit);
            return false;
        }
        bool ok = parse();
        if (!ok) error = error_;
        return ok;
    }

private:
    struct Key {
        std::uint32_t text, length;  // in the pool
        std::uint32_t at;            // in the document
    };
    struct Frame {
        std::uint32_t node;
        std::uint32_t last;
        std::vector<Key> keys;  // objects only
    };

    std::string_view text_;
    std::vector<Document::Node>& nodes_;
    std::string& pool_;
    const ReaderLimits& limits_;
    std::size_t pos_ = 0;
    std::vector<Frame> frames_;
    bool pendingKey_ = false;
    std::uint32_t keyOffset_ = 0, keyLength_ = 0;
    std::string error_;

    int peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1; }

    void skipSpace() {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    std::string found(std::size_t at) const {
        if (at >= text_.size()) return "the end of the input";
        unsigned char c = static_cast<unsigned char>(text_[at]);
        if (c > 0x20 && c < 0x7F) return std::string("`") + static_cast<char>(c) + "`";
        char buf[16];
        std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
        return buf;
    }

    bool fail(std::size_t at, const std::string& what) {
        error_ = "byte " + std::to_string(at) + ": " + what;
        return false;
    }
    bool expected(const std::string& what) { return fail(pos_, "expected " + what + ", found " + found(pos_)); }

    bool isObjectFrame() const { return !frames_.empty() && nodes_[frames_.back().node].kind == Kind::Object; }

    // Appends a node at the current position and links it into the open container.
    bool add(Kind kind, std::size_t offset) {
        Document::Node n;
        n.kind = kind;
        n.offset = static_cast<std::uint32_t>(offset);
        if (!frames_.empty()) {
            Frame& f = frames_.back();
            Document::Node& parent = nodes_[f.node];
            if (parent.count >= limits_.maxItems)
                return fail(offset, "more than " + std::to_string(limits_.maxItems) +
                                        (parent.kind == Kind::Object ? " members in an object" : " items in an array"));
            ++parent.count;
            if (pendingKey_) {
                n.key = keyOffset_;
                n.keyLength = keyLength_;
                pendingKey_ = false;
            }
            const auto index = static_cast<std::uint32_t>(nodes_.size());
            if (f.last != Document::kEnd) nodes_[f.last].next = index;
            f.last = index;
        }
        nodes_.push_back(n);
        return true;
    }

    static int hexDigit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // Four hex digits at `at`, or -1.
    long hex4(std::size_t at) const {
        if (at + 4 > text_.size()) return -1;
        long v = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            int d = hexDigit(text_[at + i]);
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        return v;
    }

    void appendUtf8(std::uint32_t cp) { json::appendUtf8(pool_, cp); }

    // A string at pos_ (which holds `"`), unescaped onto the pool.
    bool string(std::uint32_t& offset, std::uint32_t& length) {
        const std::size_t begin = pos_;
        const std::size_t start = pool_.size();
        ++pos_;
        for (;;) {
            if (pool_.size() - start > limits_.maxString)
                return fail(begin, "string longer than " + std::to_string(limits_.maxString) + " bytes");
            if (pos_ >= text_.size())
                return fail(pos_, "expected the closing `\"` of the string that begins at byte " +
                                      std::to_string(begin) + ", found the end of the input");
            unsigned char c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                break;
            }
            if (c < 0x20) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "control character 0x%02x in a string; escape it", c);
                return fail(pos_, buf);
            }
            if (c >= 0x80) {
                std::size_t n = utf8Length(text_, pos_);
                if (n == 0) return fail(pos_, "invalid UTF-8 in a string");
                pool_.append(text_.substr(pos_, n));
                pos_ += n;
                continue;
            }
            if (c != '\\') {
                pool_ += static_cast<char>(c);
                ++pos_;
                continue;
            }
            const std::size_t escape = pos_;
            ++pos_;
            char e = pos_ < text_.size() ? text_[pos_] : '\0';
            switch (e) {
                case '"': pool_ += '"'; break;
                case '\\': pool_ += '\\'; break;
                case '/': pool_ += '/'; break;
                case 'b': pool_ += '\b'; break;
                case 'f': pool_ += '\f'; break;
                case 'n': pool_ += '\n'; break;
                case 'r': pool_ += '\r'; break;
                case 't': pool_ += '\t'; break;
                case 'u': {
                    long cp = hex4(pos_ + 1);
                    if (cp < 0) return fail(escape, "expected 4 hex digits after `\\u`");
                    pos_ += 4;
                    if (cp >= 0xDC00 && cp <= 0xDFFF)
                        return fail(escape, "lone low surrogate `" + std::string(text_.substr(escape, 6)) + "`");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        long low = pos_ + 2 < text_.size() && text_[pos_ + 1] == '\\' && text_[pos_ + 2] == 'u'
                                       ? hex4(pos_ + 3)
                                       : -1;
                        if (low < 0xDC00 || low > 0xDFFF)
                            return fail(escape, "lone high surrogate `" + std::string(text_.substr(escape, 6)) +
                                                    "`; expected a `\\u` low surrogate after it");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        pos_ += 6;
                    }
                    appendUtf8(static_cast<std::uint32_t>(cp));
                    break;
                }
                default: return expected("an escape character after `\\`");
            }
            ++pos_;
        }
        if (pool_.size() - start > limits_.maxString)
            return fail(begin, "string longer than " + std::to_string(limits_.maxString) + " bytes");
        offset = static_cast<std::uint32_t>(start);
        length = static_cast<std::uint32_t>(pool_.size() - start);
        return true;
    }

    bool number() {
        const std::size_t begin = pos_;
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++pos_;
        }
        auto digit = [&] { return peek() >= '0' && peek() <= '9'; };
        if (!digit()) return expected("a digit");
        // The magnitude, saturated once it no longer fits: -2^63 is the only value whose magnitude is 2^63.
        std::uint64_t magnitude = 0;
        bool overflow = false;
        const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
        if (peek() == '0') {
            ++pos_;
        } else {
            while (digit()) {
                auto d = static_cast<std::uint64_t>(peek() - '0');
                if (magnitude > (limit - d) / 10) overflow = true;
                if (!overflow) magnitude = magnitude * 10 + d;
                ++pos_;
            }
        }
        bool integral = true;
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!digit()) return expected("a digit after `.`");
            while (digit()) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!digit()) return expected("a digit in the exponent");
            while (digit()) ++pos_;
        }
        if (!add(Kind::Number, begin)) return false;
        Document::Node& n = nodes_.back();
        n.integral = integral;
        n.fits = integral && !overflow;
        if (n.fits)
            n.integer = negative ? (magnitude == (std::uint64_t{1} << 63) ? std::numeric_limits<std::int64_t>::min()
                                                                          : -static_cast<std::int64_t>(magnitude))
                                 : static_cast<std::int64_t>(magnitude);
        return true;
    }

    bool literal(std::string_view word, Kind kind, bool value) {
        if (text_.substr(pos_, word.size()) != word) return expected("a value");
        if (!add(kind, pos_)) return false;
        nodes_.back().boolean = value;
        pos_ += word.size();
        return true;
    }

    // A member name and its colon, at pos_ after skipping space.
    bool memberKey(const char* expectation) {
        skipSpace();
        if (peek() != '"') return expected(expectation);
        const std::size_t at = pos_;
        std::uint32_t offset = 0, length = 0;
        if (!string(offset, length)) return false;
        frames_.back().keys.push_back(Key{offset, length, static_cast<std::uint32_t>(at)});
        skipSpace();
        if (peek() != ':') return expected("`:` after the key");
        ++pos_;
        pendingKey_ = true;
        keyOffset_ = offset;
        keyLength_ = length;
        return true;
    }

    // Fails at the first repeated key in document order.
    bool uniqueKeys(std::vector<Key>& keys) {
        const std::string_view pool(pool_);
        auto text = [&](const Key& k) { return pool.substr(k.text, k.length); };
        std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
            int c = text(a).compare(text(b));
            return c != 0 ? c < 0 : a.at < b.at;
        });
        const Key* first = nullptr;
        for (std::size_t i = 1; i < keys.size(); ++i)
            if (text(keys[i]) == text(keys[i - 1]) && (!first || keys[i].at < first->at)) first = &keys[i];
        if (!first) return true;
        return fail(first->at, "duplicate key `" + std::string(text(*first)) + "`");
    }

    bool open(Kind kind) {
        if (frames_.size() >= limits_.maxDepth)
            return fail(pos_, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
        if (!add(kind, pos_)) return false;
        const auto index = static_cast<std::uint32_t>(nodes_.size() - 1);
        frames_.push_back(Frame{index, Document::kEnd, {}});
        ++pos_;
        return true;
    }

    bool parse() {
        bool wantValue = true;  // else: a value (or an empty container) just ended
        for (;;) {
            if (wantValue) {
                skipSpace();
                switch (peek()) {
                    case '{':
                    case '[': {
                        const bool object = peek() == '{';
                        if (!open(object ? Kind::Object : Kind::Array)) return false;
                        skipSpace();
                        if (peek() == (object ? '}' : ']')) {
                            ++pos_;
                            frames_.pop_back();  // empty: no keys to compare
                            wantValue = false;
                            continue;
                        }
                        if (object && !memberKey("a string key or `}`")) return false;
                        continue;
                    }
                    case '"': {
                        const std::size_t at = pos_;
                        std::uint32_t offset = 0, length = 0;
                        if (!string(offset, length)) return false;
                        if (!add(Kind::String, at)) return false;
                        nodes_.back().text = offset;
                        nodes_.back().length = length;
                        break;
                    }
                    case 't':
                        if (!literal("true", Kind::Bool, true)) return false;
                        break;
                    case 'f':
                        if (!literal("false", Kind::Bool, false)) return false;
                        break;
                    case 'n':
                        if (!literal("null", Kind::Null, false)) return false;
                        break;
                    default:
                        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
                            if (!number()) return false;
                            break;
                        }
                        return expected("a value");
                }
                wantValue = false;
                continue;
            }
            skipSpace();
            if (frames_.empty()) {
                if (pos_ != text_.size()) return expected("the end of the input");
                return true;
            }
            const bool object = isObjectFrame();
            if (peek() == ',') {
                ++pos_;
                if (object && !memberKey("a string key")) return false;
                wantValue = true;
            } else if (peek() == (object ? '}' : ']')) {
                ++pos_;
                if (object && !uniqueKeys(frames_.back().keys)) return false;
                frames_.pop_back();
            } else {
                return expected(object ? "`,` or `}`" : "`,` or `]`");
            }
        }
    }
};

bool Document::parse(std::string_view text, std::string& error, const ReaderLimits& limits) {
    nodes_.clear();
    pool_.clear();
    Parser p(text, *this, limits);
    if (p.run(error)) return true;
    nodes_.clear();
    pool_.clear();
    return false;
}

std::uint32_t Value::next(const Document* doc, std::uint32_t index) {
    return doc->nodes_[index].next;
}

Value::Iterator& Value::Iterator::operator++() {
    index_ = next(doc_, index_);
    return *this;
}

Kind Value::kind() const {
    return doc_->nodes_[index_].kind;
}

bool Value::boolean() const {
    return doc_->nodes_[index_].kind == Kind::Bool && doc_->nodes_[index_].boolean;
}

bool Value::isIntegral() const {
    return doc_->nodes_[index_].kind == Kind::Number && doc_->nodes_[index_].integral;
}

std::optional<std::int64_t> Value::integer() const {
    const Document::Node& n = doc_->nodes_[index_];
    if (n.kind != Kind::Number || !n.fits) return std::nullopt;
    return n.integer;
}

std::string_view Value::string() const {
    const Document::Node& n = doc_->nodes_[index_];
    if (n.kind != Kind::String) return {};
    return std::string_view(doc_->pool_).substr(n.text, n.length);
}

std::size_t Value::size() const {
    const Document::Node& n = doc_->nodes_[index_];
    return n.kind == Kind::Array || n.kind == Kind::Object ? n.count : 0;
}

Value::Range Value::items() const {
    const Iterator end(doc_, Document::kEnd);
    if (size() == 0) return {end, end};
    return {Iterator(doc_, index_ + 1), end};
}

std::string_view Value::key() const {
    const Document::Node& n = doc_->nodes_[index_];
    return std::string_view(doc_->pool_).substr(n.key, n.keyLength);
}

std::optional<Value> Value::find(std::string_view name) const {
    if (!isObject()) return std::nullopt;
    for (Value v : items())
        if (v.key() == name) return v;
    return std::nullopt;
}

std::size_t Value::offset() const {
    return doc_->nodes_[index_].offset;
}

}  // namespace omega::policy::json
