// Unit tests for the policy image's bundle sections (docs/bundle.md section 8): exact round trips, determinism, a
// golden encoding, every validate() rule with its message, strict decoding errors, and truncated or bit-flipped
// input (through the bundle container too) that must give an error or a canonical valid image, never a crash.
#include "PolicyTestImage.h"
#include "omega/bundle/Bundle.h"
#include "omega/policy/Serialize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace omega;
using namespace omega::policy;
using bundle::Section;
using bundle::SectionType;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Hex digits, spaces ignored.
Bytes fromHex(std::string hex) {
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

// The order matrix of `n` labels from `edges` (a < b), closed reflexively and transitively.
std::vector<std::uint64_t> orderMatrix(std::uint32_t n,
                                       const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges) {
    std::vector<std::vector<bool>> le(n, std::vector<bool>(n, false));
    for (std::uint32_t a = 0; a < n; ++a) le[a][a] = true;
    for (const auto& [a, b] : edges) le[a][b] = true;
    for (std::uint32_t k = 0; k < n; ++k)
        for (std::uint32_t a = 0; a < n; ++a)
            for (std::uint32_t b = 0; b < n; ++b)
                if (le[a][k] && le[k][b]) le[a][b] = true;
    std::vector<std::uint64_t> words((std::uint64_t{n} * n + 63) / 64, 0);
    for (std::uint32_t a = 0; a < n; ++a)
        for (std::uint32_t b = 0; b < n; ++b)
            if (le[a][b]) words[(a * n + b) / 64] |= std::uint64_t{1} << ((a * n + b) % 64);
    return words;
}

// The sample's one hash: agent triage's measurement and tool web.search's pin.
const std::string kHash384 = "sha384:ab12" + std::string(92, '0');

const std::vector<std::string> kSampleStrings = {
    "*.example.com",
    "/tmp/",
    "/var/",
    "Internal",
    "PHI",
    "PII",
    "Public",
    "Secret",
    "billing",
    "billing-bot",
    "clearance",
    "clinic",
    "clinic.example",
    "clinic:10",
    "clinic:12",
    "clinic:20",
    "day",
    "ehr",
    "ehr.read",
    "eu",
    "fields",
    "finance-lead",
    "mail",
    "mail.send",
    "max_upload",
    "name",
    "night",
    "nurse",
    "oncall",
    "operator",
    "ops",
    "patient",
    "records",
    "role",
    "scratch",
    kHash384,
    "shifts",
    "size",
    "ssn",
    "stdlib",
    "tenant:clinic.example",
    "to",
    "treatment",
    "triage",
    "web",
    "web.search",
};

// The string id of `text` in the sample's table (kSampleStrings is sorted: the first test checks it).
std::uint32_t s(std::string_view text) {
    auto it = std::lower_bound(kSampleStrings.begin(), kSampleStrings.end(), text);
    if (it == kSampleStrings.end() || *it != text) std::abort();
    return static_cast<std::uint32_t>(it - kSampleStrings.begin());
}

std::array<std::uint8_t, 32> hashOf(std::uint8_t seed) {
    std::array<std::uint8_t, 32> h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(seed + 7 * i);
    return h;
}

// A non-trivial valid image: every table has entries, every optional field is both set and kNone somewhere.
// 46 strings; lattice Public(0) < Internal(1) < PII(2) < PHI(3), Internal < Secret(4); 5 sets; 2 modules.
Image sample() {
    using T = schema::Type;
    Image image;
    image.strings = kSampleStrings;
    image.sets = {{s("billing"), s("treatment")},
                  {s("name"), s("ssn")},
                  {s("day"), s("night")},
                  {},
                  {s("billing-bot"), s("triage")}};
    image.matchers = {{Matcher::Kind::Glob, {s("*.example.com")}}, {Matcher::Kind::Prefix, {s("/tmp/"), s("/var/")}}};
    image.lattice.names = {s("Public"), s("Internal"), s("PII"), s("PHI"), s("Secret")};
    image.lattice.leq = orderMatrix(5, {{0, 1}, {1, 2}, {2, 3}, {1, 4}});
    image.attributes = {{s("clearance"), T::Label},
                        {s("role"), T::String},
                        {s("shifts"), T::StringSet},
                        {s("max_upload"), T::Size},
                        {s("oncall"), T::Bool}};
    image.agents = {
        {s("billing-bot"), s("clinic.example"), kNone, {{}, {true, s("ops")}, {}, {true, 1 << 20}, {true, 0}}},
        {s("triage"),
         s("clinic.example"),
         s(kHash384),
         {{true, 3}, {true, s("nurse")}, {true, kConstSetTag | 2}, {true, 5 << 20}, {true, 1}}},
    };
    // Callers: any agent; both agents (set 4); none (the empty set 3).
    image.tools = {
        {s("ehr.read"),
         s("ehr"),
         3,
         false,
         false,
         kNone,
         kNone,
         {{s("patient"), T::String}, {s("fields"), T::StringSet}}},
        {s("mail.send"), s("mail"), kNone, true, false, kNone, 4, {{s("to"), T::String}, {s("size"), T::Size}}},
        {s("web.search"), s("web"), kNone, false, true, s(kHash384), 3, {}},
    };
    image.data = {
        {s("records"), 3, s("eu"), s("clinic.example"), 0, 1},
        {s("scratch"), 0, kNone, kNone, 3, 3},
    };
    const Layout layout{5, 2};
    image.dynamicSets = {
        {{{true, layout.agentAttribute(1)}, {false, s("ops")}}},
        {{{true, layout.recipientAttribute(0)}}},
    };
    image.rules = {
        {s("clinic:10"),
         s("tenant:clinic.example"),
         0,
         10,
         Rule::Kind::Permit,
         false,
         0,
         0,
         Rule::LimitKey::Agent,
         true,
         {s("ssn")},
         {s("finance-lead")}},
        {s("clinic:12"),
         s("tenant:clinic.example"),
         0,
         12,
         Rule::Kind::Forbid,
         true,
         5,
         30'000'000'000,
         Rule::LimitKey::Session,
         false,
         {},
         {}},
        {s("clinic:20"),
         s("operator"),
         1,
         20,
         Rule::Kind::Obligation,
         false,
         0,
         0,
         Rule::LimitKey::Agent,
         false,
         {s("name"), s("ssn")},
         {}},
    };
    image.consents = {
        {s("tenant:clinic.example"), Consent::Scope::Tool, false, {0, 1}},
        {s("tenant:clinic.example"), Consent::Scope::Data, false, {0}},
        {s("tenant:clinic.example"), Consent::Scope::Agent, true, {}},
        {s("operator"), Consent::Scope::Gpu, false, {}},
    };
    image.modules = {
        {s("clinic"), s("tenant:clinic.example"), 3, true, hashOf(1)},
        {s("stdlib"), s("operator"), 1, false, hashOf(200)},
    };
    image.compilerVersion = "omegac 0.1.0";
    image.bound = {5, 7};
    image.code = {
        {0xbf, 6, 1, 0, 0},   // mov r6, r1
        {0xb7, 0, 0, 0, 0},   // mov r0, 0
        {0x15, 1, 0, 1, -3},  // if r1 == -3 goto +1
        {0x07, 0, 0, 0, 1},   // add r0, 1
        {0x95, 0, 0, 0, 0},   // exit
    };
    return image;
}

// The image of the golden test and of docs/bundle.md 8.11.
Image tiny() {
    Image image;
    image.strings = {"a"};
    image.sets = {{7}};
    image.matchers = {{Matcher::Kind::Prefix, {0}}};
    image.lattice = {{0}, {1}};
    image.compilerVersion = "c";
    image.bound = {1, 1};
    image.agents = {{0, kNone, kNone, {}}};
    image.rules = {{0, 0, 0, 1, Rule::Kind::Permit, false, 0, 0, Rule::LimitKey::Agent, false, {}, {}}};
    image.modules = {{0, 0, 1, true, {}}};
    image.code = {{0x95, 0, 0, 0, 0}};
    return image;
}

// Every table empty; the smallest valid image.
Image minimal() {
    Image image;
    image.code = {{0x95, 0, 0, 0, 0}};
    return image;
}

// The fuzzer's base for METADATA-only inputs (shared with tests/fuzz/PolicyImageFuzzer.cpp). The sample's
// metadata refers only to ids inside it (strings < 256, labels < 8, sets < 16).
Image fuzzBase() {
    return test::makeFuzzBaseImage();
}

// fuzzBase() with the metadata of `image`.
Image onFuzzBase(const Image& image) {
    Image out = fuzzBase();
    out.attributes = image.attributes;
    out.agents = image.agents;
    out.tools = image.tools;
    // The base has no hash among its strings and no agent names in its sets: no pins, and its set 0 (empty) for
    // callers.
    for (Tool& t : out.tools) {
        t.pin = kNone;
        if (t.callers != kNone) t.callers = 0;
    }
    out.data = image.data;
    out.dynamicSets = image.dynamicSets;
    out.rules = image.rules;
    out.consents = image.consents;
    out.modules = image.modules;
    out.compilerVersion = image.compilerVersion;
    out.bound = image.bound;
    return out;
}

Image decodeOk(const std::vector<Section>& sections) {
    auto image = fromSections(sections);
    if (!image.ok()) {
        ADD_FAILURE() << image.error();
        return {};
    }
    return std::move(image).value();
}

std::string decodeError(const std::vector<Section>& sections) {
    auto image = fromSections(sections);
    return image.ok() ? "(decoded)" : image.error();
}

std::vector<Section> withBody(std::vector<Section> sections, SectionType type, Bytes body) {
    for (Section& section : sections)
        if (section.type == type) section.data = std::move(body);
    return sections;
}

Bytes body(const std::vector<Section>& sections, SectionType type) {
    for (const Section& section : sections)
        if (section.type == type) return section.data;
    return {};
}

// What any input must give: an error, or a valid image whose encoding is exactly the input (canonical).
void expectErrorOrCanonical(const std::vector<Section>& sections) {
    auto image = fromSections(sections);
    if (!image.ok()) {
        EXPECT_FALSE(image.error().empty());
        return;
    }
    EXPECT_FALSE(validate(*image).has_value());
    EXPECT_EQ(toSections(*image), sections);
}

std::string validateError(const Image& image) {
    auto e = validate(image);
    return e ? e->message : "(valid)";
}

// ---- round trips ----------------------------------------------------------------------------------------------

TEST(PolicySerialize, SampleIsValid) {
    EXPECT_TRUE(std::is_sorted(kSampleStrings.begin(), kSampleStrings.end()));
    EXPECT_EQ(kSampleStrings.size(), 46u);
    EXPECT_EQ(validateError(sample()), "(valid)");
    EXPECT_EQ(validateError(tiny()), "(valid)");
    EXPECT_EQ(validateError(minimal()), "(valid)");
    EXPECT_EQ(validateError(fuzzBase()), "(valid)");
    EXPECT_EQ(validateError(onFuzzBase(sample())), "(valid)");
}

TEST(PolicySerialize, RoundTripsExactly) {
    for (const Image& image : {sample(), tiny(), minimal(), onFuzzBase(sample())}) {
        const auto sections = toSections(image);
        ASSERT_EQ(sections.size(), 6u);
        EXPECT_EQ(decodeOk(sections), image);
    }
}

TEST(PolicySerialize, RoundTripsRateLimits) {
    const std::pair<std::int64_t, Rule::LimitKey> limits[] = {{1, Rule::LimitKey::Agent},
                                                              {30'000'000'000, Rule::LimitKey::Session},
                                                              {3'600'000'000'000, Rule::LimitKey::User},
                                                              {INT64_MAX, Rule::LimitKey::Tool}};
    for (const auto& [window, key] : limits) {
        Image image = tiny();
        Rule& rule = image.rules[0];
        rule.limited = true;
        rule.limit = 2;
        rule.window = window;
        rule.key = key;
        EXPECT_EQ(validateError(image), "(valid)");
        const auto sections = toSections(image);
        const Bytes metadata = body(sections, SectionType::Metadata);
        ASSERT_EQ(metadata.size(), 166u);
        std::uint64_t encoded = 0;  // window: an i64 at offset 91, after the limit
        for (std::size_t k = 0; k < 8; ++k) encoded |= std::uint64_t{metadata[91 + k]} << (8 * k);
        EXPECT_EQ(static_cast<std::int64_t>(encoded), window);
        EXPECT_EQ(metadata[99], static_cast<std::uint8_t>(key));
        EXPECT_EQ(decodeOk(sections), image);
    }
}

TEST(PolicySerialize, SectionsInTypeOrder) {
    const auto sections = toSections(sample());
    const SectionType order[] = {SectionType::Strings, SectionType::Sets, SectionType::Matchers,
                                 SectionType::Lattice, SectionType::Code, SectionType::Metadata};
    for (std::size_t i = 0; i < sections.size(); ++i) EXPECT_EQ(sections[i].type, order[i]);
}

TEST(PolicySerialize, EncodingIsDeterministic) {
    const Image a = sample();
    const Image b = sample();
    EXPECT_EQ(toSections(a), toSections(b));
    EXPECT_EQ(toSections(a), toSections(a));
    // Decoding and encoding again gives the same bytes; section order in the input does not matter.
    auto sections = toSections(a);
    std::vector<Section> reversed(sections.rbegin(), sections.rend());
    EXPECT_EQ(toSections(decodeOk(reversed)), sections);
}

TEST(PolicySerialize, GoldenTinyImage) {
    const auto sections = toSections(tiny());
    ASSERT_EQ(sections.size(), 6u);
    EXPECT_EQ(sections[0].data, fromHex("01000000 01000000 61"));
    EXPECT_EQ(sections[1].data, fromHex("01000000 01000000 0700000000000000"));
    EXPECT_EQ(sections[2].data, fromHex("01000000 01 01000000 00000000"));
    EXPECT_EQ(sections[3].data, fromHex("01000000 00000000 01000000 0100000000000000"));
    EXPECT_EQ(sections[4].data, fromHex("9500000000000000"));
    EXPECT_EQ(sections[5].data,
              fromHex("02000000"                               // format version 2
                      "01000000 63"                            // compiler version "c"
                      "0100000000000000 0100000000000000"      // cost bound: 1 instruction, cost 1
                      "00000000"                               // no attributes
                      "01000000"                               // one agent:
                      "00000000 ffffffff ffffffff 00000000"    // name 0, no owner, no measurement, no attributes
                      "00000000 00000000 00000000"             // no tools, data or dynamic sets
                      "01000000"                               // one rule:
                      "00000000 00000000 00000000 01000000"    // id 0, principal 0, module 0, line 1
                      "00 00 0000000000000000"                 // permit, not limited, limit 0
                      "0000000000000000 00 00"                 // window 0, key agent, no audit
                      "00000000 00000000"                      // no redact, no approve
                      "00000000"                               // no consents
                      "01000000"                               // one module:
                      "00000000 00000000 0100000000000000 01"  // name 0, principal 0, version 1, root
                      "0000000000000000000000000000000000000000000000000000000000000000"));  // source hash
    EXPECT_EQ(sections[5].data.size(), 166u);
}

// The tool record of docs/bundle.md 8.7: 26 bytes and 5 per parameter, pin and callers after the two bools.
TEST(PolicySerialize, GoldenToolRecord) {
    Image image = tiny();
    const std::string pin = "sha256:" + std::string(62, '0') + "2a";
    image.strings = {"a", "a.b", pin};
    image.sets = {{7}, {0}};  // set 1: the name of agent "a"
    image.tools = {{1, 0, 0, true, false, 2, 1, {{0, schema::Type::Int}}}};
    ASSERT_EQ(validateError(image), "(valid)");
    const auto sections = toSections(image);
    const Bytes metadata = body(sections, SectionType::Metadata);
    ASSERT_EQ(metadata.size(), 166u + 26 + 5);
    EXPECT_EQ(Bytes(metadata.begin() + 49, metadata.begin() + 53 + 26 + 5),
              fromHex("01000000"                    // one tool:
                      "01000000 00000000 00000000"  // name "a.b", provider "a", label 0
                      "01 00"                       // sink, not privileged
                      "02000000 01000000"           // pin: string 2; callers: set 1
                      "01000000 00000000 01"));     // one parameter: name "a", int
    const Image back = decodeOk(sections);
    EXPECT_EQ(back, image);
    ASSERT_EQ(back.tools.size(), 1u);
    EXPECT_TRUE(back.tools[0].pinned());
    EXPECT_EQ(back.text(back.tools[0].pin), pin);
    EXPECT_EQ(back.sets[back.tools[0].callers], std::vector<std::uint64_t>{0});

    image.tools[0].pin = kNone;
    image.tools[0].callers = kNone;
    const Image unpinned = decodeOk(toSections(image));
    EXPECT_FALSE(unpinned.tools[0].pinned());
    EXPECT_EQ(unpinned.tools[0].callers, kNone);
}

TEST(PolicySerialize, ThroughTheBundleContainer) {
    for (const Image& image : {sample(), tiny(), minimal()}) {
        auto file = bundle::encode(toSections(image));
        ASSERT_TRUE(file.ok()) << file.error();
        auto decoded = bundle::decode(*file);
        ASSERT_TRUE(decoded.ok()) << decoded.error();
        auto back = fromSections(*decoded);
        ASSERT_TRUE(back.ok()) << back.error();
        EXPECT_EQ(*back, image);
    }
}

TEST(PolicySerialize, BundleWithoutMetadataOrWithMerkle) {
    auto sections = toSections(tiny());
    sections.pop_back();
    auto file = bundle::encode(sections);
    ASSERT_TRUE(file.ok());
    auto decoded = bundle::decode(*file);
    ASSERT_TRUE(decoded.ok());
    auto image = fromSections(*decoded);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error(), "METADATA: missing section");

    sections = toSections(tiny());
    sections.push_back({SectionType::SourcesMerkle, {1, 2, 3}});
    file = bundle::encode(sections);
    ASSERT_TRUE(file.ok());
    decoded = bundle::decode(*file);
    ASSERT_TRUE(decoded.ok());
    image = fromSections(*decoded);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.error(), "SOURCES_MERKLE: image format version 2 does not use this section; it must be absent");
}

