// The pure HTTP/1.1 parsers of omega_gate_http: header fields, request and response heads with their framing, the
// chunked transfer coding, and http:// URLs. No sockets here, so that all of it can be unit-tested and fuzzed.
#include "omega/gate/Http.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

namespace omega::gate::http {

namespace {

constexpr std::string_view kCrlf = "\r\n";

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 9110 tchar.
constexpr std::array<bool, 256> kToken = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

bool isToken(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!kToken[static_cast<unsigned char>(c)]) return false;
    return true;
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Peer bytes quoted in an error message: bounded, and nothing that could upset a terminal or a log line.
std::string quote(std::string_view s) {
    constexpr std::size_t kMax = 48;
    std::string out = "`";
    for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        out += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
    }
    if (s.size() > kMax) out += "...";
    return out + "`";
}

// Calls f on each non-empty, OWS-trimmed element of a comma-separated list (RFC 9110 #rule).
template <typename F>
void eachElement(std::string_view list, F&& f) {
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view item = trimOws(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) return;
        list.remove_prefix(comma + 1);
    }
}

// Splits the header lines after the start line into fields. `lines` holds whole lines, each ending in CRLF, without
// the blank line.
Result<bool> parseFields(std::string_view lines, Headers& out) {
    while (!lines.empty()) {
        const std::size_t eol = lines.find(kCrlf);
        if (eol == std::string_view::npos) return Error{"a header line does not end with CRLF"};
        const std::string_view line = lines.substr(0, eol);
        lines.remove_prefix(eol + 2);
        if (line.front() == ' ' || line.front() == '\t')
            return Error{"a header line starts with whitespace (obsolete line folding is not accepted)"};
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return Error{"header line " + quote(line) + " has no colon"};
        const std::string_view name = line.substr(0, colon);
        if (!detail::validHeaderName(name)) return Error{"invalid header name " + quote(name)};
        const std::string_view value = trimOws(line.substr(colon + 1));
        if (!detail::validHeaderValue(value)) return Error{"header " + quote(name) + " has an invalid value"};
        out.push_back({std::string(name), std::string(value)});
    }
    return true;
}

// "HTTP/1.x": 0 or 1 as the minor version (any 1.x above 1.0 is spoken as 1.1); -1 malformed; -2 another major.
int parseVersion(std::string_view v) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7])) return -1;
    if (v[5] != '1') return -2;
    return v[7] == '0' ? 0 : 1;
}

// Content-Length: digits only; repeated (in several fields or a list) only with one value.
Result<std::uint64_t> contentLength(const Headers& headers, bool& present) {
    std::uint64_t length = 0;
    present = false;
    for (const Header& h : headers) {
        if (!equalsNoCase(h.name, "content-length")) continue;
        bool bad = false;
        bool any = false;
        eachElement(h.value, [&](std::string_view item) {
            std::uint64_t v = 0;
            for (char c : item) {
                if (!isDigit(c) || v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
                    bad = true;
                    return;
                }
                v = v * 10 + static_cast<std::uint64_t>(c - '0');
            }
            if (present && v != length) bad = true;
            present = any = true;
            length = v;
        });
        if (bad || !any) return Error{"invalid or conflicting content-length " + quote(h.value)};
    }
    return length;
}

// Transfer-Encoding: the codings of all its fields, in order. Only `chunked` alone is supported.
enum class Coding { Absent, Chunked, Empty, Unsupported };
Coding transferCoding(const Headers& headers, std::string& text) {
    bool present = false;
    std::size_t count = 0;
    bool chunked = false;
    for (const Header& h : headers) {
        if (!equalsNoCase(h.name, "transfer-encoding")) continue;
        present = true;
        if (!text.empty()) text += ", ";
        text += h.value;
        eachElement(h.value, [&](std::string_view item) {
            ++count;
            chunked = equalsNoCase(item, "chunked");
        });
    }
    if (!present) return Coding::Absent;
    if (count == 0) return Coding::Empty;
    return count == 1 && chunked ? Coding::Chunked : Coding::Unsupported;
}

