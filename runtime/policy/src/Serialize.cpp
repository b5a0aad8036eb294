// toSections() and fromSections(): the canonical byte layout of the policy image (docs/bundle.md section 8) and its
// strict decoder. Decoding is structural (lengths, enums, bools, trailing bytes); validate() then checks meaning.
#include "omega/policy/Serialize.h"

#include "omega/bundle/Format.h"
#include "omega/isa/Isa.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace omega::policy {

namespace {

using bundle::Error;
using bundle::Section;
using bundle::SectionType;

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

// ---- encoding -------------------------------------------------------------------------------------------------

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u32(std::uint32_t v) { le(v); }
    void u64(std::uint64_t v) { le(v); }
    void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v)); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    // Counts and lengths are u32; an image too large for that fails validate() anyway.
    void count(std::size_t n) { u32(static_cast<std::uint32_t>(n)); }
    void string(const std::string& s) {
        count(s.size());
        out_.insert(out_.end(), s.begin(), s.end());
    }
    void ids(const std::vector<std::uint32_t>& ids) {
        count(ids.size());
        for (std::uint32_t id : ids) u32(id);
    }
    std::vector<std::uint8_t> take() { return std::move(out_); }

private:
    template <typename T>
    void le(T v) {
        for (std::size_t i = 0; i < sizeof(T); ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }

    std::vector<std::uint8_t> out_;
};

std::vector<std::uint8_t> encodeStrings(const Image& image) {
    Writer w;
    w.count(image.strings.size());
    for (const std::string& s : image.strings) w.string(s);
    return w.take();
}

std::vector<std::uint8_t> encodeSets(const Image& image) {
    Writer w;
    w.count(image.sets.size());
    for (const auto& set : image.sets) {
        w.count(set.size());
        for (std::uint64_t element : set) w.u64(element);
    }
    return w.take();
}

std::vector<std::uint8_t> encodeMatchers(const Image& image) {
    Writer w;
    w.count(image.matchers.size());
    for (const Matcher& m : image.matchers) {
        w.u8(static_cast<std::uint8_t>(m.kind));
        w.ids(m.patterns);
    }
    return w.take();
}

std::vector<std::uint8_t> encodeLattice(const Image& image) {
    Writer w;
    w.ids(image.lattice.names);
    w.count(image.lattice.leq.size());
    for (std::uint64_t word : image.lattice.leq) w.u64(word);
    return w.take();
}

std::vector<std::uint8_t> encodeMetadata(const Image& image) {
    Writer w;
    w.u32(kImageFormatVersion);
    w.string(image.compilerVersion);
    w.u64(image.bound.instructions);
    w.u64(image.bound.cost);

    w.count(image.attributes.size());
    for (const Attribute& a : image.attributes) {
        w.u32(a.name);
        w.u8(static_cast<std::uint8_t>(a.type));
    }
    w.count(image.agents.size());
    for (const Agent& a : image.agents) {
        w.u32(a.name);
        w.u32(a.owner);
        w.u32(a.measurement);
        w.count(a.attributes.size());
        for (const SlotValue& v : a.attributes) {
            w.boolean(v.present);
            w.u64(v.value);
        }
    }
    w.count(image.tools.size());
    for (const Tool& t : image.tools) {
        w.u32(t.name);
        w.u32(t.provider);
        w.u32(t.label);
        w.boolean(t.sink);
        w.boolean(t.privileged);
        w.u32(t.pin);
        w.u32(t.callers);
        w.count(t.params.size());
        for (const Param& p : t.params) {
            w.u32(p.name);
            w.u8(static_cast<std::uint8_t>(p.type));
        }
    }
    w.count(image.data.size());
    for (const Data& d : image.data) {
        w.u32(d.name);
        w.u32(d.label);
        w.u32(d.region);
        w.u32(d.owner);
        w.u32(d.purposes);
        w.u32(d.fields);
    }
    w.count(image.dynamicSets.size());
    for (const DynamicSet& s : image.dynamicSets) {
        w.count(s.elements.size());
        for (const DynamicSet::Element& e : s.elements) {
            w.boolean(e.fromSlot);
            w.u32(e.value);
        }
    }
    w.count(image.rules.size());
    for (const Rule& r : image.rules) {
        w.u32(r.id);
        w.u32(r.principal);
        w.u32(r.module);
        w.u32(r.line);
        w.u8(static_cast<std::uint8_t>(r.kind));
        w.boolean(r.limited);
        w.i64(r.limit);
        w.i64(r.window);
        w.u8(static_cast<std::uint8_t>(r.key));
        w.boolean(r.audit);
        w.ids(r.redact);
        w.ids(r.approve);
    }
    w.count(image.consents.size());
    for (const Consent& c : image.consents) {
        w.u32(c.principal);
        w.u8(static_cast<std::uint8_t>(c.scope));
        w.boolean(c.any);
        w.ids(c.ids);
    }
    w.count(image.modules.size());
    for (const Module& m : image.modules) {
        w.u32(m.name);
        w.u32(m.principal);
        w.i64(m.version);
        w.boolean(m.root);
        for (std::uint8_t b : m.sourceHash) w.u8(b);
    }
    return w.take();
}

