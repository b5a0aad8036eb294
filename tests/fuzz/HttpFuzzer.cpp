// libFuzzer target for omega_gate_http's parsers. The first byte picks one: request and response heads, the chunked
// decoder, the SSE parser or URLs; the second byte how the input is cut. Incremental parsers must give the same
// result fed whole or in pieces, and what parses must keep its invariants (SSE events survive formatEvent).
#include "omega/gate/Http.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace omega::gate::http;

void check(bool ok) {
    if (!ok) std::abort();
}

void heads(std::string_view bytes) {
    // Whatever the bytes, as a connection would cut a head from them, and as they are.
    const std::size_t end = detail::findHeadEnd(bytes);
    check(end == std::string_view::npos || (end >= 4 && end <= bytes.size()));
    for (const std::string_view head : {bytes, end == std::string_view::npos ? bytes : bytes.substr(0, end)}) {
        const detail::ParsedRequest r = detail::parseRequestHead(head);
        if (r.ok()) {
            check(detail::validHeaderName(r.head.method) && !r.head.target.empty());
            check(r.head.body != detail::Body::UntilClose);
            check(r.head.body != detail::Body::Length || r.head.length > 0);
            for (const Header& h : r.head.headers)
                check(detail::validHeaderName(h.name) && detail::validHeaderValue(h.value));
        } else {
            check(!r.error.empty());
            check(r.status == 400 || r.status == 417 || r.status == 501 || r.status == 505);
        }
        for (const bool headRequest : {false, true}) {
            auto p = detail::parseResponseHead(head, headRequest);
            if (!p) {
                check(!p.error().empty());
                continue;
            }
            check(p->head.status >= 100 && p->head.status <= 999);
            check(!headRequest || p->body == detail::Body::None);
            check(p->body != detail::Body::UntilClose || !p->keepAlive);
        }
    }
}

struct Decoded {
    std::string data;
    std::size_t used = 0;
    bool done = false;
    bool failed = false;
    bool operator==(const Decoded&) const = default;
};

Decoded decode(std::string_view bytes, std::size_t step, std::size_t maxLine, std::size_t maxTrailer) {
    detail::ChunkedDecoder d(maxLine, maxTrailer);
    Decoded out;
    std::string pending;
    for (std::size_t at = 0; at < bytes.size() && !d.done(); at += step) {
        pending.append(bytes.substr(at, step));
        auto used = d.feed(pending, [&](std::string_view piece) {
            check(!piece.empty());
            out.data.append(piece);
            return true;
        });
        if (!used) {
            check(!used.error().empty());
            // What came before an error depends on the cut; only the verdict must not.
            out = Decoded{};
            out.failed = true;
            return out;
        }
        check(*used <= pending.size());
        check(d.done() || *used == pending.size());
        out.used += *used;
        pending.erase(0, *used);
    }
    out.done = d.done();
    return out;
}

void chunked(std::string_view bytes, std::uint8_t mode) {
    const std::size_t maxLine = mode & 0x80 ? 4096 : 16;
    const std::size_t maxTrailer = mode & 0x40 ? 65536 : 64;
    const Decoded whole = decode(bytes, bytes.size() + 1, maxLine, maxTrailer);
    const Decoded pieces = decode(bytes, 1 + mode % 13, maxLine, maxTrailer);
    check(whole == pieces);
    check(whole.used <= bytes.size() && whole.data.size() <= bytes.size());
}

struct Parsed {
    std::vector<Event> events;
    bool failed = false;
};

Parsed sse(std::string_view bytes, std::size_t step, std::size_t max) {
    SseParser p(max);
    Parsed out;
    for (std::size_t at = 0; at < bytes.size() && !out.failed; at += step) {
        auto r = p.feed(bytes.substr(at, step), [&](Event&& e) { out.events.push_back(std::move(e)); });
        out.failed = !r;
    }
    if (out.failed) check(!p.feed("\n\n", [](Event&&) { std::abort(); }));
    return out;
}

bool same(const Event& a, const Event& b) {
    return a.event == b.event && a.data == b.data && a.id == b.id && a.retry == b.retry;
}

void events(std::string_view bytes, std::uint8_t mode) {
    const std::size_t max = mode & 0x80 ? (1u << 20) : 32;
    const Parsed whole = sse(bytes, bytes.size() + 1, max);
    const Parsed pieces = sse(bytes, 1 + mode % 11, max);
    check(whole.failed == pieces.failed && whole.events.size() == pieces.events.size());
    for (std::size_t i = 0; i < whole.events.size(); ++i) {
        const Event& e = whole.events[i];
        check(same(e, pieces.events[i]));
        check(e.event.find_first_of("\r\n") == std::string::npos && e.id.find_first_of("\r\n") == std::string::npos);
        // Formatted and parsed again (by a fresh parser), the event is the same.
        const Parsed again = sse(formatEvent(e), 1u << 30, 1u << 30);
        check(!again.failed && again.events.size() == 1 && same(again.events[0], e));
    }
}

void url(std::string_view bytes) {
    auto u = Url::parse(bytes);
    if (!u) {
        check(!u.error().empty());
        return;
    }
    check(!u->host.empty() && u->port != 0 && !u->path.empty() && u->path.front() == '/');
    auto again = Url::parse(u->origin() + u->path);
    check(again && again->host == u->host && again->port == u->port && again->path == u->path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
    switch (data[0] % 4) {
        case 0: heads(bytes); break;
        case 1: chunked(bytes, data[1]); break;
        case 2: events(bytes, data[1]); break;
        case 3: url(bytes); break;
    }
    return 0;
}
