// A small policy image built by hand, for the runtime's JSON tests and the request fuzzer: two agents, two tools
// (one with a parameter of every type), a data resource, a lattice Public < Internal < PHI, three rules of two
// principals in two modules.
#pragma once

#include "omega/policy/Image.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace omega::test {

// The string id of `s`, which must be in the image.
inline std::uint32_t stringId(const policy::Image& image, std::string_view s) {
    auto it = std::lower_bound(image.strings.begin(), image.strings.end(), s,
                               [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
    return static_cast<std::uint32_t>(it - image.strings.begin());
}

inline policy::Image makeTestImage() {
    using namespace omega::policy;
    using schema::Type;
    Image im;
    im.strings = {"a",        "b",          "bank",
                  "bank.pay", "charts",     "clinic",
                  "digest",   "eu",         "level",
                  "lead",     "marks",      "ok",
                  "p",        "p:10",       "p:12",
                  "q",        "q:3",        "size",
                  "ssn",      "tags",       "tenant",
                  "to",       "amount",     "wait",
                  "web",      "web.search", "query",
                  "Public",   "Internal",   "PHI",
                  "o",        "treatment",  "sha384:" + std::string(96, 'a')};
    std::sort(im.strings.begin(), im.strings.end());
    im.strings.erase(std::unique(im.strings.begin(), im.strings.end()), im.strings.end());
    auto id = [&](std::string_view s) { return stringId(im, s); };

    // Public < Internal < PHI: index order is the order.
    im.lattice.names = {id("Public"), id("Internal"), id("PHI")};
    im.lattice.leq.assign(1, 0);
    for (std::uint64_t x = 0; x < 3; ++x)
        for (std::uint64_t y = x; y < 3; ++y) im.lattice.leq[0] |= std::uint64_t{1} << (x * 3 + y);

    Agent a;
    a.name = id("a");
    a.owner = id("o");
    a.measurement = id("sha384:" + std::string(96, 'a'));
    Agent b;
    b.name = id("b");
    im.agents = {a, b};

    Tool pay;
    pay.name = id("bank.pay");
    pay.provider = id("bank");
    pay.params = {{id("to"), Type::String},      {id("amount"), Type::Int},  {id("size"), Type::Size},
                  {id("wait"), Type::Duration},  {id("level"), Type::Label}, {id("tags"), Type::StringSet},
                  {id("marks"), Type::LabelSet}, {id("ok"), Type::Bool},     {id("digest"), Type::Hash}};
    Tool search;
    search.name = id("web.search");
    search.provider = id("web");
    search.label = 1;
    search.sink = true;
    search.params = {{id("query"), Type::String}};
    im.tools = {pay, search};

    im.sets = {{id("treatment")}, {}};
    Data charts;
    charts.name = id("charts");
    charts.label = 2;
    charts.region = id("eu");
    charts.purposes = 0;
    charts.fields = 1;
    im.data = {charts};

    Module p;
    p.name = id("p");
    p.principal = id("tenant");
    p.version = 1;
    p.root = true;
    Module q;
    q.name = id("q");
    q.principal = id("clinic");
    q.version = 1;
    im.modules = {p, q};

    Rule permit;
    permit.id = id("p:10");
    permit.principal = id("tenant");
    permit.module = 0;
    permit.line = 10;
    permit.kind = Rule::Kind::Permit;
    Rule forbid;
    forbid.id = id("p:12");
    forbid.principal = id("tenant");
    forbid.module = 0;
    forbid.line = 12;
    forbid.kind = Rule::Kind::Forbid;
    Rule obliged;
    obliged.id = id("q:3");
    obliged.principal = id("clinic");
    obliged.module = 1;
    obliged.line = 3;
    obliged.kind = Rule::Kind::Permit;
    obliged.audit = true;
    obliged.redact = {id("ssn")};
    obliged.approve = {id("lead")};
    im.rules = {permit, forbid, obliged};

    Consent consent;
    consent.principal = id("clinic");
    consent.scope = Consent::Scope::Tool;
    consent.any = true;
    im.consents = {consent};
    im.compilerVersion = "test";
    return im;
}

// The policy-image fuzzer's base for METADATA-only inputs (tests/fuzz/PolicyImageFuzzer.cpp, and the seeds
// PolicySerializeTest writes): 256 strings, 16 sets, 4 matchers, a chain of 8 labels and one exit, so that fuzzed
// metadata has something to refer to.
inline policy::Image makeFuzzBaseImage() {
    policy::Image image;
    for (int i = 0; i < 256; ++i) {
        char text[8];
        std::snprintf(text, sizeof text, "s%03d", i);
        image.strings.push_back(text);
    }
    for (std::uint64_t i = 0; i < 16; ++i) {
        std::vector<std::uint64_t> set;
        for (std::uint64_t j = 0; j < i; ++j) set.push_back(j);
        image.sets.push_back(set);
    }
    for (std::uint32_t i = 0; i < 4; ++i) image.matchers.push_back({policy::Matcher::Kind(i % 2), {i}});
    for (std::uint32_t i = 0; i < 8; ++i) image.lattice.names.push_back(i);
    image.lattice.leq = {0};
    for (std::uint32_t a = 0; a < 8; ++a)
        for (std::uint32_t b = a; b < 8; ++b) image.lattice.leq[0] |= std::uint64_t{1} << (a * 8 + b);
    image.code = {{0x95, 0, 0, 0, 0}};
    return image;
}

}  // namespace omega::test