// ---- decoding -------------------------------------------------------------------------------------------------

// Reads one section front to back. The first failure is kept and every later read returns zero without moving,
// so decoding code reads straight through and checks failed() where a loop would otherwise run on. Messages are
// "SECTION: offset N: <table> <index>: ...: <field>: <problem>".
class Reader {
public:
    Reader(const char* section, std::span<const std::uint8_t> bytes) : section_(section), bytes_(bytes) {}

    // Names the table entry being read in messages, while it lives.
    class Scope {
    public:
        Scope(Reader& reader, const char* table, std::uint64_t index) : reader_(reader) {
            reader_.path_.emplace_back(table, index);
        }
        ~Scope() { reader_.path_.pop_back(); }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        Reader& reader_;
    };

    bool failed() const { return error_.has_value(); }
    const Error& error() const { return *error_; }
    std::uint64_t remaining() const { return bytes_.size() - pos_; }

    void fail(std::uint64_t at, const char* field, const std::string& problem) {
        if (failed()) return;
        std::string m = std::string(section_) + ": offset " + num(at) + ": ";
        for (const auto& [table, index] : path_) m += std::string(table) + " " + num(index) + ": ";
        if (field != nullptr) m += std::string(field) + ": ";
        error_ = Error{m + problem};
    }

    std::uint8_t u8(const char* field) { return le<std::uint8_t>(field); }
    std::uint32_t u32(const char* field) { return le<std::uint32_t>(field); }
    std::uint64_t u64(const char* field) { return le<std::uint64_t>(field); }
    std::int64_t i64(const char* field) { return static_cast<std::int64_t>(le<std::uint64_t>(field)); }

    bool boolean(const char* field) {
        const std::uint64_t at = pos_;
        const std::uint8_t b = u8(field);
        if (b > 1) fail(at, field, "byte " + num(b) + " is not a bool (0 or 1)");
        return b == 1;
    }

    // An enum stored as one byte whose known values are 0 to count - 1.
    template <typename E>
    E enumeration(const char* field, const char* what, std::uint8_t count) {
        const std::uint64_t at = pos_;
        const std::uint8_t v = u8(field);
        if (v >= count) {
            fail(at, field, "unknown " + std::string(what) + " " + num(v));
            return E{};
        }
        return static_cast<E>(v);
    }