// ---- section lists --------------------------------------------------------------------------------------------

TEST(PolicySerialize, SectionListErrors) {
    auto sections = toSections(tiny());
    auto missing = sections;
    missing.erase(missing.begin() + 1);
    EXPECT_EQ(decodeError(missing), "SETS: missing section");

    auto twice = sections;
    twice.push_back(sections[0]);
    EXPECT_EQ(decodeError(twice), "STRINGS: the section appears twice");

    auto signatures = sections;
    signatures.push_back({SectionType::Signatures, {}});
    EXPECT_EQ(decodeError(signatures), "section type 256 is not a content section (types are 1 to 7)");

    auto merkle = sections;
    merkle.push_back({SectionType::SourcesMerkle, {}});
    EXPECT_EQ(decodeError(merkle),
              "SOURCES_MERKLE: image format version 2 does not use this section; it must be absent");

    EXPECT_EQ(decodeError({}), "STRINGS: missing section");
}

// ---- strict decoding ------------------------------------------------------------------------------------------

TEST(PolicySerialize, DecodingErrors) {
    const auto sections = toSections(tiny());
    const Bytes metadata = body(sections, SectionType::Metadata);
    auto patched = [&](SectionType type, std::size_t at, std::uint8_t value) {
        Bytes b = body(sections, type);
        b.at(at) = value;
        return decodeError(withBody(sections, type, b));
    };

    EXPECT_EQ(patched(SectionType::Metadata, 0, 1),
              "METADATA: offset 0: format version: version 1 is not supported (this runtime reads version 2)");
    EXPECT_EQ(patched(SectionType::Metadata, 81, 3), "METADATA: offset 81: rule 0: kind: unknown rule kind 3");
    EXPECT_EQ(patched(SectionType::Metadata, 82, 2),
              "METADATA: offset 82: rule 0: limited: byte 2 is not a bool (0 or 1)");
    EXPECT_EQ(patched(SectionType::Metadata, 99, 4), "METADATA: offset 99: rule 0: key: unknown rate-limit key 4");
    EXPECT_EQ(patched(SectionType::Metadata, 100, 2),
              "METADATA: offset 100: rule 0: audit: byte 2 is not a bool (0 or 1)");
    EXPECT_EQ(patched(SectionType::Metadata, 133, 0xff),
              "METADATA: offset 133: module 0: root: byte 255 is not a bool (0 or 1)");
    EXPECT_EQ(patched(SectionType::Matchers, 4, 2), "MATCHERS: offset 4: matcher 0: kind: unknown matcher kind 2");
    EXPECT_EQ(patched(SectionType::Strings, 0, 2), "STRINGS: offset 0: string count: 2 needs at least 8 bytes, 5 left");
    EXPECT_EQ(patched(SectionType::Strings, 4, 2),
              "STRINGS: offset 4: string 0: length: truncated: the string needs 2 bytes, 1 left");
    EXPECT_EQ(patched(SectionType::Lattice, 8, 2), "LATTICE: offset 8: word count: 2 needs at least 16 bytes, 8 left");

    Bytes longer = metadata;
    longer.push_back(0);
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Metadata, longer)),
              "METADATA: offset 166: trailing bytes: 1 unread after the modules");
    Bytes shorter(metadata.begin(), metadata.end() - 1);
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Metadata, shorter)),
              "METADATA: offset 113: module count: 1 needs at least 49 bytes, 48 left");
    Bytes cut(metadata.begin(), metadata.begin() + 6);
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Metadata, cut)),
              "METADATA: offset 4: compiler version: truncated: needs 4 bytes, 2 left");

    Bytes manyRules = metadata;
    const Bytes oneMebi = fromHex("00001000");  // 1 << 20
    std::copy(oneMebi.begin(), oneMebi.end(), manyRules.begin() + 61);
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Metadata, manyRules)),
              "METADATA: offset 61: rule count: 1048576 needs at least 46137344 bytes, 101 left");
    manyRules[61] = manyRules[62] = manyRules[63] = manyRules[64] = 0xff;
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Metadata, manyRules)),
              "METADATA: offset 61: rule count: 4294967295 exceeds the limit of 1048576 rules");

    Bytes code = body(sections, SectionType::Code);
    code.push_back(0x95);
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Code, code)),
              "CODE: offset 8: slot 1: truncated instruction: 1 of 8 bytes");

    Bytes strings = body(sections, SectionType::Strings);
    strings.push_back('x');
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Strings, strings)),
              "STRINGS: offset 9: trailing bytes: 1 unread after the string table");
    Bytes hugeString = fromHex("01000000 01000100");  // one string of 65537 bytes
    EXPECT_EQ(decodeError(withBody(sections, SectionType::Strings, hugeString)),
              "STRINGS: offset 4: string 0: length: length 65537 exceeds the limit of 65536 bytes");
}