// The Connection field's options: close, keep-alive.
void connectionOptions(const Headers& headers, bool& close, bool& keepAlive) {
    close = keepAlive = false;
    for (const Header& h : headers) {
        if (!equalsNoCase(h.name, "connection")) continue;
        eachElement(h.value, [&](std::string_view item) {
            if (equalsNoCase(item, "close")) close = true;
            if (equalsNoCase(item, "keep-alive")) keepAlive = true;
        });
    }
}

detail::ParsedRequest refuse(int status, std::string error) {
    detail::ParsedRequest r;
    r.status = status;
    r.error = std::move(error);
    return r;
}

}  // namespace

std::optional<std::string_view> find(const Headers& headers, std::string_view name) {
    for (const Header& h : headers)
        if (equalsNoCase(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
}

std::string_view reasonPhrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

// ---- URLs ----

Result<Url> Url::parse(std::string_view text) {
    constexpr std::size_t kMaxUrl = 8192;
    if (text.size() > kMaxUrl) return Error{"a URL longer than " + std::to_string(kMaxUrl) + " bytes"};
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos) return Error{"URL " + quote(text) + " has no scheme (expected http://)"};
    const std::string_view scheme = text.substr(0, sep);
    if (equalsNoCase(scheme, "https"))
        return Error{"https is not supported (URL " + quote(text) + "): the gateway speaks plain HTTP only"};
    if (!equalsNoCase(scheme, "http")) return Error{"unsupported scheme " + quote(scheme) + " (expected http://)"};
    std::string_view rest = text.substr(sep + 3);
    const std::size_t authorityEnd = std::min(rest.find_first_of("/?#"), rest.size());
    const std::string_view authority = rest.substr(0, authorityEnd);
    rest.remove_prefix(authorityEnd);
    if (authority.find('@') != std::string_view::npos)
        return Error{"credentials in a URL are not supported (URL " + quote(text) + ")"};

    Url url;
    std::string_view portText;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return Error{"unterminated IPv6 address in URL " + quote(text)};
        url.host = std::string(authority.substr(1, close - 1));
        for (char c : url.host)
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
                return Error{"invalid IPv6 address in URL " + quote(text)};
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') return Error{"unexpected text after `]` in URL " + quote(text)};
        if (!after.empty()) portText = after.substr(1);
    } else {
        const std::size_t colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
        for (char c : url.host)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' && c != '~')
                return Error{"invalid host name in URL " + quote(text)};
    }
    if (url.host.empty()) return Error{"URL " + quote(text) + " has no host"};
    if (!portText.empty()) {
        std::uint32_t port = 0;
        for (char c : portText) {
            if (!isDigit(c) || port > 65535) return Error{"invalid port in URL " + quote(text)};
            port = port * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (port == 0 || port > 65535) return Error{"invalid port in URL " + quote(text)};
        url.port = static_cast<std::uint16_t>(port);
    }
    rest = rest.substr(0, rest.find('#'));
    url.path = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
    for (char c : url.path)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
            return Error{"URL " + quote(text) +
                         " has a character that cannot be sent in a request (percent-encode it)"};
    return url;
}

std::string Url::hostHeader() const {
    std::string h = host.find(':') == std::string::npos ? host : "[" + host + "]";
    if (port != 80) h += ":" + std::to_string(port);
    return h;
}

std::string Url::origin() const {
    return "http://" + (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" + std::to_string(port);
}

namespace detail {

bool validHeaderName(std::string_view name) {
    return isToken(name);
}

bool validHeaderValue(std::string_view value) {
    for (char ch : value) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
    }
    return true;
}

std::size_t findHeadEnd(std::string_view buffer, std::size_t from) {
    const std::size_t at = buffer.find("\r\n\r\n", from);
    return at == std::string_view::npos ? at : at + 4;
}

ParsedRequest parseRequestHead(std::string_view head) {
    if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n")
        return refuse(400, "the request head does not end with a blank line");
    const std::size_t eol = head.find(kCrlf);
    const std::string_view line = head.substr(0, eol);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return refuse(400, "malformed request line " + quote(line));
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!isToken(method)) return refuse(400, "invalid method " + quote(method));
    if (target.empty()) return refuse(400, "empty request target");
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
            return refuse(400, "invalid character in request target " + quote(target));
    const int minor = parseVersion(version);
    if (minor == -1) return refuse(400, "malformed HTTP version " + quote(version));
    if (minor == -2) return refuse(505, "HTTP version " + quote(version) + " is not supported (HTTP/1.1 is)");

    ParsedRequest r;
    RequestHead& h = r.head;
    h.http10 = minor == 0;
    if (auto fields = parseFields(head.substr(eol + 2, head.size() - eol - 4), h.headers); !fields)
        return refuse(400, fields.error());

    std::size_t hosts = 0;
    for (const Header& f : h.headers) hosts += equalsNoCase(f.name, "host") ? 1 : 0;
    if (hosts > 1) return refuse(400, "more than one host header");
    if (hosts == 0 && !h.http10) return refuse(400, "an HTTP/1.1 request without a host header");

    bool hasLength = false;
    auto length = contentLength(h.headers, hasLength);
    if (!length) return refuse(400, length.error());
    std::string codings;
    switch (transferCoding(h.headers, codings)) {
        case Coding::Absent: break;
        case Coding::Empty: return refuse(400, "an empty transfer-encoding");
        case Coding::Unsupported: return refuse(501, "transfer-encoding " + quote(codings) + " is not supported");
        case Coding::Chunked:
            // Both framings at once is the classic request-smuggling shape; HTTP/1.0 has no transfer codings.
            if (hasLength) return refuse(400, "both content-length and transfer-encoding");
            if (h.http10) return refuse(400, "transfer-encoding in an HTTP/1.0 request");
            h.body = Body::Chunked;
            break;
    }
    if (hasLength) {
        h.length = *length;
        h.body = *length > 0 ? Body::Length : Body::None;
    }

    bool close = false;
    bool keepAlive = false;
    connectionOptions(h.headers, close, keepAlive);
    h.keepAlive = !close && (!h.http10 || keepAlive);
    if (auto expect = find(h.headers, "expect")) {
        if (!equalsNoCase(*expect, "100-continue")) return refuse(417, "expectation " + quote(*expect) + " unknown");
        h.expectContinue = !h.http10;
    }
    h.method = std::string(method);
    h.target = std::string(target);
    return r;
}

Result<ParsedResponse> parseResponseHead(std::string_view head, bool headRequest) {
    if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n")
        return Error{"the response head does not end with a blank line"};
    const std::size_t eol = head.find(kCrlf);
    const std::string_view line = head.substr(0, eol);
    // "HTTP/1.1 200 OK"; a missing reason (and even its space) is tolerated, as browsers do.
    const int minor = line.size() >= 12 ? parseVersion(line.substr(0, 8)) : -1;
    if (minor < 0 || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
        (line.size() > 12 && line[12] != ' '))
        return Error{"malformed status line " + quote(line)};
    ParsedResponse r;
    r.http10 = minor == 0;
    r.head.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (r.head.status < 100) return Error{"malformed status line " + quote(line)};
    const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
    if (!validHeaderValue(reason)) return Error{"malformed status line " + quote(line)};
    r.head.reason = std::string(reason);
    if (auto fields = parseFields(head.substr(eol + 2, head.size() - eol - 4), r.head.headers); !fields)
        return Error{"response: " + fields.error()};

    bool close = false;
    bool keepAlive = false;
    connectionOptions(r.head.headers, close, keepAlive);
    r.keepAlive = !close && (!r.http10 || keepAlive);
    const int status = r.head.status;
    if (headRequest || status < 200 || status == 204 || status == 304) {
        r.body = Body::None;
        return r;
    }
    bool hasLength = false;
    auto length = contentLength(r.head.headers, hasLength);
    if (!length) return Error{"response: " + length.error()};
    std::string codings;
    switch (transferCoding(r.head.headers, codings)) {
        case Coding::Absent: break;
        case Coding::Empty: return Error{"response: an empty transfer-encoding"};
        case Coding::Unsupported: return Error{"response: transfer-encoding " + quote(codings) + " is not supported"};
        case Coding::Chunked:
            if (hasLength || r.http10)
                return Error{
                    "response: ambiguous framing (transfer-encoding with content-length"
                    " or in HTTP/1.0)"};
            r.body = Body::Chunked;
            return r;
    }
    if (hasLength) {
        r.body = Body::Length;
        r.length = *length;
    } else {
        r.body = Body::UntilClose;
        r.keepAlive = false;
    }
    return r;
}

// ---- the chunked transfer coding ----

ChunkedDecoder::ChunkedDecoder(std::size_t maxLineBytes, std::size_t maxTrailerBytes)
    : maxLine_(maxLineBytes), maxTrailer_(maxTrailerBytes) {}

Result<std::size_t> ChunkedDecoder::feed(std::string_view in, const std::function<bool(std::string_view)>& onData) {
    if (state_ == State::Failed) return Error{error_};
    auto fail = [this](const char* why) -> Result<std::size_t> {
        state_ = State::Failed;
        error_ = std::string("bad chunked encoding: ") + why;
        return Error{error_};
    };
    std::size_t i = 0;
    while (i < in.size() && state_ != State::Done) {
        const char c = in[i];
        switch (state_) {
            case State::Size: {
                int digit = -1;
                if (c >= '0' && c <= '9') digit = c - '0';
                if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
                if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
                if (digit >= 0) {
                    if (remaining_ > (std::numeric_limits<std::uint64_t>::max() >> 8))
                        return fail("a chunk size too large");
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
                    if (++line_ > maxLine_) return fail("a chunk-size line too long");
                    ++digits_;
                    ++i;
                    break;
                }
                if (digits_ == 0) return fail("a chunk does not start with a hexadecimal size");
                if (c == ' ' || c == '\t') {
                    state_ = State::SizeWs;
                } else if (c == ';') {
                    state_ = State::Ext;
                } else if (c == '\r') {
                    state_ = State::SizeLf;
                } else {
                    return fail("an invalid character after a chunk size");
                }
                ++line_;
                ++i;
                break;
            }
            case State::SizeWs:
                if (c == ';') {
                    state_ = State::Ext;
                } else if (c == '\r') {
                    state_ = State::SizeLf;
                } else if (c != ' ' && c != '\t') {
                    return fail("an invalid character after a chunk size");
                }
                if (++line_ > maxLine_) return fail("a chunk-size line too long");
                ++i;
                break;
            case State::Ext: {
                // Extensions are ignored; skip to the line's end, bounded, refusing controls (a bare LF included).
                std::size_t j = i;
                while (j < in.size() && in[j] != '\r') {
                    const unsigned char u = static_cast<unsigned char>(in[j]);
                    if ((u < 0x20 && u != '\t') || u == 0x7F) return fail("a control character in a chunk extension");
                    ++j;
                }
                line_ += j - i;
                if (line_ > maxLine_) return fail("a chunk extension too long");
                i = j;
                if (i < in.size()) {
                    state_ = State::SizeLf;
                    ++i;
                }
                break;
            }
            case State::SizeLf:
                if (c != '\n') return fail("a chunk-size line does not end with CRLF");
                ++i;
                line_ = 0;
                digits_ = 0;
                state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
                break;
            case State::Data: {
                const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
                const bool more = onData(in.substr(i, n));
                i += n;
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::DataCr;
                if (!more) return i;
                break;
            }
            case State::DataCr:
                if (c != '\r') return fail("chunk data is not followed by CRLF");
                state_ = State::DataLf;
                ++i;
                break;
            case State::DataLf:
                if (c != '\n') return fail("chunk data is not followed by CRLF");
                state_ = State::Size;
                ++i;
                break;
            case State::TrailerStart:
            case State::Trailer:
                if (c == '\r') {
                    state_ = State::TrailerLf;
                } else if (c == '\n') {
                    return fail("a trailer line does not end with CRLF");
                } else {
                    state_ = State::Trailer;
                    ++line_;
                }
                if (++trailer_ > maxTrailer_) return fail("trailers too large");
                ++i;
                break;
            case State::TrailerLf:
                if (c != '\n') return fail("a trailer line does not end with CRLF");
                state_ = line_ == 0 ? State::Done : State::TrailerStart;
                line_ = 0;
                ++i;
                break;
            case State::Done:
            case State::Failed: break;
        }
    }
    return i;
}

}  // namespace detail

}  // namespace omega::gate::http