    // A u32 count of elements of at least `minBytes` bytes each, at most `cap` (or, with `total`, at most `cap`
    // together with the counts already added to *total). Checked before the caller allocates; 0 after a failure.
    std::uint32_t count(const char* field, const char* noun, std::uint64_t minBytes, std::uint64_t cap,
                        std::uint64_t* total = nullptr) {
        const std::uint64_t at = pos_;
        const std::uint32_t n = u32(field);
        if (failed()) return 0;
        if (total != nullptr) {
            if (n > cap - *total) {
                fail(at, field,
                     num(n) + " makes " + num(*total + n) + " " + noun + " in all, more than the limit of " + num(cap));
                return 0;
            }
            *total += n;
        } else if (n > cap) {
            fail(at, field, num(n) + " exceeds the limit of " + num(cap) + " " + noun);
            return 0;
        }
        if (n > remaining() / minBytes) {
            fail(at, field, num(n) + " needs at least " + num(n * minBytes) + " bytes, " + num(remaining()) + " left");
            return 0;
        }
        return n;
    }

    std::string string(const char* field, std::uint32_t cap) {
        const std::uint64_t at = pos_;
        const std::uint32_t n = u32(field);
        if (failed()) return {};
        if (n > cap) {
            fail(at, field, "length " + num(n) + " exceeds the limit of " + num(cap) + " bytes");
            return {};
        }
        if (n > remaining()) {
            fail(at, field, "truncated: the string needs " + num(n) + " bytes, " + num(remaining()) + " left");
            return {};
        }
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }

    template <std::size_t N>
    void raw(std::array<std::uint8_t, N>& out, const char* field) {
        if (failed()) return;
        if (remaining() < N) {
            truncated(field, N);
            return;
        }
        for (std::size_t i = 0; i < N; ++i) out[i] = bytes_[pos_ + i];
        pos_ += N;
    }

    std::vector<std::uint32_t> ids(const char* countField, const char* noun, std::uint64_t cap,
                                   std::uint64_t* total = nullptr) {
        std::vector<std::uint32_t> out(count(countField, noun, 4, cap, total));
        for (std::uint32_t& id : out) id = u32(noun);
        return out;
    }

    // The section must end here.
    void finish(const char* after) {
        if (!failed() && remaining() != 0) {
            fail(pos_, "trailing bytes", num(remaining()) + " unread after " + std::string(after));
        }
    }

private:
    template <typename T>
    T le(const char* field) {
        if (failed()) return 0;
        if (remaining() < sizeof(T)) {
            truncated(field, sizeof(T));
            return 0;
        }
        T v = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(bytes_[pos_ + i]) << (8 * i));
        pos_ += sizeof(T);
        return v;
    }

    void truncated(const char* field, std::uint64_t needed) {
        fail(pos_, field, "truncated: needs " + num(needed) + " bytes, " + num(remaining()) + " left");
    }

    const char* section_;
    std::span<const std::uint8_t> bytes_;
    std::uint64_t pos_ = 0;
    std::vector<std::pair<const char*, std::uint64_t>> path_;
    std::optional<Error> error_;
};

// Encoded sizes of the smallest table entries: what a count is checked against before anything is allocated.
constexpr std::uint64_t kMinString = 4;
constexpr std::uint64_t kMinSet = 4;
constexpr std::uint64_t kMinMatcher = 1 + 4;
constexpr std::uint64_t kAttributeSize = 4 + 1;
constexpr std::uint64_t kMinAgent = 3 * 4 + 4;
constexpr std::uint64_t kSlotValueSize = 1 + 8;
constexpr std::uint64_t kMinTool = 3 * 4 + 2 + 2 * 4 + 4;
constexpr std::uint64_t kParamSize = 4 + 1;
constexpr std::uint64_t kDataSize = 6 * 4;
constexpr std::uint64_t kMinDynamicSet = 4;
constexpr std::uint64_t kElementSize = 1 + 4;
constexpr std::uint64_t kMinRule = 4 * 4 + 1 + 1 + 8 + 8 + 1 + 1 + 4 + 4;
constexpr std::uint64_t kMinConsent = 4 + 1 + 1 + 4;
constexpr std::uint64_t kModuleSize = 4 + 4 + 8 + 1 + 32;
constexpr std::uint64_t kMaxLatticeWords = (std::uint64_t{kMaxLabels} * kMaxLabels + 63) / 64;

