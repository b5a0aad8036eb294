// The YAML subset reader (Yaml.h): lines are split and their indentation measured first, then a recursive descent
// over (line, column) positions builds the nodes. Inside this file a failure unwinds as a Failure exception, caught
// at parse(): nothing is thrown out of it.
#include "omega/omegad/Yaml.h"

#include "omega/policy/JsonReader.h"

#include <charconv>
#include <limits>

namespace omega::omegad::yaml {

const Node* Node::find(std::string_view key) const {
    for (const auto& [k, v] : members)
        if (k.text == key) return &v;
    return nullptr;
}

std::string where(const Mark& mark) {
    return std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

std::optional<std::int64_t> integerOf(const Node& node) {
    if (!node.isScalar() || node.quoted || node.text.empty()) return std::nullopt;
    const std::string& t = node.text;
    const std::size_t digits = t[0] == '-' ? 1 : 0;
    if (digits == t.size()) return std::nullopt;
    for (std::size_t i = digits; i < t.size(); ++i)
        if (t[i] < '0' || t[i] > '9') return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
    return value;
}

std::optional<bool> booleanOf(const Node& node) {
    if (!node.isScalar() || node.quoted) return std::nullopt;
    if (node.text == "true") return true;
    if (node.text == "false") return false;
    return std::nullopt;
}

namespace {

struct Failure {
    Mark mark;
    std::string message;
};

struct Line {
    std::uint32_t number = 0;  // 1-based
    std::string_view text;     // without the line break
    std::size_t indent = 0;    // leading spaces
};

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

std::string quote(std::string_view text) {
    std::string out = "`";
    for (char c : text.substr(0, 40)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
    if (text.size() > 40) out += "...";
    return out + "`";
}

class Parser {
public:
    explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

    Node document() {
        if (lines_.empty()) throw Failure{{1, 1}, "the document is empty"};
        std::size_t li = 0;
        Node root = node(li, lines_[0].indent, 0);
        if (li < lines_.size())
            throw Failure{mark(li, lines_[li].indent), "unexpected content after the document's top-level node"};
        return root;
    }

private:
    Mark mark(std::size_t li, std::size_t col) const {
        return {lines_[li].number, static_cast<std::uint32_t>(col + 1)};
    }
    std::string_view text(std::size_t li) const { return lines_[li].text; }

    std::size_t skipBlanks(std::size_t li, std::size_t col) const {
        const std::string_view t = text(li);
        while (col < t.size() && isBlank(t[col])) ++col;
        return col;
    }
    // The rest of the line is empty or a comment. A `#` starts a comment only after a blank (or at the start).
    bool restIsEmpty(std::size_t li, std::size_t col) const {
        const std::string_view t = text(li);
        const std::size_t at = skipBlanks(li, col);
        if (at == t.size()) return true;
        return t[at] == '#' && (at == 0 || isBlank(t[at - 1]));
    }
    void expectLineEnd(std::size_t li, std::size_t col) const {
        if (restIsEmpty(li, col)) return;
        const std::size_t at = skipBlanks(li, col);
        if (text(li)[at] == '#') throw Failure{mark(li, at), "a comment must be separated from the value by a space"};
        throw Failure{mark(li, at), "unexpected " + quote(text(li).substr(at)) + " after the value"};
    }
    bool dashAt(std::size_t li, std::size_t col) const {
        const std::string_view t = text(li);
        return col < t.size() && t[col] == '-' && (col + 1 == t.size() || isBlank(t[col + 1]));
    }
    void checkDepth(std::size_t depth, std::size_t li, std::size_t col) const {
        if (depth >= kMaxDepth)
            throw Failure{mark(li, col), "nesting deeper than " + std::to_string(kMaxDepth) + " levels"};
    }

    // Characters that cannot begin a plain scalar; each gets a message saying what YAML feature it would start.
    void checkStart(std::size_t li, std::size_t col, bool flow) const {
        const char c = text(li)[col];
        const Mark m = mark(li, col);
        switch (c) {
            case '{': throw Failure{m, "flow mappings (`{...}`) are not supported; use a block mapping"};
            case '&': throw Failure{m, "anchors (`&`) are not supported"};
            case '*': throw Failure{m, "aliases (`*`) are not supported"};
            case '!': throw Failure{m, "tags (`!`) are not supported"};
            case '|':
            case '>': throw Failure{m, "block scalars (`|`, `>`) are not supported; use a quoted string"};
            case '%': throw Failure{m, "directives (`%`) are not supported"};
            case '@':
            case '`': throw Failure{m, quote(std::string_view(&c, 1)) + " cannot start a plain scalar; quote it"};
            case ']':
            case '}':
            case ',':
                throw Failure{m, "unexpected " + quote(std::string_view(&c, 1)) +
                                     (flow ? "" : "; quote a scalar that starts with it")};
            default: break;
        }
        const bool blankNext = col + 1 == text(li).size() || isBlank(text(li)[col + 1]);
        if (c == '?' && blankNext) throw Failure{m, "complex keys (`? `) are not supported"};
        if (c == ':' && blankNext) throw Failure{m, "a mapping key is missing"};
        if (c == '-' && blankNext) throw Failure{m, "a block sequence entry is not allowed here"};
    }

    Node quoted(std::size_t li, std::size_t& col) const {
        const std::string_view t = text(li);
        const char q = t[col];
        Node n;
        n.mark = mark(li, col);
        n.quoted = true;
        std::size_t i = col + 1;
        for (;;) {
            if (i >= t.size())
                throw Failure{n.mark, "unterminated quoted scalar (a quoted scalar must end on its line)"};
            const char c = t[i];
            if (q == '\'') {
                if (c == '\'') {
                    if (i + 1 < t.size() && t[i + 1] == '\'') {
                        n.text += '\'';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                n.text += c;
                ++i;
                continue;
            }
            if (c == '"') {
                ++i;
                break;
            }
            if (c != '\\') {
                n.text += c;
                ++i;
                continue;
            }
            if (i + 1 >= t.size()) throw Failure{mark(li, i), "an escape at the end of the line"};
            const char e = t[i + 1];
            i += 2;
            switch (e) {
                case '\\': n.text += '\\'; break;
                case '"': n.text += '"'; break;
                case '/': n.text += '/'; break;
                case '0': n.text += '\0'; break;
                case 'a': n.text += '\a'; break;
                case 'b': n.text += '\b'; break;
                case 't': n.text += '\t'; break;
                case 'n': n.text += '\n'; break;
                case 'r': n.text += '\r'; break;
                case 'e': n.text += '\x1b'; break;
                case ' ': n.text += ' '; break;
                case 'x':
                case 'u':
                case 'U': {
                    const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    std::uint32_t cp = 0;
                    for (std::size_t k = 0; k < digits; ++k, ++i) {
                        const char h = i < t.size() ? t[i] : '\0';
                        int d = -1;
                        if (h >= '0' && h <= '9') d = h - '0';
                        if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
                        if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
                        if (d < 0)
                            throw Failure{mark(li, i), "`\\" + std::string(1, e) + "` needs " + std::to_string(digits) +
                                                           " hex digits"};
                        cp = cp * 16 + static_cast<std::uint32_t>(d);
                    }
                    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        throw Failure{mark(li, i - digits - 2), "the escape is not a Unicode scalar value"};
                    policy::json::appendUtf8(n.text, cp);
                    break;
                }
                default: throw Failure{mark(li, i - 2), "unknown escape " + quote(std::string("\\") + e)};
            }
        }
        col = i;
        return n;
    }

    // A plain scalar from `col`: up to the end of the line, a comment, a `: ` (the end of a key) and, in a flow
    // sequence, a `,` or bracket. Trailing blanks are not part of it.
    Node plain(std::size_t li, std::size_t& col, bool flow) const {
        checkStart(li, col, flow);
        const std::string_view t = text(li);
        Node n;
        n.mark = mark(li, col);
        std::size_t i = col;
        while (i < t.size()) {
            const char c = t[i];
            if (c == ':' && (i + 1 == t.size() || isBlank(t[i + 1]) || (flow && (t[i + 1] == ',' || t[i + 1] == ']'))))
                break;
            if (c == '#' && i > col && isBlank(t[i - 1])) break;
            if (flow && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')) break;
            ++i;
        }
        std::size_t end = i;
        while (end > col && isBlank(t[end - 1])) --end;
        n.text = std::string(t.substr(col, end - col));
        col = i;
        return n;
    }

    Node scalar(std::size_t li, std::size_t& col, bool flow) const {
        const char c = text(li)[col];
        return (c == '"' || c == '\'') ? quoted(li, col) : plain(li, col, flow);
    }

    Node flowSequence(std::size_t li, std::size_t& col, std::size_t depth) const {
        checkDepth(depth, li, col);
        Node seq;
        seq.kind = Node::Kind::Sequence;
        seq.mark = mark(li, col);
        const std::string_view t = text(li);
        std::size_t i = skipBlanks(li, col + 1);
        auto unterminated = [&] {
            return Failure{seq.mark, "unterminated flow sequence (a flow sequence must end on its line)"};
        };
        if (i < t.size() && t[i] == ']') {
            col = i + 1;
            return seq;
        }
        for (;;) {
            if (i >= t.size() || (t[i] == '#' && isBlank(t[i - 1]))) throw unterminated();
            if (t[i] == '[') {
                seq.items.push_back(flowSequence(li, i, depth + 1));
            } else {
                Node item = scalar(li, i, true);
                if (!item.quoted && item.text.empty()) throw Failure{item.mark, "an empty item in a flow sequence"};
                seq.items.push_back(std::move(item));
            }
            i = skipBlanks(li, i);
            if (i >= t.size()) throw unterminated();
            if (t[i] == ']') {
                col = i + 1;
                return seq;
            }
            if (t[i] != ',') {
                if (t[i] == ':') throw Failure{mark(li, i), "flow mappings are not supported; use a block mapping"};
                throw Failure{mark(li, i), "expected `,` or `]` in a flow sequence, found " + quote(t.substr(i, 1))};
            }
            i = skipBlanks(li, i + 1);
            if (i < t.size() && t[i] == ']') throw Failure{mark(li, i), "a trailing `,` in a flow sequence"};
        }
    }

    // A value on the line of its key: a scalar or a flow sequence, and nothing else on the line.
    Node inlineValue(std::size_t& li, std::size_t col, std::size_t depth) const {
        Node v;
        if (text(li)[col] == '[') {
            v = flowSequence(li, col, depth + 1);
        } else {
            if (dashAt(li, col)) throw Failure{mark(li, col), "a block sequence cannot start on the line of its key"};
            v = scalar(li, col, false);
            const std::size_t at = skipBlanks(li, col);
            if (at < text(li).size() && text(li)[at] == ':')
                throw Failure{mark(li, at), "a mapping cannot start on the line of its key"};
        }
        expectLineEnd(li, col);
        ++li;
        return v;
    }

    // The node that begins at line `li`, column `col`; a block node there has indentation `col`.
    Node node(std::size_t& li, std::size_t col, std::size_t depth) const {
        checkDepth(depth, li, col);
        const std::string_view t = text(li);
        if (dashAt(li, col)) return sequence(li, col, depth);
        if (t[col] == '[') {
            Node v = flowSequence(li, col, depth);
            expectLineEnd(li, col);
            ++li;
            return v;
        }
        std::size_t after = col;
        Node s = scalar(li, after, false);
        const std::size_t at = skipBlanks(li, after);
        if (at < t.size() && t[at] == ':' && (at + 1 == t.size() || isBlank(t[at + 1]))) return mapping(li, col, depth);
        expectLineEnd(li, after);
        ++li;
        return s;
    }

    // A block value that follows a `key:` or `-` alone on its line: more indented than `parent` (or, for a
    // mapping's value, a sequence at the same indentation, as YAML allows).
    Node nested(std::size_t& li, std::size_t parent, bool sequenceAtSameIndent, const Mark& owner,
                const std::string& what, std::size_t depth) const {
        if (li < lines_.size() && lines_[li].indent > parent) return node(li, lines_[li].indent, depth + 1);
        if (sequenceAtSameIndent && li < lines_.size() && lines_[li].indent == parent && dashAt(li, parent))
            return sequence(li, parent, depth + 1);
        throw Failure{owner, what};
    }

    Node mapping(std::size_t& li, std::size_t indent, std::size_t depth) const {
        Node map;
        map.kind = Node::Kind::Mapping;
        map.mark = mark(li, indent);
        for (bool first = true;; first = false) {
            if (!first) {
                if (li >= lines_.size() || lines_[li].indent < indent) break;
                if (lines_[li].indent > indent)
                    throw Failure{mark(li, lines_[li].indent), "bad indentation: expected " + std::to_string(indent) +
                                                                   " spaces, like the keys above"};
                if (dashAt(li, indent)) {
                    throw Failure{mark(li, indent), "a sequence entry where a key of the mapping at line " +
                                                        std::to_string(map.mark.line) + " was expected"};
                }
            }
            const std::string_view t = text(li);
            std::size_t col = indent;
            if (t[col] == '[') throw Failure{mark(li, col), "a mapping key must be a scalar"};
            Node key = scalar(li, col, false);
            col = skipBlanks(li, col);
            if (col >= t.size() || t[col] != ':' || (col + 1 < t.size() && !isBlank(t[col + 1])))
                throw Failure{mark(li, col < t.size() ? col : t.size()),
                              "expected `:` after the key " + quote(key.text)};
            for (const auto& [k, v] : map.members)
                if (k.text == key.text)
                    throw Failure{key.mark, "duplicate key " + quote(key.text) + " (first at " + where(k.mark) + ")"};
            Node value;
            if (restIsEmpty(li, col + 1)) {
                ++li;
                value = nested(li, indent, true, key.mark, "the key " + quote(key.text) + " has no value", depth);
            } else {
                value = inlineValue(li, skipBlanks(li, col + 1), depth);
            }
            map.members.push_back({std::move(key), std::move(value)});
        }
        return map;
    }

    Node sequence(std::size_t& li, std::size_t indent, std::size_t depth) const {
        Node seq;
        seq.kind = Node::Kind::Sequence;
        seq.mark = mark(li, indent);
        for (bool first = true;; first = false) {
            if (!first) {
                if (li >= lines_.size() || lines_[li].indent < indent) break;
                if (lines_[li].indent > indent)
                    throw Failure{mark(li, lines_[li].indent), "bad indentation: expected " + std::to_string(indent) +
                                                                   " spaces, like the `-` above"};
                if (!dashAt(li, indent)) break;  // the parent mapping's next key
            }
            const Mark dash = mark(li, indent);
            if (restIsEmpty(li, indent + 1)) {
                ++li;
                seq.items.push_back(nested(li, indent, false, dash, "an empty sequence entry", depth));
            } else {
                seq.items.push_back(node(li, skipBlanks(li, indent + 1), depth + 1));
            }
        }
        return seq;
    }

    std::vector<Line> lines_;
};

// Splits the text into lines with content, checks bytes and indentation, and drops blank and comment lines and a
// leading `---`.
std::vector<Line> splitLines(std::string_view text) {
    std::vector<Line> lines;
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a byte-order mark
    std::uint32_t number = 0;
    bool content = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view t = text.substr(start, end - start);
        ++number;
        if (!t.empty() && t.back() == '\r') t.remove_suffix(1);
        for (std::size_t i = 0; i < t.size();) {
            const unsigned char c = static_cast<unsigned char>(t[i]);
            if (c == '\t' || c >= 0x20) {
                const std::size_t n = policy::json::utf8Length(t, i);
                if (n == 0 || c == 0x7F)
                    throw Failure{{number, static_cast<std::uint32_t>(i + 1)}, "invalid UTF-8 or a control character"};
                i += n;
                continue;
            }
            throw Failure{{number, static_cast<std::uint32_t>(i + 1)},
                          c == '\r' ? "a carriage return inside a line" : "a control character"};
        }
        std::size_t indent = 0;
        while (indent < t.size() && t[indent] == ' ') ++indent;
        std::size_t at = indent;
        while (at < t.size() && isBlank(t[at])) ++at;
        const bool empty = at == t.size() || t[at] == '#';
        if (!empty && at != indent)
            throw Failure{{number, static_cast<std::uint32_t>(indent + 1)}, "tabs are not allowed in indentation"};
        if (!empty) {
            const std::string_view rest = t.substr(indent);
            const bool marker = indent == 0 && rest.substr(0, 3) == "---" && (rest.size() == 3 || isBlank(rest[3]));
            const bool endMarker = indent == 0 && rest.substr(0, 3) == "..." && (rest.size() == 3 || isBlank(rest[3]));
            if (endMarker) throw Failure{{number, 1}, "document end markers (`...`) are not supported"};
            if (marker) {
                if (content) throw Failure{{number, 1}, "only one document is supported"};
                if (rest.size() > 3) {
                    const std::size_t after = rest.find_first_not_of(" \t", 3);
                    if (after != std::string_view::npos && rest[after] != '#')
                        throw Failure{{number, static_cast<std::uint32_t>(after + 1)},
                                      "content on the `---` line is not supported"};
                }
            } else {
                lines.push_back({number, t, indent});
            }
            content = true;
        }
        if (end == text.size()) break;
        start = end + 1;
    }
    return lines;
}

}  // namespace

bundle::Result<Node> parse(std::string_view text) {
    if (text.size() > kMaxBytes)
        return bundle::Error{"1:1: the document is larger than " + std::to_string(kMaxBytes) + " bytes"};
    try {
        return Parser(splitLines(text)).document();
    } catch (const Failure& f) {
        return bundle::Error{where(f.mark) + ": " + f.message};
    }
}

}  // namespace omega::omegad::yaml