TEST(PolicySerialize, DecodingChecksTotals) {
    // Two sets: 1 << 20 elements, then 1 more.
    Bytes sets = fromHex("02000000 00001000");
    sets.resize(sets.size() + 8 * (std::size_t{1} << 20), 0);
    const Bytes tail = fromHex("01000000 0000000000000000");
    sets.insert(sets.end(), tail.begin(), tail.end());
    EXPECT_EQ(decodeError(withBody(toSections(tiny()), SectionType::Sets, sets)),
              "SETS: offset 8388616: set 1: element count: 1 makes 1048577 set elements in all, more than the limit of "
              "1048576");
}

TEST(PolicySerialize, DecodingRunsValidate) {
    Image image = tiny();
    image.rules[0].module = 1;
    EXPECT_EQ(decodeError(toSections(image)),
              "METADATA: rule 0: module: index 1 is out of range (the image has 1 modules)");
}

// ---- validate(): one case per rule ----------------------------------------------------------------------------

struct Case {
    const char* name;
    std::function<void(Image&)> mutate;
    std::string message;
    bool encodes = true;  // false where the encoding cannot carry the mistake (the decoder stops first)
};

std::vector<Case> validateCases() {
    using T = schema::Type;
    const std::uint32_t slots = Layout{5, 2}.slots();
    const std::uint32_t manyWords = Layout{5, 4096}.words();
    return {
        // STRINGS
        {"strings cap", [](Image& i) { i.strings.resize(kMaxStrings + 1); },
         "STRINGS: 1048577 strings exceed the limit of 1048576", false},
        {"string bytes", [](Image& i) { i.strings[45] += std::string(65536 - 10 + 1, 'x'); },
         "STRINGS: string 45: 65537 bytes exceed the limit of 65536", false},
        {"strings unsorted", [](Image& i) { std::swap(i.strings[3], i.strings[4]); },
         "STRINGS: string 4: not after string 3 (the table is sorted strictly ascending, so without duplicates)"},
        {"strings duplicate", [](Image& i) { i.strings[4] = i.strings[3]; },
         "STRINGS: string 4: not after string 3 (the table is sorted strictly ascending, so without duplicates)"},
        // SETS
        {"sets cap", [](Image& i) { i.sets.resize(kMaxSets + 1); }, "SETS: 1048577 sets exceed the limit of 1048576",
         false},
        {"set elements cap", [](Image& i) { i.sets[3].resize(kMaxSetElements - 7); },
         "SETS: 1048577 elements in all exceed the limit of 1048576", false},
        {"set unsorted",
         [](Image& i) {
             i.sets[0] = {5, 3};
         },
         "SETS: set 0: element 1: 3 is not after the previous element, 5 (a set is sorted strictly ascending)"},
        {"set duplicate",
         [](Image& i) {
             i.sets[1] = {7, 7};
         },
         "SETS: set 1: element 1: 7 is not after the previous element, 7 (a set is sorted strictly ascending)"},
        // MATCHERS
        {"matchers cap", [](Image& i) { i.matchers.resize(kMaxMatchers + 1); },
         "MATCHERS: 65537 matchers exceed the limit of 65536", false},
        {"patterns cap", [](Image& i) { i.matchers[0].patterns.resize(kMaxMatcherPatterns); },
         "MATCHERS: 1048578 patterns in all exceed the limit of 1048576", false},
        {"matcher kind", [](Image& i) { i.matchers[1].kind = Matcher::Kind(7); },
         "MATCHERS: matcher 1: kind: unknown matcher kind 7", false},
        {"matcher without patterns", [](Image& i) { i.matchers[0].patterns.clear(); },
         "MATCHERS: matcher 0: no patterns (a matcher has at least one)"},
        {"matcher pattern", [](Image& i) { i.matchers[1].patterns[1] = 46; },
         "MATCHERS: matcher 1: pattern 1: string id 46 is out of range (the string table has 46 strings)"},
        // LATTICE
        {"labels cap", [](Image& i) { i.lattice.names.resize(kMaxLabels + 1); },
         "LATTICE: 4097 labels exceed the limit of 4096", false},
        {"label name", [](Image& i) { i.lattice.names[2] = 99; },
         "LATTICE: label 2: name: string id 99 is out of range (the string table has 46 strings)"},
        {"label name repeated", [](Image& i) { i.lattice.names[4] = i.lattice.names[1]; },
         "LATTICE: label 4: name: the same as label 1's (string id 3)"},
        {"order size", [](Image& i) { i.lattice.leq.push_back(0); },
         "LATTICE: order: 2 words, expected 1 for 5 labels ((n * n + 63) / 64)"},
        {"order bits past the matrix", [](Image& i) { i.lattice.leq[0] |= std::uint64_t{1} << 30; },
         "LATTICE: order: bit 30 is set, past the 25 bits of the 5 x 5 matrix"},
        {"order reflexive", [](Image& i) { i.lattice.leq[0] &= ~(std::uint64_t{1} << 12); },
         "LATTICE: order: label 2 is not <= itself (not reflexive)"},
        {"order antisymmetric", [](Image& i) { i.lattice.leq[0] |= std::uint64_t{1} << (3 * 5 + 2); },
         "LATTICE: order: labels 2 and 3 are each <= the other (not antisymmetric)"},
        {"order transitive", [](Image& i) { i.lattice.leq[0] &= ~(std::uint64_t{1} << 3); },
         "LATTICE: order: 0 <= 1 and 1 <= 3 but not 0 <= 3 (not transitive)"},
        // CODE
        {"code empty", [](Image& i) { i.code.clear(); }, "CODE: the program is empty"},
        {"code dst", [](Image& i) { i.code[0].dst = 16; }, "CODE: slot 0: dst: 16 does not fit in 4 bits", false},
        {"code src", [](Image& i) { i.code[1].src = 200; }, "CODE: slot 1: src: 200 does not fit in 4 bits", false},
        // METADATA: compiler version, attributes, layout
        {"compiler version", [](Image& i) { i.compilerVersion = std::string(257, 'v'); },
         "METADATA: compiler version: 257 bytes exceed the limit of 256", false},
        {"attributes cap", [](Image& i) { i.attributes.resize(kMaxAttributes + 1); },
         "METADATA: 2049 attributes exceed the limit of 2048", false},
        {"attribute name", [](Image& i) { i.attributes[1].name = 46; },
         "METADATA: attribute 1: name: string id 46 is out of range (the string table has 46 strings)"},
        {"attribute type agent", [](Image& i) { i.attributes[3].type = T::Agent; },
         "METADATA: attribute 3: type: agent is not a type an attribute can have"},
        {"attribute type unknown", [](Image& i) { i.attributes[3].type = T(11); },
         "METADATA: attribute 3: type: unknown type 11", false},
        {"attribute name repeated", [](Image& i) { i.attributes[4].name = i.attributes[0].name; },
         "METADATA: attribute 4: name: the same as attribute 0's (string id 10)"},
        {"dynamic sets cap", [](Image& i) { i.dynamicSets.resize(kMaxDynamicSets + 1); },
         "METADATA: 4097 dynamic sets exceed the limit of 4096", false},
        {"dynamic set elements cap", [](Image& i) { i.dynamicSets[0].elements.resize(kMaxDynamicSetElements); },
         "METADATA: 65537 dynamic set elements in all exceed the limit of 65536", false},
        {"layout", [](Image& i) { i.dynamicSets.resize(kMaxDynamicSets); },
         "METADATA: layout: the context needs " + std::to_string(manyWords) +
             " words (5 attributes, 4096 dynamic sets), more than the limit of 4095"},
        // agents
        {"agents cap", [](Image& i) { i.agents.resize(kMaxAgents + 1); },
         "METADATA: 65537 agents exceed the limit of 65536", false},
        {"agent name", [](Image& i) { i.agents[1].name = 46; },
         "METADATA: agent 1: name: string id 46 is out of range (the string table has 46 strings)"},
        {"agents unsorted", [](Image& i) { std::swap(i.agents[0], i.agents[1]); },
         "METADATA: agent 1: name: string id 9 is not after agent 0's, 43 (agents are sorted strictly ascending by "
         "name)"},
        {"agent name repeated", [](Image& i) { i.agents[1].name = i.agents[0].name; },
         "METADATA: agent 1: name: string id 9 is not after agent 0's, 9 (agents are sorted strictly ascending by "
         "name)"},
        {"agent owner", [](Image& i) { i.agents[0].owner = 46; },
         "METADATA: agent 0: owner: string id 46 is out of range (the string table has 46 strings)"},
        {"agent measurement", [](Image& i) { i.agents[1].measurement = 1000; },
         "METADATA: agent 1: measurement: string id 1000 is out of range (the string table has 46 strings)"},
        {"agent attribute count", [](Image& i) { i.agents[0].attributes.pop_back(); },
         "METADATA: agent 0: 4 attribute values, expected 5 (one per attribute)"},
        {"agent absent value",
         [](Image& i) {
             i.agents[0].attributes[0] = {false, 3};
         },
         "METADATA: agent 0: attribute 0: absent, but its value is 3 (not 0)"},
        {"agent bool value", [](Image& i) { i.agents[1].attributes[4].value = 2; },
         "METADATA: agent 1: attribute 4: value 2 is not a bool (0 or 1)"},
        {"agent string value", [](Image& i) { i.agents[1].attributes[1].value = 46; },
         "METADATA: agent 1: attribute 1: string id 46 is out of range (the string table has 46 strings)"},
        {"agent string value width", [](Image& i) { i.agents[1].attributes[1].value = std::uint64_t{1} << 32; },
         "METADATA: agent 1: attribute 1: value 4294967296 is not a string id"},
        {"agent label value", [](Image& i) { i.agents[1].attributes[0].value = 5; },
         "METADATA: agent 1: attribute 0: lattice index 5 is out of range (the lattice has 5 labels)"},
        {"agent label value width", [](Image& i) { i.agents[1].attributes[0].value = ~std::uint64_t{0}; },
         "METADATA: agent 1: attribute 0: value 18446744073709551615 is not a lattice index"},
        {"agent set value untagged", [](Image& i) { i.agents[1].attributes[2].value = 2; },
         "METADATA: agent 1: attribute 2: value 2 is not a constant set reference (2^32 + set index)"},
        {"agent set value", [](Image& i) { i.agents[1].attributes[2].value = kConstSetTag | 5; },
         "METADATA: agent 1: attribute 2: set index 5 is out of range (the image has 5 constant sets)"},
        // tools
        {"tools cap", [](Image& i) { i.tools.resize(kMaxTools + 1); },
         "METADATA: 65537 tools exceed the limit of 65536", false},
        {"tool name", [](Image& i) { i.tools[0].name = 46; },
         "METADATA: tool 0: name: string id 46 is out of range (the string table has 46 strings)"},
        {"tools unsorted", [](Image& i) { i.tools[2].name = i.tools[1].name; },
         "METADATA: tool 2: name: string id 23 is not after tool 1's, 23 (tools are sorted strictly ascending by "
         "name)"},
        {"tool provider", [](Image& i) { i.tools[1].provider = 99; },
         "METADATA: tool 1: provider: string id 99 is out of range (the string table has 46 strings)"},
        {"tool label", [](Image& i) { i.tools[0].label = 5; },
         "METADATA: tool 0: label: lattice index 5 is out of range (the lattice has 5 labels)"},
        {"tool pin", [](Image& i) { i.tools[0].pin = 46; },
         "METADATA: tool 0: pin: string id 46 is out of range (the string table has 46 strings)"},
        {"tool pin not a hash", [](Image& i) { i.tools[0].pin = s("name"); },
         "METADATA: tool 0: pin: string id 25 is not a hash (sha256:<64 lowercase hex> or sha384:<96 lowercase "
         "hex>)"},
        {"tool pin uppercase", [](Image& i) { i.strings[35] = "sha384:AB12" + std::string(92, '0'); },
         "METADATA: tool 2: pin: string id 35 is not a hash (sha256:<64 lowercase hex> or sha384:<96 lowercase "
         "hex>)"},
        {"tool pin length", [](Image& i) { i.strings[35] = "sha384:ab12"; },
         "METADATA: tool 2: pin: string id 35 is not a hash (sha256:<64 lowercase hex> or sha384:<96 lowercase "
         "hex>)"},
        {"tool callers", [](Image& i) { i.tools[1].callers = 5; },
         "METADATA: tool 1: callers: set index 5 is out of range (the image has 5 constant sets)"},
        {"tool callers not agents", [](Image& i) { i.tools[1].callers = 0; },
         "METADATA: tool 1: callers: set 0: element 0: 8 is not the name of an agent (the string id of a declared "
         "agent's name)"},
        {"tool callers not strings", [](Image& i) { i.sets[4].push_back(std::uint64_t{1} << 32); },
         "METADATA: tool 1: callers: set 4: element 2: 4294967296 is not the name of an agent (the string id of a "
         "declared agent's name)"},
        {"tool parameters cap", [](Image& i) { i.tools[2].params.resize(schema::kMaxToolParams + 1); },
         "METADATA: tool 2: 17 parameters exceed the limit of 16", false},
        {"parameter name", [](Image& i) { i.tools[1].params[1].name = 46; },
         "METADATA: tool 1: parameter 1: name: string id 46 is out of range (the string table has 46 strings)"},
        {"parameter type", [](Image& i) { i.tools[0].params[0].type = T::Kernel; },
         "METADATA: tool 0: parameter 0: type: kernel is not a type a parameter can have"},
        {"parameter type unknown", [](Image& i) { i.tools[0].params[0].type = T(200); },
         "METADATA: tool 0: parameter 0: type: unknown type 200", false},
        {"parameter name repeated", [](Image& i) { i.tools[1].params[1].name = i.tools[1].params[0].name; },
         "METADATA: tool 1: parameter 1: name: the same as parameter 0's (string id 41)"},
        // data
        {"data cap", [](Image& i) { i.data.resize(kMaxData + 1); },
         "METADATA: 65537 data resources exceed the limit of 65536", false},
        {"data name", [](Image& i) { i.data[0].name = 46; },
         "METADATA: data 0: name: string id 46 is out of range (the string table has 46 strings)"},
        {"data unsorted", [](Image& i) { i.data[1].name = i.data[0].name; },
         "METADATA: data 1: name: string id 32 is not after data 0's, 32 (data resources are sorted strictly "
         "ascending by name)"},
        {"data label", [](Image& i) { i.data[1].label = kNone; },
         "METADATA: data 1: label: lattice index 4294967295 is out of range (the lattice has 5 labels)"},
        {"data region", [](Image& i) { i.data[0].region = 46; },
         "METADATA: data 0: region: string id 46 is out of range (the string table has 46 strings)"},
        {"data owner", [](Image& i) { i.data[0].owner = 47; },
         "METADATA: data 0: owner: string id 47 is out of range (the string table has 46 strings)"},
        {"data purposes", [](Image& i) { i.data[0].purposes = 5; },
         "METADATA: data 0: purposes: set index 5 is out of range (the image has 5 constant sets)"},
        {"data fields", [](Image& i) { i.data[1].fields = kNone; },
         "METADATA: data 1: fields: set index 4294967295 is out of range (the image has 5 constant sets)"},
        // dynamic sets
        {"dynamic set slot", [slots](Image& i) { i.dynamicSets[0].elements[0].value = slots; },
         "METADATA: dynamic set 0: element 0: slot " + std::to_string(slots) + " is out of range (the context has " +
             std::to_string(slots) + " value slots)"},
        {"dynamic set constant",
         [](Image& i) {
             i.dynamicSets[1].elements[0] = {false, 46};
         },
         "METADATA: dynamic set 1: element 0: constant 46 is out of range (neither a string id nor a lattice index: "
         "46 strings, 5 labels)"},
        // rules
        {"rules cap", [](Image& i) { i.rules.resize(kMaxRules + 1); },
         "METADATA: 1048577 rules exceed the limit of 1048576", false},
        {"obligations cap", [](Image& i) { i.rules[0].redact.resize(kMaxObligations); },
         "METADATA: 1048579 redact and approve entries in all exceed the limit of 1048576", false},
        {"rule id", [](Image& i) { i.rules[1].id = 46; },
         "METADATA: rule 1: id: string id 46 is out of range (the string table has 46 strings)"},
        {"rule principal", [](Image& i) { i.rules[2].principal = 46; },
         "METADATA: rule 2: principal: string id 46 is out of range (the string table has 46 strings)"},
        {"rule module", [](Image& i) { i.rules[2].module = 2; },
         "METADATA: rule 2: module: index 2 is out of range (the image has 2 modules)"},
        {"rule kind", [](Image& i) { i.rules[0].kind = Rule::Kind(3); }, "METADATA: rule 0: kind: unknown rule kind 3",
         false},
        {"rule limit zero", [](Image& i) { i.rules[1].limit = 0; },
         "METADATA: rule 1: limit: 0 is not positive (a rate-limited rule needs at least 1)"},
        {"rule limit negative", [](Image& i) { i.rules[1].limit = -1; },
         "METADATA: rule 1: limit: -1 is not positive (a rate-limited rule needs at least 1)"},
        {"rule limit without rate limit", [](Image& i) { i.rules[0].limit = 7; },
         "METADATA: rule 0: limit: 7 without a rate limit (not 0)"},
        {"rule window zero", [](Image& i) { i.rules[1].window = 0; },
         "METADATA: rule 1: window: 0 is not positive (a rate-limited rule needs a window of at least 1 ns)"},
        {"rule window negative", [](Image& i) { i.rules[1].window = -1; },
         "METADATA: rule 1: window: -1 is not positive (a rate-limited rule needs a window of at least 1 ns)"},
        {"rule window without rate limit", [](Image& i) { i.rules[0].window = 60'000'000'000; },
         "METADATA: rule 0: window: 60000000000 without a rate limit (not 0)"},
        {"rule key", [](Image& i) { i.rules[1].key = Rule::LimitKey(4); },
         "METADATA: rule 1: key: unknown rate-limit key 4", false},
        {"rule key without rate limit", [](Image& i) { i.rules[2].key = Rule::LimitKey::Tool; },
         "METADATA: rule 2: key: 3 without a rate limit (not 0, agent)"},
        {"rule redact", [](Image& i) { i.rules[0].redact = {46}; },
         "METADATA: rule 0: redact 0: string id 46 is out of range (the string table has 46 strings)"},
        {"rule redact unsorted",
         [](Image& i) {
             i.rules[2].redact = {38, 25};
         },
         "METADATA: rule 2: redact 1: string id 25 is not after the previous one, 38 (the list is sorted strictly "
         "ascending)"},
        {"rule approve repeated",
         [](Image& i) {
             i.rules[0].approve = {21, 21};
         },
         "METADATA: rule 0: approve 1: string id 21 is not after the previous one, 21 (the list is sorted strictly "
         "ascending)"},
        {"rule approve",
         [](Image& i) {
             i.rules[1].approve = {3, 50};
         },
         "METADATA: rule 1: approve 1: string id 50 is out of range (the string table has 46 strings)"},
        // consents
        {"consents cap", [](Image& i) { i.consents.resize(kMaxConsents + 1); },
         "METADATA: 65537 consents exceed the limit of 65536", false},
        {"consent ids cap", [](Image& i) { i.consents[0].ids.resize(kMaxConsentIds); },
         "METADATA: 1048577 consent ids in all exceed the limit of 1048576", false},
        {"consent principal", [](Image& i) { i.consents[0].principal = 46; },
         "METADATA: consent 0: principal: string id 46 is out of range (the string table has 46 strings)"},
        {"consent scope", [](Image& i) { i.consents[1].scope = Consent::Scope(5); },
         "METADATA: consent 1: scope: unknown consent scope 5", false},
        {"consent any with ids", [](Image& i) { i.consents[2].ids = {0}; },
         "METADATA: consent 2: ids: 1 listed with any (`*` covers every target): must be empty"},
        {"consent gpu with ids", [](Image& i) { i.consents[3].ids = {0}; },
         "METADATA: consent 3: ids: 1 listed for a gpu consent (only tool, data and agent consents list ids): must "
         "be empty"},
        {"consent any with ids, net",
         [](Image& i) {
             i.consents[3] = {s("operator"), Consent::Scope::Net, true, {0, 1}};
         },
         "METADATA: consent 3: ids: 2 listed with any (`*` covers every target): must be empty"},
        {"consent tool id",
         [](Image& i) {
             i.consents[0].ids = {0, 3};
         },
         "METADATA: consent 0: id 1: tool index 3 is out of range (the tool table has 3 entries)"},
        {"consent data id", [](Image& i) { i.consents[1].ids = {2}; },
         "METADATA: consent 1: id 0: data index 2 is out of range (the data table has 2 entries)"},
        {"consent agent id",
         [](Image& i) {
             i.consents[2] = {s("operator"), Consent::Scope::Agent, false, {2}};
         },
         "METADATA: consent 2: id 0: agent index 2 is out of range (the agent table has 2 entries)"},
        {"consent ids unsorted",
         [](Image& i) {
             i.consents[0].ids = {1, 0};
         },
         "METADATA: consent 0: id 1: 0 is not after the previous id, 1 (ids are sorted strictly ascending)"},
        // modules
        {"modules cap", [](Image& i) { i.modules.resize(kMaxModules + 1); },
         "METADATA: 4097 modules exceed the limit of 4096", false},
        {"module name", [](Image& i) { i.modules[1].name = 46; },
         "METADATA: module 1: name: string id 46 is out of range (the string table has 46 strings)"},
        {"module principal", [](Image& i) { i.modules[0].principal = 46; },
         "METADATA: module 0: principal: string id 46 is out of range (the string table has 46 strings)"},
        {"module name repeated", [](Image& i) { i.modules[1].name = i.modules[0].name; },
         "METADATA: module 1: name: the same as module 0's (string id 11)"},
    };
}

TEST(PolicyValidate, EveryRuleWithItsMessage) {
    for (const Case& c : validateCases()) {
        SCOPED_TRACE(c.name);
        Image image = sample();
        c.mutate(image);
        EXPECT_EQ(validateError(image), c.message);
        // Where the encoding can carry the mistake, decoding reports the same message (through validate).
        if (c.encodes) {
            EXPECT_EQ(decodeError(toSections(image)), c.message);
        }
    }
}

// The example messages of docs/bundle.md 8.8 are ones validate() gives: each is the message of a case above.
TEST(PolicyValidate, DocumentedMessagesAreReal) {
    std::ifstream in(std::string(OMEGA_SOURCE_DIR) + "/docs/bundle.md");
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto begin = doc.find("### 8.8 Validation");
    const auto end = doc.find("### 8.9", begin);
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    std::vector<std::string> messages;
    for (const Case& c : validateCases()) messages.push_back(c.message);
    int checked = 0;
    std::size_t at = begin;
    while (at < end) {
        const std::size_t next = doc.find('\n', at);
        std::string line = doc.substr(at, next - at);
        at = next + 1;
        // The last cell of a table row, when it is inline code (`x`, or `` x `` when x holds a backtick).
        if (line.size() < 2 || line.front() != '|' || line.back() != '|') continue;
        line.pop_back();
        std::string cell = line.substr(line.rfind('|') + 1);
        cell = cell.substr(cell.find_first_not_of(' '));
        cell = cell.substr(0, cell.find_last_not_of(' ') + 1);
        const std::string fence = cell.rfind("`` ", 0) == 0 ? "``" : "`";
        if (cell.size() < 2 * fence.size() || cell.rfind(fence, 0) != 0) continue;
        std::string message = cell.substr(fence.size(), cell.size() - 2 * fence.size());
        if (fence.size() == 2) message = message.substr(1, message.size() - 2);
        EXPECT_NE(std::find(messages.begin(), messages.end(), message), messages.end()) << message;
        ++checked;
    }
    EXPECT_GE(checked, 40);
}

TEST(PolicyValidate, LatticeOfTheCapSize) {
    // A total order of 4096 labels: the largest lattice, and the slowest to check.
    Image image = minimal();
    const std::uint32_t n = kMaxLabels;
    for (std::uint32_t i = 0; i < n; ++i) {
        char text[8];
        std::snprintf(text, sizeof text, "l%04u", i);
        image.strings.push_back(text);
        image.lattice.names.push_back(i);
    }
    image.lattice.leq.assign((std::uint64_t{n} * n + 63) / 64, 0);
    for (std::uint64_t a = 0; a < n; ++a)
        for (std::uint64_t b = a; b < n; ++b)
            image.lattice.leq[(a * n + b) / 64] |= std::uint64_t{1} << ((a * n + b) % 64);
    EXPECT_EQ(validateError(image), "(valid)");
    EXPECT_EQ(decodeOk(toSections(image)), image);
}

// ---- hostile input --------------------------------------------------------------------------------------------

TEST(PolicySerialize, TruncationAtEveryByte) {
    for (const Image& image : {sample(), tiny()}) {
        const auto sections = toSections(image);
        for (const Section& section : sections) {
            for (std::size_t length = 0; length < section.data.size(); ++length) {
                Bytes cut(section.data.begin(), section.data.begin() + static_cast<std::ptrdiff_t>(length));
                const auto input = withBody(sections, section.type, cut);
                if (section.type == SectionType::Code) {
                    expectErrorOrCanonical(input);  // whole slots make a shorter program
                } else {
                    EXPECT_FALSE(fromSections(input).ok())
                        << "section " << static_cast<int>(section.type) << " cut to " << length;
                }
            }
        }
    }
}

TEST(PolicySerialize, EveryBitFlipOfMetadata) {
    for (const Image& image : {sample(), tiny()}) {
        const auto sections = toSections(image);
        const Bytes metadata = body(sections, SectionType::Metadata);
        for (std::size_t bit = 0; bit < metadata.size() * 8; ++bit) {
            Bytes flipped = metadata;
            flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            expectErrorOrCanonical(withBody(sections, SectionType::Metadata, flipped));
        }
    }
}

TEST(PolicySerialize, EveryBitFlipOfOtherSections) {
    const auto sections = toSections(sample());
    for (const Section& section : sections) {
        if (section.type == SectionType::Metadata) continue;
        for (std::size_t bit = 0; bit < section.data.size() * 8; ++bit) {
            Bytes flipped = section.data;
            flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            expectErrorOrCanonical(withBody(sections, section.type, flipped));
        }
    }
}

TEST(PolicySerialize, EveryBitFlipAndTruncationOfTheBundle) {
    auto file = bundle::encode(toSections(sample()));
    ASSERT_TRUE(file.ok());
    auto check = [](const Bytes& bytes) {
        auto decoded = bundle::decode(bytes);
        if (!decoded.ok()) return;
        auto image = fromSections(*decoded);
        if (!image.ok()) return;
        EXPECT_FALSE(validate(*image).has_value());
        EXPECT_EQ(toSections(*image), decoded->sections());
    };
    for (std::size_t bit = 0; bit < file->size() * 8; ++bit) {
        Bytes flipped = *file;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        check(flipped);
    }
    for (std::size_t length = 0; length < file->size(); ++length) {
        check(Bytes(file->begin(), file->begin() + static_cast<std::ptrdiff_t>(length)));
    }
}

// ---- fuzz seeds -----------------------------------------------------------------------------------------------

// Seed files start with the fuzzer's mode byte: 0, a bundle follows; 1, a METADATA body for fuzzBase().
std::vector<std::pair<std::string, Bytes>> seeds() {
    std::vector<std::pair<std::string, Bytes>> out;
    auto addBundle = [&](const std::string& name, const Image& image) {
        auto file = bundle::encode(toSections(image));
        if (!file.ok()) std::abort();
        Bytes seed{0};
        seed.insert(seed.end(), file->begin(), file->end());
        out.emplace_back(name, seed);
    };
    auto addMetadata = [&](const std::string& name, const Image& image) {
        Bytes seed{1};
        const Bytes metadata = body(toSections(onFuzzBase(image)), SectionType::Metadata);
        seed.insert(seed.end(), metadata.begin(), metadata.end());
        out.emplace_back(name, seed);
    };
    addBundle("bundle-sample", sample());
    addBundle("bundle-tiny", tiny());
    addBundle("bundle-minimal", minimal());
    addMetadata("metadata-sample", sample());
    addMetadata("metadata-tiny", tiny());
    addMetadata("metadata-minimal", minimal());
    return out;
}

// OMEGA_WRITE_POLICY_IMAGE_SEEDS=DIR rewrites the seeds into DIR (after a format change).
TEST(PolicyImageSeeds, Write) {
    const char* dir = std::getenv("OMEGA_WRITE_POLICY_IMAGE_SEEDS");
    if (dir == nullptr) GTEST_SKIP() << "set OMEGA_WRITE_POLICY_IMAGE_SEEDS to write the seeds";
    for (const auto& [name, bytes] : seeds()) {
        std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        ASSERT_TRUE(out.good()) << name;
    }
}

TEST(PolicyImageSeeds, CommittedSeedsAreCurrentAndDecode) {
    const std::filesystem::path dir = std::filesystem::path(OMEGA_SOURCE_DIR) / "tests/fuzz/seeds/policy-image";
    for (const auto& [name, expected] : seeds()) {
        SCOPED_TRACE(name);
        std::ifstream in(dir / name, std::ios::binary);
        ASSERT_TRUE(in.good()) << "missing seed; run with OMEGA_WRITE_POLICY_IMAGE_SEEDS=" << dir.string();
        const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(bytes, expected) << "stale seed; run with OMEGA_WRITE_POLICY_IMAGE_SEEDS=" << dir.string();
        ASSERT_FALSE(bytes.empty());
        const std::span<const std::uint8_t> rest(bytes.data() + 1, bytes.size() - 1);
        if (bytes[0] == 0) {
            auto decoded = bundle::decode(rest);
            ASSERT_TRUE(decoded.ok()) << decoded.error();
            auto image = fromSections(*decoded);
            EXPECT_TRUE(image.ok()) << image.error();
        } else {
            auto image =
                fromSections(withBody(toSections(fuzzBase()), SectionType::Metadata, Bytes(rest.begin(), rest.end())));
            EXPECT_TRUE(image.ok()) << image.error();
        }
    }
}

}  // namespace