constexpr std::uint8_t kTypeCount = static_cast<std::uint8_t>(schema::Type::Kernel) + 1;

void decodeStrings(Reader& r, Image& image) {
    const std::uint32_t n = r.count("string count", "strings", kMinString, kMaxStrings);
    image.strings.reserve(n);
    for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
        Reader::Scope scope(r, "string", i);
        image.strings.push_back(r.string("length", kMaxStringBytes));
    }
    r.finish("the string table");
}

void decodeSets(Reader& r, Image& image) {
    const std::uint32_t n = r.count("set count", "sets", kMinSet, kMaxSets);
    image.sets.reserve(n);
    std::uint64_t elements = 0;
    for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
        Reader::Scope scope(r, "set", i);
        std::vector<std::uint64_t> set(r.count("element count", "set elements", 8, kMaxSetElements, &elements));
        for (std::uint64_t& element : set) element = r.u64("element");
        image.sets.push_back(std::move(set));
    }
    r.finish("the sets");
}

void decodeMatchers(Reader& r, Image& image) {
    const std::uint32_t n = r.count("matcher count", "matchers", kMinMatcher, kMaxMatchers);
    image.matchers.reserve(n);
    std::uint64_t patterns = 0;
    for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
        Reader::Scope scope(r, "matcher", i);
        Matcher m;
        m.kind = r.enumeration<Matcher::Kind>("kind", "matcher kind", 2);
        m.patterns = r.ids("pattern count", "patterns", kMaxMatcherPatterns, &patterns);
        image.matchers.push_back(std::move(m));
    }
    r.finish("the matchers");
}

void decodeLattice(Reader& r, Image& image) {
    image.lattice.names = r.ids("label count", "labels", kMaxLabels);
    image.lattice.leq.resize(r.count("word count", "words", 8, kMaxLatticeWords));
    for (std::uint64_t& word : image.lattice.leq) word = r.u64("word");
    r.finish("the order matrix");
}

std::optional<Error> decodeCode(std::span<const std::uint8_t> bytes, Image& image) {
    if (bytes.size() / isa::kSlotSize > kMaxCodeSlots) {
        return Error{"CODE: " + num(bytes.size() / isa::kSlotSize) + " slots exceed the limit of " +
                     num(kMaxCodeSlots)};
    }
    auto code = isa::decode(bytes);
    if (!code.ok()) {
        const isa::Error& e = code.error();
        return Error{"CODE: offset " + num(e.pc * isa::kSlotSize) + ": slot " + num(e.pc) + ": " + e.message};
    }
    image.code = std::move(code).value();
    return std::nullopt;
}

