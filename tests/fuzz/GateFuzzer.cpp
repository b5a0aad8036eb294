// libFuzzer target for what omega-gate reads from clients and servers: JSON-RPC envelopes, messages through an MCP
// session (tool lists filtered, results redacted, calls decided by a monitor with no bundle: every call denied),
// and the JSON writers, whose output must parse again and, in canonical form, be a fixed point.
#include "omega/gate/Guard.h"
#include "omega/gate/Json.h"
#include "omega/gate/Mcp.h"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace omega::gate;

void mustParse(const std::string& text) {
    json::Parsed p;
    std::string error;
    if (!json::parse(text, p, error, 64u << 20)) std::abort();  // the gate wrote JSON it cannot read
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static omega::monitor::Monitor monitor{omega::monitor::Options{}};
    static GateConfig config = [] {
        GateConfig c;
        c.maxMessageBytes = 1 << 16;
        return c;
    }();
    static Guard guard(monitor, config);
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0: {  // the client's side of a session, then the server's
            McpSession session(guard, "fs", Caller{"a", "s", nullptr});
            Step step = session.fromClient(text);
            if (step.kind == Step::Kind::Reply) mustParse(step.text);
            std::string out = session.fromServer(text);
            if (!out.empty()) mustParse(out);
            break;
        }
        case 1: {  // a tools/list answer the session expects
            McpSession session(guard, "fs", Caller{"a", "s", nullptr});
            (void)session.fromClient(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
            std::string out = session.fromServer(R"({"jsonrpc":"2.0","id":1,"result":)" + text + "}");
            if (!out.empty()) mustParse(out);
            break;
        }
        case 2: {  // redaction and hashing of any value
            json::Parsed p;
            std::string error;
            if (!json::parse(text, p, error, 1 << 16)) break;
            mustParse(Guard::redactResult(p, p.root(), {"a", "text", "ssn"}));
            if (p.root().isObject()) (void)toolHash(p, p.root());
            break;
        }
        default: {  // writers: output parses; canonical form is a fixed point
            json::Parsed p;
            std::string error;
            if (!json::parse(text, p, error, 1 << 16)) break;
            (void)json::classify(p);
            std::string plain, canonical, again;
            json::appendValue(plain, p, p.root());
            mustParse(plain);
            json::appendCanonical(canonical, p, p.root());
            json::Parsed q;
            if (!json::parse(canonical, q, error, 64u << 20)) std::abort();
            json::appendCanonical(again, q, q.root());
            if (again != canonical) std::abort();
            break;
        }
    }
    return 0;
}
