// A generator of large, realistic, valid policies for benchmarks: a module with `rules` rules over a few hundred
// tools, agents and data resources, mixing every action, conditions, limits and obligations. By default the
// declarations are fixed (200 tools, 50 agents, 50 data resources), so more rules means more rules per target;
// scaledPolicy() grows the declarations with the rules instead, keeping about eight rules per tool.
#pragma once

#include <string>

namespace omega::bench {

inline std::string generatePolicy(int rules, int tools = 200, int agents = 50, int data = 50) {
    std::string s;
    s.reserve(static_cast<std::size_t>(rules) * 120 + 40000);
    s += "policy generated version 1 by principal \"tenant:bench\";\n";
    s += "label Public < Internal < PII < PHI;\nlabel Internal < Secret;\nattribute clearance: label;\n";
    s += "set regions = {\"eu-west\", \"eu-central\"};\n";
    for (int a = 0; a < agents; ++a)
        s += "agent a" + std::to_string(a) + " { owner \"team" + std::to_string(a % 7) + "\"; clearance " +
             (a % 2 ? "PII" : "Internal") + "; }\n";
    s += "group analysts = {a0, a1, a2, a3};\n";
    for (int t = 0; t < tools; ++t)
        s += "tool srv" + std::to_string(t % 20) + ".op" + std::to_string(t) +
             "(id: string, amount: int, fields: set<string>, size: size) returns " + (t % 3 ? "Internal" : "PII") +
             (t % 5 == 0 ? " sink" : "") + ";\n";
    for (int d = 0; d < data; ++d)
        s += "data d" + std::to_string(d) + " { path \"/data/" + std::to_string(d) + "/**\"; label " +
             (d % 2 ? "PII" : "Internal") + "; region \"eu-west\"; purpose {\"analytics\", \"support\"}; }\n";
    for (int r = 0; r < rules; ++r) {
        std::string agent = "a" + std::to_string(r % agents);
        const int t = (r / 8) % tools;
        std::string tool = "srv" + std::to_string(t % 20) + ".op" + std::to_string(t);
        switch (r % 8) {
            case 0:
                s += "permit tool " + tool + " by agent " + agent + " when args.amount <= " + std::to_string(r) +
                     " and args.fields <= {\"a\", \"b\", \"c\"};\n";
                break;
            case 1:
                s += "forbid tool " + tool + " when session.taint >= PII and request.region != \"eu-west\";\n";
                break;
            case 2:
                s += "permit tool " + tool + " by group analysts when args.id startswith \"cust-\" limit " +
                     std::to_string(r % 50 + 1) + " per minute obligation audit;\n";
                break;
            case 3:
                s += "permit read d" + std::to_string((r / 8) % data) + " by agent " + agent +
                     " when request.purpose in data.purpose and request.region in regions;\n";
                break;
            case 4:
                s += "permit send from agent " + agent + " to agent a" + std::to_string((r + 1) % agents) +
                     " when message.label <= agent.clearance and message.size <= 1 MiB;\n";
                break;
            case 5:
                s += "permit gpu.alloc by agent " + agent + " when gpu.bytes_total <= " + std::to_string(r % 80 + 1) +
                     " GiB;\n";
                break;
            case 6:
                s += "permit net.connect by agent " + agent +
                     " when net.host like \"*.example.com\" and net.port == 443;\n";
                break;
            default:
                s += "permit tool " + tool + " by agent {" + agent + ", a0} when not (args.id == \"x" +
                     std::to_string(r) + "\") and args.size < 10 MiB obligation approve(\"lead\");\n";
        }
    }
    return s;
}

// Rules spread so that each tool has one block of 8 rules and each agent and data resource a constant share.
inline std::string scaledPolicy(int rules) {
    auto atLeast = [](int n, int floor) { return n < floor ? floor : n; };
    return generatePolicy(rules, atLeast(rules / 8, 2), atLeast(rules / 16, 4), atLeast(rules / 16, 2));
}

}  // namespace omega::bench