void decodeMetadata(Reader& r, Image& image) {
    const std::uint32_t version = r.u32("format version");
    if (!r.failed() && version != kImageFormatVersion) {
        r.fail(0, "format version",
               "version " + num(version) + " is not supported (this runtime reads version " + num(kImageFormatVersion) +
                   ")");
    }
    image.compilerVersion = r.string("compiler version", kMaxCompilerVersionBytes);
    image.bound.instructions = r.u64("cost bound instructions");
    image.bound.cost = r.u64("cost bound cost");

    const std::uint32_t attributes = r.count("attribute count", "attributes", kAttributeSize, kMaxAttributes);
    image.attributes.resize(attributes);
    for (std::uint32_t i = 0; i < attributes && !r.failed(); ++i) {
        Reader::Scope scope(r, "attribute", i);
        Attribute& a = image.attributes[i];
        a.name = r.u32("name");
        a.type = r.enumeration<schema::Type>("type", "type", kTypeCount);
    }

    const std::uint32_t agents = r.count("agent count", "agents", kMinAgent, kMaxAgents);
    image.agents.resize(agents);
    for (std::uint32_t i = 0; i < agents && !r.failed(); ++i) {
        Reader::Scope scope(r, "agent", i);
        Agent& a = image.agents[i];
        a.name = r.u32("name");
        a.owner = r.u32("owner");
        a.measurement = r.u32("measurement");
        a.attributes.resize(r.count("attribute count", "attribute values", kSlotValueSize, kMaxAttributes));
        for (std::size_t k = 0; k < a.attributes.size(); ++k) {
            Reader::Scope inner(r, "attribute", k);
            a.attributes[k].present = r.boolean("present");
            a.attributes[k].value = r.u64("value");
        }
    }

    const std::uint32_t tools = r.count("tool count", "tools", kMinTool, kMaxTools);
    image.tools.resize(tools);
    for (std::uint32_t i = 0; i < tools && !r.failed(); ++i) {
        Reader::Scope scope(r, "tool", i);
        Tool& t = image.tools[i];
        t.name = r.u32("name");
        t.provider = r.u32("provider");
        t.label = r.u32("label");
        t.sink = r.boolean("sink");
        t.privileged = r.boolean("privileged");
        t.pin = r.u32("pin");
        t.callers = r.u32("callers");
        t.params.resize(r.count("parameter count", "parameters", kParamSize, schema::kMaxToolParams));
        for (std::size_t k = 0; k < t.params.size(); ++k) {
            Reader::Scope inner(r, "parameter", k);
            t.params[k].name = r.u32("name");
            t.params[k].type = r.enumeration<schema::Type>("type", "type", kTypeCount);
        }
    }

    const std::uint32_t data = r.count("data count", "data resources", kDataSize, kMaxData);
    image.data.resize(data);
    for (std::uint32_t i = 0; i < data && !r.failed(); ++i) {
        Reader::Scope scope(r, "data", i);
        Data& d = image.data[i];
        d.name = r.u32("name");
        d.label = r.u32("label");
        d.region = r.u32("region");
        d.owner = r.u32("owner");
        d.purposes = r.u32("purposes");
        d.fields = r.u32("fields");
    }

    const std::uint32_t dynamicSets = r.count("dynamic set count", "dynamic sets", kMinDynamicSet, kMaxDynamicSets);
    image.dynamicSets.resize(dynamicSets);
    std::uint64_t elements = 0;
    for (std::uint32_t i = 0; i < dynamicSets && !r.failed(); ++i) {
        Reader::Scope scope(r, "dynamic set", i);
        auto& set = image.dynamicSets[i].elements;
        set.resize(r.count("element count", "dynamic set elements", kElementSize, kMaxDynamicSetElements, &elements));
        for (std::size_t k = 0; k < set.size(); ++k) {
            Reader::Scope inner(r, "element", k);
            set[k].fromSlot = r.boolean("from slot");
            set[k].value = r.u32("value");
        }
    }

    const std::uint32_t rules = r.count("rule count", "rules", kMinRule, kMaxRules);
    image.rules.resize(rules);
    std::uint64_t obligations = 0;
    for (std::uint32_t i = 0; i < rules && !r.failed(); ++i) {
        Reader::Scope scope(r, "rule", i);
        Rule& rule = image.rules[i];
        rule.id = r.u32("id");
        rule.principal = r.u32("principal");
        rule.module = r.u32("module");
        rule.line = r.u32("line");
        rule.kind = r.enumeration<Rule::Kind>("kind", "rule kind", 3);
        rule.limited = r.boolean("limited");
        rule.limit = r.i64("limit");
        rule.window = r.i64("window");
        rule.key = r.enumeration<Rule::LimitKey>("key", "rate-limit key", 4);
        rule.audit = r.boolean("audit");
        rule.redact = r.ids("redact count", "redact and approve entries", kMaxObligations, &obligations);
        rule.approve = r.ids("approve count", "redact and approve entries", kMaxObligations, &obligations);
    }

    const std::uint32_t consents = r.count("consent count", "consents", kMinConsent, kMaxConsents);
    image.consents.resize(consents);
    std::uint64_t consentIds = 0;
    for (std::uint32_t i = 0; i < consents && !r.failed(); ++i) {
        Reader::Scope scope(r, "consent", i);
        Consent& c = image.consents[i];
        c.principal = r.u32("principal");
        c.scope = r.enumeration<Consent::Scope>("scope", "consent scope", 5);
        c.any = r.boolean("any");
        c.ids = r.ids("id count", "consent ids", kMaxConsentIds, &consentIds);
    }

    const std::uint32_t modules = r.count("module count", "modules", kModuleSize, kMaxModules);
    image.modules.resize(modules);
    for (std::uint32_t i = 0; i < modules && !r.failed(); ++i) {
        Reader::Scope scope(r, "module", i);
        Module& m = image.modules[i];
        m.name = r.u32("name");
        m.principal = r.u32("principal");
        m.version = r.i64("version");
        m.root = r.boolean("root");
        r.raw(m.sourceHash, "source hash");
    }
    r.finish("the modules");
}

// Section bodies by type (1 to 7); index 0 is unused.
using Bodies = std::array<std::optional<std::span<const std::uint8_t>>, 8>;

constexpr std::array<SectionType, 6> kImageSections = {SectionType::Strings, SectionType::Sets, SectionType::Matchers,
                                                       SectionType::Lattice, SectionType::Code, SectionType::Metadata};

std::size_t slot(SectionType type) {
    return static_cast<std::size_t>(type);
}

bundle::Result<Image> decodeImage(const Bodies& bodies) {
    for (SectionType type : kImageSections) {
        if (!bodies[slot(type)]) return Error{std::string(bundle::sectionTypeName(type)) + ": missing section"};
    }
    if (bodies[slot(SectionType::SourcesMerkle)]) {
        return Error{"SOURCES_MERKLE: image format version " + num(kImageFormatVersion) +
                     " does not use this section; it must be absent"};
    }

    Image image;
    using Decoder = void (*)(Reader&, Image&);
    const std::pair<SectionType, Decoder> structural[] = {
        {SectionType::Strings, decodeStrings},
        {SectionType::Sets, decodeSets},
        {SectionType::Matchers, decodeMatchers},
        {SectionType::Lattice, decodeLattice},
    };
    for (const auto& [type, decoder] : structural) {
        Reader r(bundle::sectionTypeName(type), *bodies[slot(type)]);
        decoder(r, image);
        if (r.failed()) return r.error();
    }
    if (auto e = decodeCode(*bodies[slot(SectionType::Code)], image)) return *e;
    Reader metadata(bundle::sectionTypeName(SectionType::Metadata), *bodies[slot(SectionType::Metadata)]);
    decodeMetadata(metadata, image);
    if (metadata.failed()) return metadata.error();

    if (auto e = validate(image)) return *e;
    return image;
}

}  // namespace

std::vector<Section> toSections(const Image& image) {
    std::vector<Section> sections;
    sections.push_back({SectionType::Strings, encodeStrings(image)});
    sections.push_back({SectionType::Sets, encodeSets(image)});
    sections.push_back({SectionType::Matchers, encodeMatchers(image)});
    sections.push_back({SectionType::Lattice, encodeLattice(image)});
    sections.push_back({SectionType::Code, isa::encode(image.code)});
    sections.push_back({SectionType::Metadata, encodeMetadata(image)});
    return sections;
}

bundle::Result<Image> fromSections(const bundle::Bundle& bundle) {
    Bodies bodies;
    for (std::size_t type = 1; type < bodies.size(); ++type) bodies[type] = bundle.section(SectionType(type));
    return decodeImage(bodies);
}

bundle::Result<Image> fromSections(std::span<const Section> sections) {
    Bodies bodies;
    for (const Section& s : sections) {
        const auto type = static_cast<std::uint32_t>(s.type);
        if (type == 0 || type >= bodies.size()) {
            return Error{"section type " + num(type) + " is not a content section (types are 1 to 7)"};
        }
        if (bodies[type]) return Error{std::string(bundle::sectionTypeName(s.type)) + ": the section appears twice"};
        bodies[type] = std::span<const std::uint8_t>(s.data);
    }
    return decodeImage(bodies);
}

}  // namespace omega::policy
