// The random program and request generator, and its own reading of the decision semantics (see Generate.h).
//
// Layout: pools of values shared by programs and requests; the generator's knowledge of a program (declarations,
// modules, rules with typed condition trees); program generation and rendering; the expectation (an independent
// evaluator over that knowledge); request generation over a checked sema::Model; helpers for tests.
#include "omega/gen/Generate.h"

#include "omega/ast/Printer.h"

#include "omega/parse/Parser.h"
#include "omega/sema/Schema.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>

namespace omega::gen {

using ast::Action;

// ---------------------------------------------------------------------------------------------------------------
// Randomness: std::mt19937_64 only, reduced with `%` so every standard library gives the same programs. Draws are
// sequenced by statements (never two in one function call's arguments, whose order is unspecified), so every
// compiler does too.

namespace {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : g_(seed) {}
    std::uint64_t next() { return g_(); }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(g_() % n); }
    int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<std::size_t>(hi - lo + 1))); }
    bool chance(double p) { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0) < p; }
    template <typename T>
    const T& pick(const std::vector<T>& v) {
        return v[below(v.size())];
    }
    template <typename T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }
    // A random subset of `v` of at most `most` elements, in random order.
    template <typename T>
    std::vector<T> subset(std::vector<T> v, std::size_t most) {
        shuffle(v);
        v.resize(std::min(v.size(), below(most + 1)));
        return v;
    }

private:
    std::mt19937_64 g_;
};

// ---------------------------------------------------------------------------------------------------------------
// Types and values as the generator sees them

enum class Ty { Bool, Int, Str, Size, Dur, Label, Hash, StrSet, LabSet, Empty, Agent, Group, Kernels, Kernel };

bool isSetTy(Ty t) {
    return t == Ty::StrSet || t == Ty::LabSet || t == Ty::Empty;
}

const char* typeText(Ty t) {
    switch (t) {
        case Ty::Bool: return "bool";
        case Ty::Int: return "int";
        case Ty::Str: return "string";
        case Ty::Size: return "size";
        case Ty::Dur: return "duration";
        case Ty::Label: return "label";
        case Ty::StrSet: return "set<string>";
        case Ty::LabSet: return "set<label>";
        default: return "?";
    }
}

struct V {
    std::int64_t n = 0;           // bool, int, size (bytes), duration (ns)
    std::string s;                // string, label, hash ("sha256:<hex>"), agent
    std::set<std::string> items;  // sets
};

struct Lit {
    V v;
    std::string text;  // as written in the source
};

std::string quote(const std::string& s) {
    return ast::quoteString(s);
}

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// Pools: few values, so that rules and requests meet. "\xc3\xa9" is U+00E9, one code point in two bytes.
const std::vector<std::string>& stringPool() {
    static const std::vector<std::string> v = {"a",        "b",         "ab",   "abc",       "ba",         "x1",   "x9",
                                               "eu",       "us",        "",     "treatment", "lead",       "A",    "tr",
                                               "\xc3\xa9", "a\xc3\xa9", "q\"t", "c\\d",      "line\nnext", "t\tab"};
    return v;
}
const std::vector<std::string>& globPool() {
    static const std::vector<std::string> v = {"a*",           "*b", "?b",    "[a-c]*", "x[0-9]",     "*",        "",
                                               "a?c",          "?",  "t*t",   "[xy]?",  "*\xc3\xa9*", "[ab][ab]", "tr*",
                                               "a[\xc3\xa9x]", "??", "[a-]*", "x[]",    "q\"*"};
    return v;
}
const std::vector<std::string>& prefixPool() {
    static const std::vector<std::string> v = {"a", "x", "", "tr", "\xc3\xa9", "ab"};
    return v;
}
const std::vector<std::int64_t>& intPool() {
    static const std::vector<std::int64_t> v = {0, 1, 2, 3, 5, 10, 100, INT64_MAX};
    return v;
}
struct Quantity {
    std::int64_t value;
    const char* text;
};
const std::vector<Quantity>& sizePool() {
    static const std::vector<Quantity> v = {{1024, "1 KiB"}, {1024, "1024 B"},      {1024, "1KiB"},
                                            {1000, "1 KB"},  {1000, "1000 B"},      {1048576, "1 MiB"},
                                            {0, "0 B"},      {1048576, "1024 KiB"}, {2048, "2 KiB"}};
    return v;
}
const std::vector<Quantity>& durationPool() {
    static const std::vector<Quantity> v = {{30000000000LL, "30s"},      {30000000000LL, "30 s"},
                                            {30000000000LL, "30000 ms"}, {60000000000LL, "1 min"},
                                            {60000000000LL, "1m"},       {60000000000LL, "60s"},
                                            {500000000LL, "500ms"},      {3600000000000LL, "1h"},
                                            {3600000000000LL, "60 min"}, {0, "0s"}};
    return v;
}
struct HashSpec {
    std::string alg, hex;
};
const std::vector<HashSpec>& hashPool() {
    static const std::vector<HashSpec> v = {{"sha256", repeat("ab", 32)},
                                            {"sha256", repeat("0123456789abcdef", 4)},
                                            {"sha384", repeat("c", 96)},
                                            {"sha256", repeat("f0", 32)}};
    return v;
}
const std::vector<std::string>& kernelNamePool() {
    static const std::vector<std::string> v = {"gemm_1", "gemm_a", "conv", "conv2", "k7", "attn"};
    return v;
}
const std::vector<std::string>& kernelGlobPool() {
    static const std::vector<std::string> v = {"gemm_*", "conv?", "k[0-9]", "*", "attn"};
    return v;
}
const std::vector<std::string>& fieldPool() {
    static const std::vector<std::string> v = {"ssn", "iban", "name", "a"};
    return v;
}
const std::vector<std::string>& rolePool() {
    static const std::vector<std::string> v = {"lead", "finance", "a"};
    return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Patterns, bodies, conditions

struct Pattern {
    enum class K { Any, Exact, Prefix };
    K k = K::Any;
    std::string text;  // Exact: the name; Prefix: the part before `.*`
    bool matches(const std::string& name) const {
        switch (k) {
            case K::Any: return true;
            case K::Exact: return name == text;
            case K::Prefix: return name.size() > text.size() + 1 && name.rfind(text + ".", 0) == 0;
        }
        return false;
    }
    std::string render() const { return k == K::Any ? "*" : k == K::Exact ? text : text + ".*"; }
};

struct AgentSel {
    enum class K { Omitted, Any, Named, List, Group };
    K k = K::Omitted;
    std::vector<std::string> names;  // Named, List: agents; Group: the group
};

enum class Op { Eq, Ne, Lt, Le, Gt, Ge, In, Like, StartsWith };

const char* opText(Op op) {
    switch (op) {
        case Op::Eq: return "==";
        case Op::Ne: return "!=";
        case Op::Lt: return "<";
        case Op::Le: return "<=";
        case Op::Gt: return ">";
        case Op::Ge: return ">=";
        case Op::In: return "in";
        case Op::Like: return "like";
        case Op::StartsWith: return "startswith";
    }
    return "?";
}

struct Node {
    enum class K { Lit, Path, Name, SetLit, Not, And, Or, Cmp, Has };
    K k = K::Lit;
    Ty ty = Ty::Bool;  // the static type (Bool for Not/And/Or/Cmp/Has)
    Lit lit;
    std::string root, field;  // Path, Has; Name: root is the name
    Op op = Op::Eq;
    std::vector<Node> kids;
    bool paren = false;  // redundant parentheses in the source
    bool tight = false;  // `a==b` rather than `a == b`
};

struct Body {
    Action action = Action::Tool;
    std::optional<Pattern> target;
    AgentSel subject, recipient;
    bool from = false;
    std::optional<Node> cond;
};

struct Obl {
    enum class K { Audit, Redact, Approve };
    K k = K::Audit;
    std::vector<std::string> args;
};

struct Limit {
    std::int64_t count = 1;
    std::string window;
    std::string key;  // empty: the default (agent)
};

struct Rule {
    enum class K { Permit, Forbid, Oblig, Assert };
    K kind = K::Permit;
    Body body;
    std::optional<Limit> limit;
    std::vector<Obl> obls;
    std::string assertHead;  // "never permit", ...
    std::size_t module = 0;
    int line = 0;
    std::string id;
};

struct Scope {
    enum class K { Tool, Data, Agent, Gpu, Net };
    K k = K::Tool;
    Pattern p;
    std::string render() const {
        switch (k) {
            case K::Tool: return "tool " + p.render();
            case K::Data: return "data " + p.render();
            case K::Agent: return "agent " + p.render();
            case K::Gpu: return "gpu";
            case K::Net: return "net";
        }
        return "";
    }
};

struct Mod {
    std::string name;
    int version = 1;
    std::string principal;
    std::vector<Scope> governs;
    std::vector<Scope> consents;
    bool scoped() const { return !governs.empty(); }
};

// Declarations
struct LabelStmt {
    std::vector<std::string> chain;
    std::size_t module = 0;
};
struct Attr {
    std::string name;
    Ty ty = Ty::Str;
    std::vector<std::size_t> declaredIn;  // modules with `attribute NAME: TYPE;`
};
struct AgentD {
    std::string name;
    std::optional<std::string> owner;
    std::optional<Lit> measurement;
    std::vector<std::pair<std::string, Lit>> attrs;  // in source order
    std::size_t module = 0;
    const Lit* attr(const std::string& n) const {
        for (const auto& [k, v] : attrs)
            if (k == n) return &v;
        return nullptr;
    }
};
struct GroupD {
    std::string name;
    std::vector<std::string> members;
    std::size_t module = 0;
};
struct ToolD {
    std::string name;
    std::vector<std::pair<std::string, Ty>> params;
    std::optional<std::string> returns;
    bool sink = false, privileged = false;
    std::optional<Lit> pin;
    std::vector<int> modOrder;  // 0 returns, 1 sink, 2 privileged, 3 pin
    std::size_t module = 0;
    std::string provider() const { return name.substr(0, name.find('.')); }
    std::optional<Ty> param(const std::string& n) const {
        for (const auto& [k, t] : params)
            if (k == n) return t;
        return std::nullopt;
    }
};
struct DataD {
    std::string name;
    std::string label;
    std::optional<std::string> region, owner;
    std::set<std::string> purposes, fields;
    std::vector<std::string> props;  // rendered `key value;` in source order
    std::size_t module = 0;
};
struct KernelsD {
    std::string name;
    std::set<std::string> modules;
    std::vector<std::string> names;
    std::vector<std::string> props;
    std::size_t module = 0;
};
struct SetD {
    std::string name;
    Ty ty = Ty::StrSet;  // StrSet, LabSet or Empty
    std::vector<std::string> values;
    std::size_t module = 0;
};

}  // namespace

struct Knowledge {
    std::vector<std::string> labels;
    std::map<std::string, int> labelIndex;
    std::vector<std::vector<bool>> leq;
    std::vector<LabelStmt> labelStmts;
    std::vector<Attr> attrs;
    std::vector<AgentD> agents;
    std::vector<GroupD> groups;
    std::vector<ToolD> tools;
    std::vector<DataD> data;
    std::vector<KernelsD> kernels;
    std::vector<SetD> sets;
    std::vector<Mod> modules;
    std::vector<Rule> rules;

    template <typename T>
    static const T* find(const std::vector<T>& v, const std::string& name) {
        for (const T& x : v)
            if (x.name == name) return &x;
        return nullptr;
    }
    bool labelLe(const std::string& a, const std::string& b) const {
        auto x = labelIndex.find(a), y = labelIndex.find(b);
        return x != labelIndex.end() && y != labelIndex.end() && leq[x->second][y->second];
    }
    void closeLattice(const std::vector<std::pair<std::string, std::string>>& edges) {
        labelIndex.clear();
        for (std::size_t i = 0; i < labels.size(); ++i) labelIndex[labels[i]] = static_cast<int>(i);
        std::size_t n = labels.size();
        leq.assign(n, std::vector<bool>(n, false));
        for (std::size_t i = 0; i < n; ++i) leq[i][i] = true;
        for (const auto& [a, b] : edges) leq[labelIndex[a]][labelIndex[b]] = true;
        for (std::size_t m = 0; m < n; ++m)  // Floyd-Warshall closure
            for (std::size_t i = 0; i < n; ++i)
                if (leq[i][m])
                    for (std::size_t j = 0; j < n; ++j)
                        if (leq[m][j]) leq[i][j] = true;
    }
};

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Rendering of conditions and bodies

int prec(const Node& n) {
    switch (n.k) {
        case Node::K::Or: return 1;
        case Node::K::And: return 2;
        case Node::K::Not: return 3;
        case Node::K::Cmp:
        case Node::K::Has: return 4;
        default: return 5;
    }
}

std::string render(const Node& n);

std::string wrapped(const Node& n, int needed) {
    std::string s = render(n);
    return prec(n) < needed && !n.paren ? "(" + s + ")" : s;
}

std::string render(const Node& n) {
    std::string s;
    switch (n.k) {
        case Node::K::Lit: s = n.lit.text; break;
        case Node::K::Path: s = n.root + (n.field.empty() ? "" : "." + n.field); break;
        case Node::K::Name: s = n.root; break;
        case Node::K::SetLit:
            s = "{";
            for (std::size_t i = 0; i < n.kids.size(); ++i) s += (i ? ", " : "") + render(n.kids[i]);
            s += "}";
            break;
        case Node::K::Not: s = "not " + wrapped(n.kids[0], 3); break;
        case Node::K::And:
        case Node::K::Or:
            for (std::size_t i = 0; i < n.kids.size(); ++i)
                s += (i ? (n.k == Node::K::And ? " and " : " or ") : "") + wrapped(n.kids[i], prec(n) + 1);
            break;
        case Node::K::Cmp: {
            bool word = n.op == Op::In || n.op == Op::Like || n.op == Op::StartsWith;
            std::string op = n.tight && !word ? opText(n.op) : std::string(" ") + opText(n.op) + " ";
            s = wrapped(n.kids[0], 5) + op + wrapped(n.kids[1], 5);
            break;
        }
        case Node::K::Has: s = n.root + " has " + n.field; break;
    }
    return n.paren ? "(" + s + ")" : s;
}

std::string renderAgents(const AgentSel& a) {
    switch (a.k) {
        case AgentSel::K::Omitted: return "";
        case AgentSel::K::Any: return "agent *";
        case AgentSel::K::Named: return "agent " + a.names[0];
        case AgentSel::K::List: {
            std::string s = "agent {";
            for (std::size_t i = 0; i < a.names.size(); ++i) s += (i ? ", " : "") + a.names[i];
            return s + "}";
        }
        case AgentSel::K::Group: return "group " + a.names[0];
    }
    return "";
}

std::string renderHead(const Body& b) {
    std::string s = ast::actionName(b.action);
    if (b.target) s += " " + b.target->render();
    if (b.subject.k != AgentSel::K::Omitted) s += (b.from ? " from " : " by ") + renderAgents(b.subject);
    if (b.recipient.k != AgentSel::K::Omitted) s += " to " + renderAgents(b.recipient);
    return s;
}

std::string renderObl(const Obl& o) {
    switch (o.k) {
        case Obl::K::Audit: return "audit";
        case Obl::K::Redact:
        case Obl::K::Approve: {
            std::string s = o.k == Obl::K::Redact ? "redact(" : "approve(";
            for (std::size_t i = 0; i < o.args.size(); ++i) s += (i ? ", " : "") + quote(o.args[i]);
            return s + ")";
        }
    }
    return "";
}

std::string renderObls(const std::vector<Obl>& obls) {
    std::string s;
    for (std::size_t i = 0; i < obls.size(); ++i) s += (i ? ", " : "") + renderObl(obls[i]);
    return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Program generation

struct NameSpec {
    const char* name;
    Ty ty;
    bool keyword;
};

const std::vector<NameSpec>& attrPool() {
    // `sig` is a hash: only agents can introduce it (hash is not a parameter type), never `attribute`.
    static const std::vector<NameSpec> v = {
        {"role", Ty::Str, false},    {"level", Ty::Int, false},    {"trusted", Ty::Bool, false},
        {"quota", Ty::Size, false},  {"ttl", Ty::Dur, false},      {"clearance", Ty::Label, false},
        {"tags", Ty::StrSet, false}, {"zones", Ty::LabSet, false}, {"limit", Ty::Int, true},
        {"sig", Ty::Hash, false},    {"to", Ty::Str, true}};
    return v;
}
const std::vector<NameSpec>& paramPool() {
    static const std::vector<NameSpec> v = {
        {"query", Ty::Str, false},   {"to", Ty::Str, true},         {"amount", Ty::Int, false},
        {"urgent", Ty::Bool, false}, {"size", Ty::Size, false},     {"timeout", Ty::Dur, false},
        {"lbl", Ty::Label, false},   {"fields", Ty::StrSet, false}, {"labels", Ty::LabSet, false},
        {"for", Ty::StrSet, true},   {"n", Ty::Int, false}};
    return v;
}
struct ToolSpec {
    const char* name;
    bool keyword;
};
const std::vector<ToolSpec>& toolPool() {
    static const std::vector<ToolSpec> v = {
        {"ehr.read", false},   {"ehr.write", false},     {"ehr.notes.search", false},
        {"web.search", false}, {"bank.transfer", false}, {"bank.refund", false},
        {"data.export", true}, {"mail.send", true},      {"ping", false},
        {"set.policy", true},  {"ehr", false},           {"ehrx.read", false},
        {"request.get", true}, {"pin.by", true},         {"consent.check", true}};
    return v;
}

class Generator {
public:
    Generator(std::uint64_t seed, const PolicyShape& shape) : rng_(seed), shape_(shape) {}

    Program run(std::uint64_t seed) {
        k_ = std::make_shared<Knowledge>();
        modules();
        labels();
        attributes();
        agents();
        groups();
        tools();
        data();
        kernels();
        sets();
        governs();
        placeLabels();
        ownLabels();
        consents();
        rules();
        Program p;
        p.seed = seed;
        for (std::size_t m = 0; m < k_->modules.size(); ++m) {
            p.texts.push_back(renderModule(m));
            p.moduleNames.push_back(k_->modules[m].name);
        }
        p.knowledge = k_;
        return p;
    }

private:
    Rng rng_;
    PolicyShape shape_;
    std::shared_ptr<Knowledge> k_;
    std::vector<std::pair<std::string, std::string>> edges_;

    std::size_t randomModule() { return rng_.below(k_->modules.size()); }
    std::vector<std::size_t> unscopedModules() const {
        std::vector<std::size_t> out;
        for (std::size_t m = 0; m < k_->modules.size(); ++m)
            if (!k_->modules[m].scoped()) out.push_back(m);
        return out;
    }

    // -- modules and labels ------------------------------------------------------------------------------------

    void modules() {
        int n = std::clamp(shape_.modules, 1, 3);
        if (n > 1 && !rng_.chance(0.8)) n = rng_.range(1, n);
        k_->modules.push_back({"op", rng_.range(1, 9), "operator", {}, {}});
        if (n >= 2) k_->modules.push_back({"vendor", rng_.range(1, 9), "vendor:acme", {}, {}});
        if (n >= 3)
            k_->modules.push_back(
                {"tenant", rng_.range(1, 9), rng_.chance(0.3) ? "vendor:acme" : "tenant:clinic", {}, {}});
    }

    void labels() {
        // `tags` is also an attribute name: labels and attributes live in different namespaces (3.4).
        static const std::vector<std::string> pool = {"Public", "Internal", "PII", "PHI",
                                                      "Secret", "Finance",  "Ops", "tags"};
        int n = rng_.range(2, std::clamp(shape_.labels, 2, static_cast<int>(pool.size())));
        std::vector<std::string> order = pool;
        rng_.shuffle(order);
        order.resize(static_cast<std::size_t>(n));
        k_->labels = order;
        // Edges only go forward in `order`, so the order is acyclic by construction.
        for (std::size_t i = 0; i < order.size(); ++i)
            for (std::size_t j = i + 1; j < order.size(); ++j)
                if (rng_.chance(0.3)) edges_.push_back({order[i], order[j]});
        k_->closeLattice(edges_);
        // Statements: chains where edges continue, `label X;` for labels on no edge (and, redundantly, a few more).
        std::vector<std::pair<std::string, std::string>> pending = edges_;
        rng_.shuffle(pending);
        std::set<std::string> mentioned;
        std::vector<LabelStmt> stmts;
        for (const auto& [a, b] : pending) {
            if (!stmts.empty() && stmts.back().chain.back() == a && rng_.chance(0.7)) {
                stmts.back().chain.push_back(b);
            } else {
                stmts.push_back({{a, b}, 0});
            }
            mentioned.insert(a);
            mentioned.insert(b);
        }
        for (const std::string& l : order)
            if (!mentioned.count(l) || rng_.chance(0.15)) stmts.push_back({{l}, 0});
        k_->labelStmts = stmts;  // in module 0 until placeLabels() knows which modules are unscoped
    }

    // Shared labels may be declared and ordered only by unscoped modules (E0514).
    void placeLabels() {
        auto unscoped = unscopedModules();
        for (LabelStmt& s : k_->labelStmts) s.module = rng_.chance(0.7) ? 0 : rng_.pick(unscoped);
    }

    std::string randomLabel() { return rng_.pick(k_->labels); }

    // -- literals ------------------------------------------------------------------------------------------------

    Lit hashLit() {
        const HashSpec& h = rng_.pick(hashPool());
        std::string hex = h.hex;
        if (rng_.chance(0.25))
            for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return {{0, h.alg + ":" + h.hex, {}}, h.alg + ":" + quote(hex)};
    }

    Lit literal(Ty ty, bool allowEmpty = true) {
        switch (ty) {
            case Ty::Bool: {
                bool b = rng_.chance(0.5);
                return {{b ? 1 : 0, {}, {}}, b ? "true" : "false"};
            }
            case Ty::Int: {
                std::int64_t n = rng_.pick(intPool());
                std::string text = std::to_string(n);
                if (rng_.chance(0.05)) text = "0" + text;  // leading zeros are allowed
                return {{n, {}, {}}, text};
            }
            case Ty::Str: {
                std::string s = rng_.pick(stringPool());
                return {{0, s, {}}, quote(s)};
            }
            case Ty::Size: {
                const Quantity& q = rng_.pick(sizePool());
                return {{q.value, {}, {}}, q.text};
            }
            case Ty::Dur: {
                const Quantity& q = rng_.pick(durationPool());
                return {{q.value, {}, {}}, q.text};
            }
            case Ty::Label: {
                std::string l = randomLabel();
                return {{0, l, {}}, l};
            }
            case Ty::Hash: return hashLit();
            case Ty::StrSet:
            case Ty::LabSet: {
                std::size_t most = 3;
                std::size_t n = rng_.below(most + 1);
                if (n == 0 && !(allowEmpty && shape_.emptySets)) n = 1;
                Lit out;
                out.text = "{";
                for (std::size_t i = 0; i < n; ++i) {
                    std::string item = ty == Ty::StrSet ? rng_.pick(stringPool()) : randomLabel();
                    out.v.items.insert(item);
                    out.text += (i ? ", " : "") + (ty == Ty::StrSet ? quote(item) : item);
                }
                out.text += "}";
                return out;
            }
            default: return {};
        }
    }

    // -- declarations ----------------------------------------------------------------------------------------------

    void attributes() {
        std::vector<NameSpec> pool;
        for (const NameSpec& a : attrPool())
            if (shape_.keywords || !a.keyword) pool.push_back(a);
        pool = rng_.subset(pool, static_cast<std::size_t>(std::max(0, shape_.attributes)));
        for (const NameSpec& a : pool) {
            Attr attr{a.name, a.ty, {}};
            if (a.ty != Ty::Hash && rng_.chance(0.6)) {
                attr.declaredIn.push_back(randomModule());
                if (rng_.chance(0.15)) attr.declaredIn.push_back(randomModule());  // agreeing twice is fine
            }
            k_->attrs.push_back(attr);
        }
    }

    void agents() {
        static const std::vector<std::string> pool = {"alice", "bob", "carol", "dave", "erin", "frank"};
        int n = rng_.range(2, std::clamp(shape_.agents, 2, static_cast<int>(pool.size())));
        std::vector<std::string> names = pool;
        rng_.shuffle(names);
        names.resize(static_cast<std::size_t>(n));
        for (const std::string& name : names) {
            AgentD a;
            a.name = name;
            a.module = randomModule();
            if (rng_.chance(0.6)) a.owner = declaredString();
            if (rng_.chance(0.4)) a.measurement = hashLit();
            for (const Attr& attr : k_->attrs)
                if (rng_.chance(0.5))
                    a.attrs.push_back(
                        {attr.name, literal(attr.ty, attr.ty != Ty::LabSet || shape_.emptyLabelSetAttributes)});
            rng_.shuffle(a.attrs);
            k_->agents.push_back(std::move(a));
        }
        // An attribute nobody declares exists only if some agent sets it; its type then comes from the agents, so
        // one of them must give a non-empty set (`{}` alone would leave it an empty-set type).
        for (const Attr& attr : k_->attrs) {
            if (!attr.declaredIn.empty()) continue;
            bool typed = false;
            for (const AgentD& a : k_->agents)
                if (const Lit* v = a.attr(attr.name); v && (!isSetTy(attr.ty) || !v->v.items.empty())) typed = true;
            if (typed) continue;
            AgentD& a = k_->agents[rng_.below(k_->agents.size())];
            Lit v = literal(attr.ty, false);
            bool replaced = false;
            for (auto& [key, val] : a.attrs)
                if (key == attr.name) val = v, replaced = true;
            if (!replaced) a.attrs.push_back({attr.name, v});
        }
    }

    // An agent owner, data region or data owner.
    std::string declaredString() {
        std::string s = rng_.pick(stringPool());
        while (s.empty() && !shape_.emptyDeclaredStrings) s = rng_.pick(stringPool());
        return s;
    }

    void groups() {
        static const std::vector<std::string> pool = {"staff", "admins", "nobody"};
        int n = rng_.range(0, std::clamp(shape_.groups, 0, static_cast<int>(pool.size())));
        for (int i = 0; i < n; ++i) {
            GroupD g{pool[static_cast<std::size_t>(i)], {}, randomModule()};
            std::vector<std::string> names;
            for (const AgentD& a : k_->agents) names.push_back(a.name);
            g.members = rng_.subset(names, 3);
            k_->groups.push_back(g);
        }
    }

    void tools() {
        std::vector<ToolSpec> pool;
        for (const ToolSpec& t : toolPool())
            if (shape_.keywords || !t.keyword) pool.push_back(t);
        pool = rng_.subset(pool, static_cast<std::size_t>(std::max(1, shape_.tools)));
        if (pool.empty()) pool.push_back(toolPool()[0]);
        std::vector<NameSpec> params;
        for (const NameSpec& p : paramPool())
            if (shape_.keywords || !p.keyword) params.push_back(p);
        for (const ToolSpec& spec : pool) {
            ToolD t;
            t.name = spec.name;
            t.module = randomModule();
            for (const NameSpec& p : rng_.subset(params, 4)) t.params.push_back({p.name, p.ty});
            if (rng_.chance(0.4)) t.returns = randomLabel();
            t.sink = rng_.chance(0.3);
            t.privileged = rng_.chance(0.2);
            if (rng_.chance(0.2)) t.pin = hashLit();
            t.modOrder = {0, 1, 2, 3};
            rng_.shuffle(t.modOrder);
            k_->tools.push_back(std::move(t));
        }
    }

    // `key value;` for a string-or-set property; the value is a single string or a set of strings.
    std::string stringsProp(const std::string& key, const std::vector<std::string>& values) {
        if (values.size() == 1 && rng_.chance(0.5)) return key + " " + quote(values[0]) + ";";
        std::string s = key + " {";
        for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + quote(values[i]);
        return s + "};";
    }

    void data() {
        // `bank` is also a tool provider: data and tools live in different namespaces (3.4).
        static const std::vector<std::string> pool = {"charts", "notes", "logs", "bank"};
        int n = rng_.range(1, std::clamp(shape_.data, 1, static_cast<int>(pool.size())));
        std::vector<std::string> names = pool;
        rng_.shuffle(names);
        for (int i = 0; i < n; ++i) {
            DataD d;
            d.name = names[static_cast<std::size_t>(i)];
            d.module = randomModule();
            d.label = randomLabel();
            d.props.push_back(stringsProp("path", {"/" + d.name + "/**"}));
            if (rng_.chance(0.3)) d.props.push_back(stringsProp("uri", {"s3://b/" + d.name + "/*", "https://x/*"}));
            if (rng_.chance(0.2)) d.props.push_back(stringsProp("path", {"/tmp/" + d.name + "?"}));  // repeatable
            d.props.push_back("label " + d.label + ";");
            if (rng_.chance(0.5)) {
                d.region = declaredString();
                d.props.push_back("region " + quote(*d.region) + ";");
            }
            if (rng_.chance(0.5)) {
                auto v = rng_.subset(stringPool(), 3);
                if (v.empty() && !shape_.emptySets) v.push_back("treatment");
                d.purposes.insert(v.begin(), v.end());
                d.props.push_back(v.empty() ? std::string("purpose {};") : stringsProp("purpose", v));
            }
            if (rng_.chance(0.5)) {
                auto v = rng_.subset(fieldPool(), 3);
                if (v.empty()) v.push_back("ssn");
                d.fields.insert(v.begin(), v.end());
                d.props.push_back(stringsProp("fields", v));
            }
            if (rng_.chance(0.4)) {
                d.owner = declaredString();
                d.props.push_back("owner " + quote(*d.owner) + ";");
            }
            rng_.shuffle(d.props);
            k_->data.push_back(std::move(d));
        }
    }

    void kernels() {
        static const std::vector<std::string> pool = {"fast", "vetted"};
        int n = rng_.range(0, std::clamp(shape_.kernelSets, 0, static_cast<int>(pool.size())));
        for (int i = 0; i < n; ++i) {
            KernelsD k;
            k.name = pool[static_cast<std::size_t>(i)];
            k.module = randomModule();
            int entries = rng_.range(0, 4);
            for (int e = 0; e < entries; ++e) {
                if (rng_.chance(0.5)) {
                    std::vector<Lit> hs;
                    int count = rng_.range(1, 2);
                    for (int h = 0; h < count; ++h) hs.push_back(hashLit());
                    std::string key = rng_.chance(0.7) ? "module" : "modules";
                    if (hs.size() == 1 && rng_.chance(0.6)) {
                        k.props.push_back(key + " " + hs[0].text + ";");
                    } else {
                        std::string s = key + " {";
                        for (std::size_t h = 0; h < hs.size(); ++h) s += (h ? ", " : "") + hs[h].text;
                        k.props.push_back(s + "};");
                    }
                    for (const Lit& h : hs) k.modules.insert(h.v.s);
                } else {
                    auto globs = rng_.subset(kernelGlobPool(), 2);
                    if (globs.empty()) globs.push_back("gemm_*");
                    k.props.push_back(stringsProp(rng_.chance(0.7) ? "name" : "names", globs));
                    k.names.insert(k.names.end(), globs.begin(), globs.end());
                }
            }
            k_->kernels.push_back(std::move(k));
        }
    }

    void sets() {
        static const std::vector<std::string> pool = {"users", "regions", "secret_labels", "none_set"};
        int n = rng_.range(0, std::clamp(shape_.namedSets, 0, static_cast<int>(pool.size())));
        for (int i = 0; i < n; ++i) {
            SetD s;
            s.name = pool[static_cast<std::size_t>(i)];
            s.module = randomModule();
            double r = static_cast<double>(rng_.below(100)) / 100.0;
            if (r < 0.5) {
                s.ty = Ty::StrSet;
                s.values = rng_.subset(stringPool(), 3);
                if (s.values.empty()) s.values.push_back("a");
            } else if (r < 0.85 || !shape_.emptySets) {
                s.ty = Ty::LabSet;
                s.values = rng_.subset(k_->labels, 3);
                if (s.values.empty()) s.values.push_back(k_->labels[0]);
            } else {
                s.ty = Ty::Empty;
            }
            k_->sets.push_back(std::move(s));
        }
    }

    // -- scopes ------------------------------------------------------------------------------------------------

    // Tool patterns that name at least one declared tool: exact names, `prefix.*` for every proper prefix.
    std::vector<Pattern> toolPatterns() const {
        std::vector<Pattern> out;
        std::set<std::string> prefixes;
        for (const ToolD& t : k_->tools) {
            out.push_back({Pattern::K::Exact, t.name});
            for (std::size_t dot = t.name.find('.'); dot != std::string::npos; dot = t.name.find('.', dot + 1))
                prefixes.insert(t.name.substr(0, dot));
        }
        for (const std::string& p : prefixes) out.push_back({Pattern::K::Prefix, p});
        return out;
    }

    // Does scope pattern `outer` cover every name `inner` can match (the checker's rule, section 11)?
    static bool covers(const Pattern& outer, const Pattern& inner) {
        if (outer.k == Pattern::K::Any) return true;
        if (inner.k == Pattern::K::Any) return false;
        if (outer.k == Pattern::K::Exact) return inner.k == Pattern::K::Exact && inner.text == outer.text;
        std::string i = inner.render();
        return i.size() > outer.text.size() + 1 && i.rfind(outer.text + ".", 0) == 0;
    }

    void governs() {
        for (std::size_t m = 1; m < k_->modules.size(); ++m) {
            if (m == 2 && rng_.chance(0.4)) continue;  // the tenant module is sometimes unscoped
            Mod& mod = k_->modules[m];
            std::vector<Scope::K> kinds = {Scope::K::Tool, Scope::K::Data, Scope::K::Agent, Scope::K::Gpu,
                                           Scope::K::Net};
            kinds = rng_.subset(kinds, 3);
            if (kinds.empty()) kinds.push_back(Scope::K::Tool);
            for (Scope::K kind : kinds) {
                Scope s{kind, {}};
                switch (kind) {
                    case Scope::K::Tool: s.p = rng_.chance(0.1) ? Pattern{} : rng_.pick(toolPatterns()); break;
                    case Scope::K::Data:
                        s.p = rng_.chance(0.2) ? Pattern{} : Pattern{Pattern::K::Exact, rng_.pick(k_->data).name};
                        break;
                    case Scope::K::Agent:
                        s.p = rng_.chance(0.2) ? Pattern{} : Pattern{Pattern::K::Exact, rng_.pick(k_->agents).name};
                        break;
                    case Scope::K::Gpu:
                    case Scope::K::Net: break;
                }
                mod.governs.push_back(s);
            }
        }
    }

    // A scoped module may add labels of its own and place them next to shared ones; it may also restate an order
    // that unscoped modules already imply.
    void ownLabels() {
        bool changed = false;
        for (std::size_t m = 0; m < k_->modules.size(); ++m) {
            if (!k_->modules[m].scoped()) continue;
            if (rng_.chance(0.4)) {
                std::string own = "Own" + k_->modules[m].name;
                std::string other = randomLabel();
                while (other.rfind("Own", 0) == 0) other = randomLabel();  // another module's own label
                k_->labels.push_back(own);
                if (rng_.chance(0.5)) {
                    edges_.push_back({own, other});
                    k_->labelStmts.push_back({{own, other}, m});
                } else {
                    edges_.push_back({other, own});
                    k_->labelStmts.push_back({{other, own}, m});
                }
                changed = true;
            }
            if (rng_.chance(0.3)) {
                std::vector<std::pair<std::string, std::string>> implied;
                for (const std::string& a : k_->labels)
                    for (const std::string& b : k_->labels)
                        if (a != b && a.rfind("Own", 0) != 0 && b.rfind("Own", 0) != 0 && k_->labelLe(a, b))
                            implied.push_back({a, b});
                if (!implied.empty()) {
                    auto [a, b] = rng_.pick(implied);
                    k_->labelStmts.push_back({{a, b}, m});
                }
            }
        }
        if (changed) k_->closeLattice(edges_);
    }

    void consents() {
        if (!shape_.consent) return;
        for (Mod& mod : k_->modules) {
            for (const Scope& g : mod.governs) {
                if (!rng_.chance(0.35)) continue;
                Scope c = g;
                if (g.k == Scope::K::Tool && g.p.k != Pattern::K::Exact && rng_.chance(0.5)) {
                    std::vector<Pattern> narrower;
                    for (const Pattern& p : toolPatterns())
                        if (covers(g.p, p)) narrower.push_back(p);
                    if (!narrower.empty()) c.p = rng_.pick(narrower);
                } else if ((g.k == Scope::K::Data || g.k == Scope::K::Agent) && g.p.k == Pattern::K::Any &&
                           rng_.chance(0.5)) {
                    c.p = {Pattern::K::Exact,
                           g.k == Scope::K::Data ? rng_.pick(k_->data).name : rng_.pick(k_->agents).name};
                }
                mod.consents.push_back(c);
            }
        }
    }

    // -- conditions ------------------------------------------------------------------------------------------------

    struct Ctx {
        Action action = Action::Tool;
        std::vector<std::pair<std::string, Ty>> params;  // arguments every tool of the target declares
        int depth = 0;
    };

    static Node pathNode(const std::string& root, const std::string& field, Ty ty) {
        Node n;
        n.k = Node::K::Path;
        n.root = root;
        n.field = field;
        n.ty = ty;
        return n;
    }
    static Node nameNode(const std::string& name, Ty ty) {
        Node n;
        n.k = Node::K::Name;
        n.root = name;
        n.ty = ty;
        return n;
    }
    static Node litNode(Ty ty, Lit lit) {
        Node n;
        n.k = Node::K::Lit;
        n.ty = ty;
        n.lit = std::move(lit);
        return n;
    }
    Node cmpNode(Op op, Node a, Node b) {
        Node n;
        n.k = Node::K::Cmp;
        n.op = op;
        n.kids.push_back(std::move(a));
        n.kids.push_back(std::move(b));
        n.tight = rng_.chance(0.1);
        return n;
    }

    static bool is(Action a, std::initializer_list<Action> as) {
        return std::find(as.begin(), as.end(), a) != as.end();
    }

    // Request paths of a type, for the context's action (language.md section 9).
    std::vector<Node> paths(Ty ty, const Ctx& c) const {
        std::vector<Node> out;
        Action a = c.action;
        bool rw = is(a, {Action::Read, Action::Write});
        auto add = [&](bool when, const char* root, const char* field) {
            if (when) out.push_back(pathNode(root, field, ty));
        };
        for (const Attr& attr : k_->attrs) {
            if (attr.ty != ty) continue;
            out.push_back(pathNode("agent", attr.name, ty));
            if (a == Action::Send) out.push_back(pathNode("recipient", attr.name, ty));
        }
        for (const auto& [name, t] : c.params)
            if (t == ty) out.push_back(pathNode("args", name, ty));
        bool tool = a == Action::Tool, send = a == Action::Send, launch = a == Action::GpuLaunch;
        bool alloc = a == Action::GpuAlloc, net = a == Action::NetConnect;
        switch (ty) {
            case Ty::Str:
                add(true, "agent", "name");
                add(true, "agent", "owner");
                add(true, "request", "purpose");
                add(true, "request", "region");
                add(true, "request", "user");
                add(true, "session", "id");
                add(rw, "request", "path");
                add(rw, "data", "name");
                add(rw, "data", "region");
                add(rw, "data", "owner");
                add(tool, "tool", "name");
                add(tool, "tool", "provider");
                add(tool, "tool", "server");
                add(send, "recipient", "name");
                add(send, "recipient", "owner");
                add(send, "message", "kind");
                add(launch, "kernel", "name");
                add(net, "net", "host");
                add(net, "net", "scheme");
                break;
            case Ty::Int:
                add(launch, "kernel", "grid");
                add(launch, "kernel", "block");
                add(launch || alloc, "gpu", "device");
                add(net, "net", "port");
                break;
            case Ty::Bool:
                add(tool, "tool", "sink");
                add(tool, "tool", "privileged");
                add(tool, "tool", "pinned");
                add(tool, "tool", "description_changed");
                break;
            case Ty::Size:
                add(send, "message", "size");
                add(launch, "kernel", "shared_bytes");
                add(alloc, "gpu", "bytes");
                add(alloc, "gpu", "bytes_total");
                break;
            case Ty::Label:
                add(tool, "tool", "label");
                add(rw, "data", "label");
                add(send, "message", "label");
                break;
            case Ty::Hash:
                add(true, "agent", "measurement");
                add(send, "recipient", "measurement");
                add(launch, "kernel", "module");
                break;
            case Ty::StrSet:
                add(true, "request", "consent");
                add(true, "session", "approvals");
                add(rw, "request", "fields");
                add(rw, "data", "purpose");
                add(rw, "data", "fields");
                break;
            case Ty::LabSet: add(true, "session", "taint"); break;
            case Ty::Agent:
                add(true, "agent", "");
                add(send, "recipient", "");
                break;
            case Ty::Kernel: add(launch, "kernel", ""); break;
            default: break;
        }
        return out;
    }

    // Bare names of a type: labels, agents, named sets, groups, kernel sets.
    std::vector<Node> names(Ty ty, bool allowEmpty) const {
        std::vector<Node> out;
        switch (ty) {
            case Ty::Label:
                for (const std::string& l : k_->labels) out.push_back(nameNode(l, ty));
                break;
            case Ty::Agent:
                for (const AgentD& a : k_->agents) out.push_back(nameNode(a.name, ty));
                break;
            case Ty::StrSet:
            case Ty::LabSet:
                for (const SetD& s : k_->sets)
                    if (s.ty == ty || (s.ty == Ty::Empty && allowEmpty)) out.push_back(nameNode(s.name, s.ty));
                break;
            case Ty::Group:
                for (const GroupD& g : k_->groups) out.push_back(nameNode(g.name, ty));
                break;
            case Ty::Kernels:
                for (const KernelsD& k : k_->kernels) out.push_back(nameNode(k.name, ty));
                break;
            default: break;
        }
        return out;
    }

    bool hasLiteral(Ty ty) const {
        return ty == Ty::Bool || ty == Ty::Int || ty == Ty::Str || ty == Ty::Size || ty == Ty::Dur || ty == Ty::Hash ||
               ty == Ty::StrSet || ty == Ty::LabSet;
    }

    // A set literal; sometimes with request paths among the elements (`{agent.name, "x"}`).
    Node setLiteral(Ty ty, const Ctx& c, bool allowEmpty) {
        Ty elem = ty == Ty::StrSet ? Ty::Str : Ty::Label;
        std::size_t n = rng_.below(4);
        if (n == 0 && !(allowEmpty && shape_.emptySets)) n = 1;
        Node s;
        s.k = Node::K::SetLit;
        s.ty = n == 0 ? Ty::Empty : ty;
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<Node> ps = paths(elem, c);
            if (!ps.empty() && rng_.chance(0.15))
                s.kids.push_back(rng_.pick(ps));
            else if (elem == Ty::Str)
                s.kids.push_back(litNode(Ty::Str, literal(Ty::Str)));
            else
                s.kids.push_back(nameNode(randomLabel(), Ty::Label));
        }
        return s;
    }

    // An operand of type `ty`: a request path, a bare name or a literal.
    Node operand(Ty ty, const Ctx& c, bool preferPath, bool allowEmpty = true) {
        std::vector<Node> ps = paths(ty, c);
        std::vector<Node> ns = names(ty, allowEmpty);
        bool lit = hasLiteral(ty);
        for (;;) {
            std::size_t r = rng_.below(100);
            if (!ps.empty() && (r < (preferPath ? 70u : 40u))) return rng_.pick(ps);
            if (!ns.empty() && r < 85) return rng_.pick(ns);
            if (lit) {
                if (ty == Ty::StrSet || ty == Ty::LabSet) return setLiteral(ty, c, allowEmpty);
                return litNode(ty, literal(ty));
            }
            if (ty == Ty::Label && !ns.empty()) return rng_.pick(ns);
            if (!ps.empty()) return rng_.pick(ps);
            if (!ns.empty()) return rng_.pick(ns);
            return litNode(Ty::Bool, literal(Ty::Bool));  // unreachable for the types asked for
        }
    }

    // `ROOT has FIELD` pairs for the action.
    std::vector<std::pair<std::string, std::string>> hasCandidates(const Ctx& c) const {
        std::vector<std::pair<std::string, std::string>> out;
        for (const sema::FieldDef& f : sema::requestSchema())
            if (!f.field.empty() && (f.actions & sema::bit(c.action)))
                out.push_back({std::string(f.root), std::string(f.field)});
        for (const Attr& a : k_->attrs) {
            out.push_back({"agent", a.name});
            if (c.action == Action::Send) out.push_back({"recipient", a.name});
        }
        for (const auto& [name, t] : c.params) out.push_back({"args", name});
        return out;
    }

    Node boolExpr(Ctx c) {
        if (c.depth < shape_.maxDepth && rng_.chance(0.45)) {
            Node n;
            std::size_t r = rng_.below(10);
            n.k = r < 4 ? Node::K::And : r < 8 ? Node::K::Or : Node::K::Not;
            Ctx inner = c;
            inner.depth++;
            std::size_t kids = n.k == Node::K::Not ? 1 : 2 + rng_.below(2);
            for (std::size_t i = 0; i < kids; ++i) n.kids.push_back(boolExpr(inner));
            n.paren = rng_.chance(0.08);
            return n;
        }
        Node a = atom(c);
        a.paren = a.paren || rng_.chance(0.05);
        return a;
    }

    Node atom(const Ctx& c) {
        // `kernel in K` is the heart of gpu.launch rules: more of them.
        if (c.action == Action::GpuLaunch && !k_->kernels.empty() && rng_.chance(0.15))
            return cmpNode(Op::In, pathNode("kernel", "", Ty::Kernel), rng_.pick(names(Ty::Kernels, true)));
        for (;;) {
            std::size_t form = rng_.below(100);
            if (form < 20) {  // == and != over every type that has equality
                static const std::vector<Ty> tys = {Ty::Bool,  Ty::Int,  Ty::Str,    Ty::Size,   Ty::Dur,
                                                    Ty::Label, Ty::Hash, Ty::StrSet, Ty::LabSet, Ty::Agent};
                Ty ty = rng_.pick(tys);
                Op op = rng_.chance(0.6) ? Op::Eq : Op::Ne;
                Node l = operand(ty, c, true);
                return cmpNode(op, std::move(l), operand(ty, c, false));
            }
            static const std::vector<Op> order = {Op::Lt, Op::Le, Op::Gt, Op::Ge};
            if (form < 32) {  // numeric order
                static const std::vector<Ty> tys = {Ty::Int, Ty::Size, Ty::Dur};
                Ty ty = rng_.pick(tys);
                Op op = rng_.pick(order);
                Node l = operand(ty, c, true);
                return cmpNode(op, std::move(l), operand(ty, c, false));
            }
            if (form < 38) {  // lattice order
                Op op = rng_.pick(order);
                Node l = operand(Ty::Label, c, true);
                return cmpNode(op, std::move(l), operand(Ty::Label, c, false));
            }
            if (form < 46) {  // set<label> against a label: existential / universal
                Op op = rng_.pick(order);
                Node l = operand(Ty::LabSet, c, true, shape_.emptySetAgainstLabel);
                return cmpNode(op, std::move(l), operand(Ty::Label, c, false));
            }
            if (form < 51) {  // subset / superset
                Ty ty = rng_.chance(0.5) ? Ty::StrSet : Ty::LabSet;
                Op op = rng_.pick(order);
                Node l = operand(ty, c, true);
                return cmpNode(op, std::move(l), operand(ty, c, false));
            }
            if (form < 59) {
                Node l = operand(Ty::Str, c, true);
                return cmpNode(Op::In, std::move(l), operand(Ty::StrSet, c, false));
            }
            if (form < 64) {
                Node l = operand(Ty::Label, c, true);
                return cmpNode(Op::In, std::move(l), operand(Ty::LabSet, c, false));
            }
            if (form < 68) {
                if (k_->groups.empty()) continue;
                Node l = operand(Ty::Agent, c, true);
                return cmpNode(Op::In, std::move(l), rng_.pick(names(Ty::Group, true)));
            }
            if (form < 73) {
                if (k_->kernels.empty()) continue;
                Node set = rng_.pick(names(Ty::Kernels, true));
                std::size_t lhs = rng_.below(3);
                if (lhs == 0 && c.action == Action::GpuLaunch)
                    return cmpNode(Op::In, pathNode("kernel", "", Ty::Kernel), set);
                if (lhs == 1) return cmpNode(Op::In, operand(Ty::Hash, c, true), set);
                return cmpNode(Op::In, operand(Ty::Str, c, true), set);
            }
            if (form < 80) {
                std::string g = rng_.pick(globPool());
                return cmpNode(Op::Like, operand(Ty::Str, c, true), litNode(Ty::Str, {{0, g, {}}, quote(g)}));
            }
            if (form < 84) {
                std::string p = rng_.pick(prefixPool());
                return cmpNode(Op::StartsWith, operand(Ty::Str, c, true), litNode(Ty::Str, {{0, p, {}}, quote(p)}));
            }
            if (form < 91) {
                auto cands = hasCandidates(c);
                auto [root, field] = rng_.pick(cands);
                Node n;
                n.k = Node::K::Has;
                n.root = root;
                n.field = field;
                return n;
            }
            if (form < 97) return operand(Ty::Bool, c, true);  // a bool used directly
            // Booleans compared with each other: `(a < b) == agent.trusted`.
            Ctx inner = c;
            inner.depth = shape_.maxDepth;
            Node a = rng_.chance(0.5) ? boolExpr(inner) : operand(Ty::Bool, c, true);
            Node b = rng_.chance(0.5) ? boolExpr(inner) : operand(Ty::Bool, c, false);
            return cmpNode(rng_.chance(0.5) ? Op::Eq : Op::Ne, std::move(a), std::move(b));
        }
    }

    // -- rules ---------------------------------------------------------------------------------------------------

    std::vector<std::pair<std::string, Ty>> commonParams(const Pattern& target) const {
        std::vector<const ToolD*> matched;
        for (const ToolD& t : k_->tools)
            if (target.matches(t.name)) matched.push_back(&t);
        std::vector<std::pair<std::string, Ty>> out;
        if (matched.empty()) return out;
        for (const auto& param : matched[0]->params) {
            bool all = std::all_of(matched.begin(), matched.end(),
                                   [&](const ToolD* t) { return t->param(param.first) == param.second; });
            if (all) out.push_back(param);
        }
        return out;
    }

    AgentSel agentSel(bool allowOmitted = true) {
        AgentSel a;
        std::size_t r = rng_.below(100);
        std::vector<std::string> names;
        for (const AgentD& x : k_->agents) names.push_back(x.name);
        if (r < 30 && allowOmitted) return a;
        if (r < 42) {
            a.k = AgentSel::K::Any;
        } else if (r < 72) {
            a.k = AgentSel::K::Named;
            a.names = {rng_.pick(names)};
        } else if (r < 86 || k_->groups.empty()) {
            a.k = AgentSel::K::List;
            a.names = rng_.subset(names, 3);
            if (a.names.empty()) a.names.push_back(names[0]);
        } else {
            a.k = AgentSel::K::Group;
            a.names = {rng_.pick(k_->groups).name};
        }
        return a;
    }

    // An agent side that `governs agent P` covers: P's agent by name or in a list, or a group of only P's agent.
    AgentSel coveredAgents(const Pattern& p) {
        if (p.k == Pattern::K::Any) return agentSel();
        AgentSel a;
        std::vector<const GroupD*> groups;
        for (const GroupD& g : k_->groups)
            if (std::all_of(g.members.begin(), g.members.end(), [&](const std::string& m) { return m == p.text; }))
                groups.push_back(&g);
        std::size_t r = rng_.below(10);
        if (r < 2 && !groups.empty()) {
            a.k = AgentSel::K::Group;
            a.names = {rng_.pick(groups)->name};
        } else if (r < 4) {
            a.k = AgentSel::K::List;
            a.names = {p.text};
        } else {
            a.k = AgentSel::K::Named;
            a.names = {p.text};
        }
        return a;
    }

    Pattern toolTarget() {
        std::size_t r = rng_.below(10);
        if (r < 1) return {};
        auto ps = toolPatterns();
        std::vector<Pattern> exact, prefix;
        for (const Pattern& p : ps) (p.k == Pattern::K::Exact ? exact : prefix).push_back(p);
        if (r < 4 && !prefix.empty()) return rng_.pick(prefix);
        return rng_.pick(exact);
    }

    Pattern dataTarget() {
        if (rng_.chance(0.25)) return {};
        return {Pattern::K::Exact, rng_.pick(k_->data).name};
    }

    // A body for `action`, restricted to what `scope` covers when given.
    Body body(const Scope* scope, bool withCondition) {
        Body b;
        if (scope) {
            switch (scope->k) {
                case Scope::K::Tool: {
                    b.action = Action::Tool;
                    std::vector<Pattern> ok;
                    for (const Pattern& p : toolPatterns())
                        if (covers(scope->p, p)) ok.push_back(p);
                    if (scope->p.k == Pattern::K::Any) ok.push_back({});
                    b.target = rng_.pick(ok);
                    break;
                }
                case Scope::K::Data:
                    b.action = rng_.chance(0.6) ? Action::Read : Action::Write;
                    b.target = scope->p.k == Pattern::K::Any ? dataTarget() : scope->p;
                    break;
                case Scope::K::Agent: b.action = Action::Send; break;
                case Scope::K::Gpu: b.action = rng_.chance(0.5) ? Action::GpuLaunch : Action::GpuAlloc; break;
                case Scope::K::Net: b.action = Action::NetConnect; break;
            }
        } else {
            std::size_t r = rng_.below(100);
            b.action = r < 40   ? Action::Tool
                       : r < 52 ? Action::Read
                       : r < 60 ? Action::Write
                       : r < 75 ? Action::Send
                       : r < 84 ? Action::GpuLaunch
                       : r < 92 ? Action::GpuAlloc
                                : Action::NetConnect;
            if (b.action == Action::Tool) b.target = toolTarget();
            if (b.action == Action::Read || b.action == Action::Write) b.target = dataTarget();
        }
        if (b.action == Action::Send) {
            b.from = rng_.chance(0.5);
            if (scope && scope->k == Scope::K::Agent && scope->p.k != Pattern::K::Any) {
                if (rng_.chance(0.5)) {
                    b.subject = coveredAgents(scope->p);
                    b.recipient = agentSel();
                } else {
                    b.subject = agentSel();
                    b.recipient = coveredAgents(scope->p);
                }
            } else {
                b.subject = agentSel();
                b.recipient = agentSel();
            }
        } else {
            b.subject = agentSel();
        }
        if (withCondition && rng_.chance(0.75)) {
            Ctx c;
            c.action = b.action;
            if (b.target && b.action == Action::Tool) c.params = commonParams(*b.target);
            b.cond = boolExpr(c);
        }
        return b;
    }

    const Scope* scopeFor(std::size_t m) {
        const Mod& mod = k_->modules[m];
        return mod.scoped() ? &rng_.pick(mod.governs) : nullptr;
    }

    std::vector<Obl> obligations() {
        std::vector<Obl> out;
        int n = rng_.range(1, 2);
        for (int i = 0; i < n; ++i) {
            std::size_t r = rng_.below(3);
            if (r == 0) {
                out.push_back({Obl::K::Audit, {}});
            } else if (r == 1) {
                auto f = rng_.subset(fieldPool(), 2);
                if (f.empty()) f.push_back("ssn");
                out.push_back({Obl::K::Redact, f});
            } else {
                out.push_back({Obl::K::Approve, {rng_.pick(rolePool())}});
            }
        }
        return out;
    }

    void rules() {
        int n = std::max(
            1, shape_.rules / 2 + static_cast<int>(rng_.below(static_cast<std::size_t>(shape_.rules / 2 + 1))));
        for (int i = 0; i < n; ++i) {
            Rule r;
            r.module = randomModule();
            r.kind = rng_.chance(0.65) ? Rule::K::Permit : Rule::K::Forbid;
            r.body = body(scopeFor(r.module), true);
            if (rng_.chance(0.2)) {
                static const std::vector<std::string> windows = {"second", "minute", "hour", "day",
                                                                 "30s",    "5 min",  "2h",   "10 s"};
                Limit l{rng_.range(1, 3), rng_.pick(windows), ""};
                std::vector<std::string> keys = {"", "agent", "session", "user"};
                if (r.body.action == Action::Tool) keys.push_back("tool");
                l.key = rng_.pick(keys);
                r.limit = l;
            }
            if (r.kind == Rule::K::Permit && rng_.chance(0.35)) r.obls = obligations();
            k_->rules.push_back(std::move(r));
        }
        int o = static_cast<int>(rng_.below(static_cast<std::size_t>(std::max(0, shape_.obligationRules) + 1)));
        for (int i = 0; i < o; ++i) {
            Rule r;
            r.kind = Rule::K::Oblig;
            r.module = randomModule();
            r.body = body(scopeFor(r.module), true);
            r.obls = obligations();
            k_->rules.push_back(std::move(r));
        }
        int a = static_cast<int>(rng_.below(static_cast<std::size_t>(std::max(0, shape_.assertions) + 1)));
        for (int i = 0; i < a; ++i) {
            static const std::vector<std::string> heads = {"never permit", "always deny", "always permit",
                                                           "never deny"};
            Rule r;
            r.kind = Rule::K::Assert;
            r.module = randomModule();
            r.assertHead = rng_.pick(heads);
            r.body = body(nullptr, true);  // assertions are not restricted by `governs`
            k_->rules.push_back(std::move(r));
        }
    }

    // -- rendering -------------------------------------------------------------------------------------------------

    std::string renderAgent(const AgentD& a) {
        std::vector<std::string> props;
        if (a.owner) props.push_back("owner " + quote(*a.owner) + ";");
        if (a.measurement) props.push_back("measurement " + a.measurement->text + ";");
        for (const auto& [k, v] : a.attrs) props.push_back(k + " " + v.text + ";");
        rng_.shuffle(props);
        if (props.empty()) return "agent " + a.name + " {}";
        bool multi = rng_.chance(0.5);
        std::string s = "agent " + a.name + " {";
        for (const std::string& p : props) s += (multi ? "\n    " : " ") + p;
        return s + (multi ? "\n}" : " }");
    }

    std::string renderBlock(const std::string& head, const std::vector<std::string>& props) {
        if (props.empty()) return head + " {}";
        bool multi = rng_.chance(0.5);
        std::string s = head + " {";
        for (const std::string& p : props) s += (multi ? "\n    " : " ") + p;
        return s + (multi ? "\n}" : " }");
    }

    std::string renderTool(const ToolD& t) {
        std::string s = "tool " + t.name + "(";
        for (std::size_t i = 0; i < t.params.size(); ++i)
            s += (i ? ", " : "") + t.params[i].first + ": " + typeText(t.params[i].second);
        s += ")";
        for (int m : t.modOrder) {
            if (m == 0 && t.returns) s += " returns " + *t.returns;
            if (m == 1 && t.sink) s += " sink";
            if (m == 2 && t.privileged) s += " privileged";
            if (m == 3 && t.pin) s += " pin " + t.pin->text;
        }
        return s + ";";
    }

    std::string separator() {
        if (!shape_.comments) return " ";
        std::size_t r = rng_.below(100);
        if (r < 20) return "\n    ";
        if (r < 23) return " /* why */ ";
        return " ";
    }

    std::string renderRule(const Rule& r) {
        std::string s;
        switch (r.kind) {
            case Rule::K::Permit: s = "permit "; break;
            case Rule::K::Forbid: s = "forbid "; break;
            case Rule::K::Oblig: s = "require " + renderObls(r.obls) + " for "; break;
            case Rule::K::Assert: s = "assert " + r.assertHead + " "; break;
        }
        s += renderHead(r.body);
        if (r.body.cond) s += separator() + "when " + render(*r.body.cond);
        if (r.limit) {
            s += separator() + "limit " + std::to_string(r.limit->count) + " per " + r.limit->window;
            if (!r.limit->key.empty()) s += " per " + r.limit->key;
        }
        if (r.kind == Rule::K::Permit && !r.obls.empty()) s += separator() + "obligation " + renderObls(r.obls);
        return s + ";";
    }

    std::string renderModule(std::size_t m) {
        Mod& mod = k_->modules[m];
        // Every item of the module, in random order: declarations and rules may come in any order.
        std::vector<std::function<std::string()>> items;
        std::vector<std::size_t> ruleOf;  // index into k_->rules, or npos
        auto add = [&](std::function<std::string()> f, std::size_t rule = std::string::npos) {
            items.push_back(std::move(f));
            ruleOf.push_back(rule);
        };
        for (const LabelStmt& l : k_->labelStmts)
            if (l.module == m)
                add([l] {
                    std::string s = "label ";
                    for (std::size_t i = 0; i < l.chain.size(); ++i) s += (i ? " < " : "") + l.chain[i];
                    return s + ";";
                });
        for (const Attr& a : k_->attrs)
            for (std::size_t d : a.declaredIn)
                if (d == m) add([a] { return "attribute " + a.name + ": " + typeText(a.ty) + ";"; });
        for (const AgentD& a : k_->agents)
            if (a.module == m) add([this, &a] { return renderAgent(a); });
        for (const GroupD& g : k_->groups)
            if (g.module == m)
                add([g] {
                    std::string s = "group " + g.name + " = {";
                    for (std::size_t i = 0; i < g.members.size(); ++i) s += (i ? ", " : "") + g.members[i];
                    return s + "};";
                });
        for (const ToolD& t : k_->tools)
            if (t.module == m) add([this, &t] { return renderTool(t); });
        for (const DataD& d : k_->data)
            if (d.module == m) add([this, &d] { return renderBlock("data " + d.name, d.props); });
        for (const KernelsD& k : k_->kernels)
            if (k.module == m) add([this, &k] { return renderBlock("kernels " + k.name, k.props); });
        for (const SetD& s : k_->sets)
            if (s.module == m)
                add([s] {
                    std::string t = "set " + s.name + " = {";
                    for (std::size_t i = 0; i < s.values.size(); ++i)
                        t += (i ? ", " : "") + (s.ty == Ty::StrSet ? quote(s.values[i]) : s.values[i]);
                    return t + "};";
                });
        for (const Scope& c : mod.consents) add([c] { return "require consent for " + c.render() + ";"; });
        for (std::size_t i = 0; i < k_->rules.size(); ++i)
            if (k_->rules[i].module == m) add([this, i] { return renderRule(k_->rules[i]); }, i);
        std::vector<std::size_t> order(items.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        rng_.shuffle(order);

        std::string text;
        int line = 1;
        auto emit = [&](const std::string& s) {
            text += s;
            line += static_cast<int>(std::count(s.begin(), s.end(), '\n'));
        };
        if (shape_.comments && rng_.chance(0.3)) emit("// generated module " + mod.name + "\n");
        std::string header =
            "policy " + mod.name + " version " + std::to_string(mod.version) + " by principal " + quote(mod.principal);
        if (mod.scoped()) {
            header += " governs ";
            for (std::size_t i = 0; i < mod.governs.size(); ++i) header += (i ? ", " : "") + mod.governs[i].render();
        }
        emit(header + ";\n");
        for (std::size_t i : order) {
            if (shape_.comments) {
                std::size_t r = rng_.below(100);
                if (r < 12) emit("\n");
                if (r >= 12 && r < 18) emit("// about the next item\n");
                if (r == 18) emit("/* a block\n   comment */\n");
            }
            if (ruleOf[i] != std::string::npos) {
                Rule& r = k_->rules[ruleOf[i]];
                r.line = line;
                r.id = mod.name + ":" + std::to_string(line);
            }
            emit(items[i]());
            if (shape_.comments && rng_.chance(0.05)) emit(" // trailing");
            emit("\n");
        }
        return text;
    }
};

// ---------------------------------------------------------------------------------------------------------------
// The expectation: the decision semantics of language.md 8 and 10, over the generator's knowledge

enum class Tri { False, True, Unknown };
Tri tri(bool b) {
    return b ? Tri::True : Tri::False;
}

std::vector<char32_t> utf32(const std::string& s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
        out.push_back(cp);
        i += static_cast<std::size_t>(len);
    }
    return out;
}

// Glob match by dynamic programming over code points: `*` any run, `?` one, `[..]` a class of characters and
// ranges. (The evaluator backtracks instead; the two must agree.)
bool glob(const std::string& pattern, const std::string& text) {
    struct Tok {
        enum { Star, One, Class, Char } k;
        char32_t c = 0;
        std::vector<std::pair<char32_t, char32_t>> ranges;
    };
    std::vector<Tok> toks;
    auto p = utf32(pattern);
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == U'*') {
            toks.push_back({Tok::Star, 0, {}});
        } else if (p[i] == U'?') {
            toks.push_back({Tok::One, 0, {}});
        } else if (p[i] == U'[') {
            Tok t{Tok::Class, 0, {}};
            std::size_t j = i + 1;
            while (j < p.size() && p[j] != U']') {
                if (j + 2 < p.size() && p[j + 1] == U'-' && p[j + 2] != U']') {
                    t.ranges.push_back({p[j], p[j + 2]});
                    j += 3;
                } else {
                    t.ranges.push_back({p[j], p[j]});
                    ++j;
                }
            }
            i = j;
            toks.push_back(t);
        } else {
            toks.push_back({Tok::Char, p[i], {}});
        }
    }
    auto t = utf32(text);
    // ok[j]: the tokens so far match t[0, j).
    std::vector<bool> ok(t.size() + 1, false);
    ok[0] = true;
    for (const Tok& tok : toks) {
        std::vector<bool> next(t.size() + 1, false);
        for (std::size_t j = 0; j <= t.size(); ++j) {
            if (tok.k == Tok::Star) {
                next[j] = ok[j] || (j > 0 && next[j - 1]);
                continue;
            }
            if (j == 0 || !ok[j - 1]) continue;
            char32_t c = t[j - 1];
            bool m = tok.k == Tok::One || (tok.k == Tok::Char && tok.c == c);
            if (tok.k == Tok::Class)
                for (auto [lo, hi] : tok.ranges) m = m || (c >= lo && c <= hi);
            next[j] = m;
        }
        ok = next;
    }
    return ok[t.size()];
}

V fromEval(const eval::Value& v) {
    return {v.number, v.text, v.items};
}

class Oracle {
public:
    Oracle(const Knowledge& k, const eval::Request& r) : k_(k), r_(r) {}

    std::optional<V> field(const std::string& root, const std::string& fieldName, Ty ty) const {
        if (root == "agent" || root == "recipient") {
            const std::string& who = root == "agent" ? r_.agent : r_.recipient;
            const AgentD* a = Knowledge::find(k_.agents, who);
            if (!a) return std::nullopt;
            if (fieldName.empty()) return V{0, who, {}};
            if (fieldName == "name") return V{0, who, {}};
            if (fieldName == "owner") return a->owner ? std::optional<V>(V{0, *a->owner, {}}) : std::nullopt;
            if (fieldName == "measurement") return a->measurement ? std::optional<V>(a->measurement->v) : std::nullopt;
            const Lit* v = a->attr(fieldName);
            return v ? std::optional<V>(v->v) : std::nullopt;
        }
        if (root == "args") {
            auto it = r_.args.find(fieldName);
            return it == r_.args.end() ? std::nullopt : std::optional<V>(fromEval(it->second));
        }
        const sema::FieldDef* def = sema::findField(root, fieldName);
        if (def && def->supplied) {
            auto it = r_.fields.find(root + "." + fieldName);
            if (it != r_.fields.end()) return fromEval(it->second);
            if (isSetTy(ty)) return V{};
            return std::nullopt;
        }
        if (root == "tool") {
            const ToolD* t = Knowledge::find(k_.tools, r_.target);
            if (!t) return std::nullopt;
            if (fieldName == "name") return V{0, t->name, {}};
            if (fieldName == "provider") return V{0, t->provider(), {}};
            if (fieldName == "label") return t->returns ? std::optional<V>(V{0, *t->returns, {}}) : std::nullopt;
            if (fieldName == "sink") return V{t->sink, {}, {}};
            if (fieldName == "privileged") return V{t->privileged, {}, {}};
            if (fieldName == "pinned") return V{t->pin.has_value(), {}, {}};
        }
        if (root == "data") {
            const DataD* d = Knowledge::find(k_.data, r_.target);
            if (!d) return std::nullopt;
            if (fieldName == "name") return V{0, d->name, {}};
            if (fieldName == "label") return V{0, d->label, {}};
            if (fieldName == "region") return d->region ? std::optional<V>(V{0, *d->region, {}}) : std::nullopt;
            if (fieldName == "owner") return d->owner ? std::optional<V>(V{0, *d->owner, {}}) : std::nullopt;
            if (fieldName == "purpose") return V{0, {}, d->purposes};
            if (fieldName == "fields") return V{0, {}, d->fields};
        }
        return std::nullopt;
    }

    // The static type of a request field, for `has` and absence (sets are never absent).
    Ty fieldType(const std::string& root, const std::string& fieldName) const {
        if (root == "args") {
            const ToolD* t = Knowledge::find(k_.tools, r_.target);
            if (t)
                if (auto ty = t->param(fieldName)) return *ty;
            return Ty::Str;
        }
        if (const sema::FieldDef* def = sema::findField(root, fieldName)) {
            switch (def->type) {
                case ast::TypeKind::StringSet: return Ty::StrSet;
                case ast::TypeKind::LabelSet: return Ty::LabSet;
                default: return Ty::Str;
            }
        }
        for (const Attr& a : k_.attrs)
            if (a.name == fieldName) return a.ty;
        return Ty::Str;
    }

    std::optional<V> value(const Node& n) const {
        switch (n.k) {
            case Node::K::Lit: return n.lit.v;
            case Node::K::Path: return field(n.root, n.field, n.ty);
            case Node::K::Name: {
                if (n.ty == Ty::Label || n.ty == Ty::Agent) return V{0, n.root, {}};
                const SetD* s = Knowledge::find(k_.sets, n.root);
                if (!s) return std::nullopt;
                return V{0, {}, std::set<std::string>(s->values.begin(), s->values.end())};
            }
            case Node::K::SetLit: {
                V out;
                for (const Node& kid : n.kids) {
                    auto v = value(kid);
                    if (!v) return std::nullopt;
                    out.items.insert(v->s);
                }
                return out;
            }
            default: {
                Tri t = truth(n);
                if (t == Tri::Unknown) return std::nullopt;
                return V{t == Tri::True, {}, {}};
            }
        }
    }

    Tri truth(const Node& n) const {
        switch (n.k) {
            case Node::K::Not: {
                Tri t = truth(n.kids[0]);
                return t == Tri::Unknown ? t : tri(t == Tri::False);
            }
            case Node::K::And:
            case Node::K::Or: {
                bool isAnd = n.k == Node::K::And;
                bool unknown = false;
                for (const Node& kid : n.kids) {
                    Tri t = truth(kid);
                    if (t == (isAnd ? Tri::False : Tri::True)) return t;
                    unknown = unknown || t == Tri::Unknown;
                }
                return unknown ? Tri::Unknown : tri(isAnd);
            }
            case Node::K::Has: return tri(field(n.root, n.field, fieldType(n.root, n.field)).has_value());
            case Node::K::Cmp: return compare(n);
            default: {
                auto v = value(n);
                if (!v) return Tri::Unknown;
                return tri(v->n != 0);
            }
        }
    }

    Tri compare(const Node& n) const {
        const Node& l = n.kids[0];
        const Node& r = n.kids[1];
        if (n.op == Op::In && r.k == Node::K::Name && r.ty == Ty::Group) {
            auto a = value(l);
            if (!a) return Tri::Unknown;
            const GroupD* g = Knowledge::find(k_.groups, r.root);
            return tri(std::find(g->members.begin(), g->members.end(), a->s) != g->members.end());
        }
        if (n.op == Op::In && r.k == Node::K::Name && r.ty == Ty::Kernels) {
            const KernelsD* ks = Knowledge::find(k_.kernels, r.root);
            auto moduleIn = [&](const std::optional<V>& m) {
                return m ? tri(ks->modules.count(m->s) > 0) : Tri::Unknown;
            };
            auto nameIn = [&](const std::optional<V>& v) {
                if (!v) return Tri::Unknown;
                return tri(std::any_of(ks->names.begin(), ks->names.end(),
                                       [&](const std::string& g) { return glob(g, v->s); }));
            };
            if (l.ty == Ty::Kernel) {  // both the module and the name, in Kleene conjunction
                Tri a = moduleIn(field("kernel", "module", Ty::Hash));
                Tri b = nameIn(field("kernel", "name", Ty::Str));
                if (a == Tri::False || b == Tri::False) return Tri::False;
                return a == Tri::True && b == Tri::True ? Tri::True : Tri::Unknown;
            }
            return l.ty == Ty::Hash ? moduleIn(value(l)) : nameIn(value(l));
        }
        auto a = value(l);
        auto b = value(r);
        if (!a || !b) return Tri::Unknown;
        Ty lt = l.ty, rt = r.ty;
        bool sets = isSetTy(lt) && isSetTy(rt);
        switch (n.op) {
            case Op::Eq:
            case Op::Ne: {
                bool eq = sets ? a->items == b->items : a->n == b->n && a->s == b->s;
                return tri((n.op == Op::Eq) == eq);
            }
            case Op::Lt:
            case Op::Le:
            case Op::Gt:
            case Op::Ge: {
                if (lt == Ty::Int || lt == Ty::Size || lt == Ty::Dur) {
                    std::int64_t x = a->n, y = b->n;
                    return tri(n.op == Op::Lt ? x < y : n.op == Op::Le ? x <= y : n.op == Op::Gt ? x > y : x >= y);
                }
                auto labelOrder = [&](const std::string& x, const std::string& y) {
                    switch (n.op) {
                        case Op::Lt: return k_.labelLe(x, y) && x != y;
                        case Op::Le: return k_.labelLe(x, y);
                        case Op::Gt: return k_.labelLe(y, x) && x != y;
                        default: return k_.labelLe(y, x);
                    }
                };
                if (lt == Ty::Label) return tri(labelOrder(a->s, b->s));
                if (rt == Ty::Label) {  // a set of labels against a label
                    auto holds = [&](const std::string& x) { return labelOrder(x, b->s); };
                    bool some = n.op == Op::Gt || n.op == Op::Ge;
                    return tri(some ? std::any_of(a->items.begin(), a->items.end(), holds)
                                    : std::all_of(a->items.begin(), a->items.end(), holds));
                }
                bool sub = std::includes(b->items.begin(), b->items.end(), a->items.begin(), a->items.end());
                bool super = std::includes(a->items.begin(), a->items.end(), b->items.begin(), b->items.end());
                bool same = a->items == b->items;
                switch (n.op) {
                    case Op::Lt: return tri(sub && !same);
                    case Op::Le: return tri(sub);
                    case Op::Gt: return tri(super && !same);
                    default: return tri(super);
                }
            }
            case Op::In: return tri(b->items.count(a->s) > 0);
            case Op::Like: return tri(glob(b->s, a->s));
            case Op::StartsWith: return tri(a->s.rfind(b->s, 0) == 0);
        }
        return Tri::Unknown;
    }

private:
    const Knowledge& k_;
    const eval::Request& r_;
};

bool agentMatches(const Knowledge& k, const AgentSel& a, const std::string& agent) {
    switch (a.k) {
        case AgentSel::K::Omitted:
        case AgentSel::K::Any: return true;
        case AgentSel::K::Named:
        case AgentSel::K::List: return std::find(a.names.begin(), a.names.end(), agent) != a.names.end();
        case AgentSel::K::Group: {
            const GroupD* g = Knowledge::find(k.groups, a.names[0]);
            return g && std::find(g->members.begin(), g->members.end(), agent) != g->members.end();
        }
    }
    return false;
}

bool consentCovers(const Scope& s, const eval::Request& r) {
    switch (s.k) {
        case Scope::K::Tool: return r.action == Action::Tool && s.p.matches(r.target);
        case Scope::K::Data: return (r.action == Action::Read || r.action == Action::Write) && s.p.matches(r.target);
        case Scope::K::Agent: return r.action == Action::Send && (s.p.matches(r.agent) || s.p.matches(r.recipient));
        case Scope::K::Gpu: return r.action == Action::GpuLaunch || r.action == Action::GpuAlloc;
        case Scope::K::Net: return r.action == Action::NetConnect;
    }
    return false;
}

void addObligations(eval::Obligations& out, const std::vector<Obl>& obls) {
    for (const Obl& o : obls) {
        if (o.k == Obl::K::Audit) out.audit = true;
        for (const std::string& a : o.args) (o.k == Obl::K::Redact ? out.redact : out.approve).insert(a);
    }
}

}  // namespace

Expected expectedDecision(const Program& program, const eval::Request& request, const eval::State& state) {
    const Knowledge& k = *program.knowledge;
    Oracle o(k, request);
    std::vector<const Rule*> forbids, permits, obligers;
    Expected e;
    for (const Rule& r : k.rules) {
        if (r.kind == Rule::K::Assert) continue;
        const Body& b = r.body;
        if (b.action != request.action) continue;
        if (b.target && !b.target->matches(request.target)) continue;
        if (!agentMatches(k, b.subject, request.agent)) continue;
        if (b.action == Action::Send && !agentMatches(k, b.recipient, request.recipient)) continue;
        Tri t = b.cond ? o.truth(*b.cond) : Tri::True;
        bool matches = r.kind == Rule::K::Permit ? t == Tri::True : t != Tri::False;
        if (matches && r.limit) {
            auto it = state.counts.find(r.id);
            std::int64_t count = it == state.counts.end() ? 0 : it->second;
            matches = r.kind == Rule::K::Permit ? count < r.limit->count : count >= r.limit->count;
        }
        if (!matches) continue;
        if (r.kind == Rule::K::Forbid) {
            forbids.push_back(&r);
            if (t == Tri::Unknown) e.forbidOnUnknown = true;
        } else if (r.kind == Rule::K::Permit) {
            permits.push_back(&r);
        } else {
            obligers.push_back(&r);
        }
    }
    if (!forbids.empty()) {
        for (const Rule* r : forbids) e.rules.insert(r->id);
        return e;
    }
    e.forbidOnUnknown = false;
    for (const Mod& m : k.modules)
        for (const Scope& c : m.consents) {
            if (!consentCovers(c, request)) continue;
            bool given = std::any_of(permits.begin(), permits.end(),
                                     [&](const Rule* p) { return k.modules[p->module].principal == m.principal; });
            if (!given) e.consentMissing.insert(m.principal);
        }
    if (!e.consentMissing.empty() || permits.empty()) return e;
    e.allow = true;
    for (const Rule* p : permits) {
        e.rules.insert(p->id);
        addObligations(e.obligations, p->obls);
    }
    for (const Rule* r : obligers) addObligations(e.obligations, r->obls);
    return e;
}

bool expectedAbsent(const Program& program, const eval::Request& request, const std::string& path) {
    Oracle o(*program.knowledge, request);
    auto dot = path.find('.');
    std::string root = path.substr(0, dot);
    std::string field = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (root == "kernel" && field.empty())
        return !o.field("kernel", "module", Ty::Hash) || !o.field("kernel", "name", Ty::Str);
    if (field.empty()) return !o.field(root, field, Ty::Agent).has_value();
    return !o.field(root, field, o.fieldType(root, field)).has_value();
}

std::string describe(const Expected& e) {
    std::string s = e.allow ? "allow" : "deny";
    s += " rules={";
    for (const std::string& r : e.rules) s += r + " ";
    s += "} consent_missing={";
    for (const std::string& p : e.consentMissing) s += p + " ";
    s += "} audit=" + std::to_string(e.obligations.audit) + " redact={";
    for (const std::string& f : e.obligations.redact) s += f + " ";
    s += "} approve={";
    for (const std::string& f : e.obligations.approve) s += f + " ";
    s += "}";
    if (e.forbidOnUnknown) s += " (a forbid matched on an absent value)";
    return s;
}

std::string compare(const Expected& expected, const eval::Decision& actual) {
    Expected got;
    got.allow = actual.allow;
    for (const eval::RuleInfo* r : actual.rules) got.rules.insert(r->id);
    got.consentMissing.insert(actual.consentMissing.begin(), actual.consentMissing.end());
    got.obligations = actual.obligations;
    got.forbidOnUnknown = !actual.absent.empty();
    if (got.allow == expected.allow && got.rules == expected.rules && got.consentMissing == expected.consentMissing &&
        got.obligations == expected.obligations && got.forbidOnUnknown == expected.forbidOnUnknown)
        return "";
    return "expected " + describe(expected) + "\n     got " + describe(got) + " (" + actual.reason + ")";
}

// ---------------------------------------------------------------------------------------------------------------
// Programs

Program generate(std::uint64_t seed, const PolicyShape& shape) {
    return Generator(seed, shape).run(seed);
}

std::vector<std::string> randomProgram(std::uint64_t seed, const PolicyShape& shape) {
    return generate(seed, shape).texts;
}

std::string randomPolicy(std::uint64_t seed, const PolicyShape& shape) {
    PolicyShape one = shape;
    one.modules = 1;
    return generate(seed, one).texts.at(0);
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

namespace {

// Literals a program mentions, so that requests can hit its rules.
struct Harvest {
    std::vector<std::string> strings;
    std::vector<std::int64_t> ints, sizes, durations;
    std::vector<std::string> hashes;
    struct Limited {
        std::string id;
        std::int64_t count;
    };
    std::map<Action, std::vector<Limited>> limited;
    std::vector<Action> ruleActions;  // one entry per rule, so actions with more rules come up more often
    std::map<std::string, std::vector<std::string>> fields;  // values for particular fields ("kernel.name")
};

std::string utf8(char32_t c) {
    std::string out;
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
    return out;
}

// A string that a glob matches (one of many), by code points: `*` empty or "x", `?` "a", a class its first character.
std::string globWitness(const std::string& g, Rng& rng) {
    auto p = utf32(g);
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == U'*') {
            if (rng.chance(0.5)) out += "x";
        } else if (p[i] == U'?') {
            out += "a";
        } else if (p[i] == U'[') {
            std::size_t end = i + 1;
            while (end < p.size() && p[end] != U']') ++end;
            if (end == p.size()) break;
            if (end > i + 1) out += utf8(p[rng.chance(0.5) ? i + 1 : end - 1]);  // the first or the last
            i = end;
        } else {
            out += utf8(p[i]);
        }
    }
    return out;
}

void harvestExpr(const ast::Expr& e, Harvest& h, Rng& rng) {
    switch (e.kind) {
        case ast::Expr::Kind::String:
            h.strings.push_back(e.text);
            h.strings.push_back(globWitness(e.text, rng));
            break;
        case ast::Expr::Kind::Int:
            h.ints.push_back(e.number);
            if (e.number > 0) h.ints.push_back(e.number - 1);
            if (e.number < INT64_MAX) h.ints.push_back(e.number + 1);
            break;
        case ast::Expr::Kind::Quantity:
            if (auto f = sema::sizeUnit(e.text)) {
                if (e.number <= INT64_MAX / *f) h.sizes.push_back(e.number * *f);
            } else if (auto d = sema::durationUnit(e.text)) {
                if (e.number <= INT64_MAX / *d) h.durations.push_back(e.number * *d);
            }
            break;
        case ast::Expr::Kind::Hash: h.hashes.push_back(e.algorithm.text + ":" + e.text); break;
        default: break;
    }
    for (const auto& k : e.kids) harvestExpr(*k, h, rng);
}

Harvest harvest(const sema::Model& model, const std::vector<ast::Module>& modules, Rng& rng) {
    Harvest h;
    for (const ast::Module& m : modules) {
        for (const ast::Item& item : m.items) {
            const ast::Body* body = nullptr;
            if (const auto* r = std::get_if<ast::Rule>(&item)) {
                body = &r->body;
                h.ruleActions.push_back(r->body.action);
                if (r->limit)
                    h.limited[r->body.action].push_back(
                        {m.header.name.text + ":" + std::to_string(r->span.begin.line), r->limit->count});
            } else if (const auto* o = std::get_if<ast::ObligationRule>(&item)) {
                body = &o->body;
            } else if (const auto* a = std::get_if<ast::Assertion>(&item)) {
                body = &a->body;
            }
            if (body && body->condition) harvestExpr(*body->condition, h, rng);
        }
    }
    for (const auto& [name, a] : model.agents) {
        h.strings.push_back(name);
        if (a.owner) h.strings.push_back(*a.owner);
        if (a.measurement) h.hashes.push_back(*a.measurement);
        for (const auto& [attr, v] : a.attributes)
            if (v.expr) harvestExpr(*v.expr, h, rng);
    }
    for (const auto& [name, t] : model.tools) {
        h.strings.push_back(name);
        h.strings.push_back(name.substr(0, name.find('.')));
        if (!t.pin.empty()) h.hashes.push_back(t.pin);
    }
    for (const auto& [name, d] : model.data) {
        h.strings.push_back(name);
        if (d.region) h.strings.push_back(*d.region);
        if (d.owner) h.strings.push_back(*d.owner);
        h.strings.insert(h.strings.end(), d.purposes.begin(), d.purposes.end());
        h.strings.insert(h.strings.end(), d.fields.begin(), d.fields.end());
        for (const std::string& p : d.patterns) h.strings.push_back(globWitness(p, rng));
    }
    auto& kernelNames = h.fields["kernel.name"];
    auto& kernelModules = h.fields["kernel.module"];
    kernelNames = kernelNamePool();
    for (const auto& [name, k] : model.kernels) {
        h.hashes.insert(h.hashes.end(), k.modules.begin(), k.modules.end());
        kernelModules.insert(kernelModules.end(), k.modules.begin(), k.modules.end());
        for (const std::string& g : k.names)
            for (int i = 0; i < 3; ++i) kernelNames.push_back(globWitness(g, rng));
    }
    h.strings.insert(h.strings.end(), kernelNames.begin(), kernelNames.end());
    for (const auto& [name, t] : model.tools) h.fields["tool.server"].push_back(name.substr(0, name.find('.')));
    h.fields["net.scheme"] = {"https", "http", "ssh"};
    for (const auto& [name, s] : model.sets)
        if (s.type == ast::TypeKind::StringSet) h.strings.insert(h.strings.end(), s.values.begin(), s.values.end());
    return h;
}

// The values a program mentions, gathered once per program. Glob witnesses are drawn from a fixed seed, so the
// harvest, and with it every request, depends only on the program and the request's seed.
Harvest harvestOnce(const sema::Model& model, const std::vector<ast::Module>& modules) {
    Rng rng(0x6a09e667f3bcc908ULL);
    return harvest(model, modules, rng);
}

class RequestGen {
public:
    RequestGen(std::uint64_t seed, const sema::Model& model, const Harvest& h, const RequestShape& shape)
        : rng_(seed), model_(model), shape_(shape), h_(h) {}

    // The document is written directly (members in a fixed order), not through a JSON library: cheaper, and the
    // decoder under test is the only JSON parser involved.
    std::string run() {
        Action action = pickAction();
        std::string doc = "{\"action\":" + jstr(ast::actionName(action));
        std::vector<std::string> agents;
        for (const auto& [name, a] : model_.agents) agents.push_back(name);
        if (!agents.empty()) doc += ",\"agent\":" + jstr(rng_.pick(agents));
        if (action == Action::Send && !agents.empty()) doc += ",\"recipient\":" + jstr(rng_.pick(agents));
        if (action == Action::Tool && !model_.tools.empty()) {
            std::vector<const sema::ToolInfo*> tools;
            for (const auto& [name, t] : model_.tools) tools.push_back(&t);
            const sema::ToolInfo& t = *rng_.pick(tools);
            doc += ",\"target\":" + jstr(t.name) + ",\"args\":{";
            for (std::size_t i = 0; i < t.params.size(); ++i)
                doc += (i ? "," : "") + jstr(t.params[i].name) + ":" + value(t.params[i].type);
            doc += "}";
        }
        if ((action == Action::Read || action == Action::Write) && !model_.data.empty()) {
            std::vector<std::string> names;
            for (const auto& [name, d] : model_.data) names.push_back(name);
            doc += ",\"target\":" + jstr(rng_.pick(names));
        }
        // Supplied fields, grouped by root in schema order.
        std::vector<std::pair<std::string, std::string>> roots;  // root, members
        for (const sema::FieldDef& f : sema::requestSchema()) {
            if (!f.supplied || f.field.empty() || !(f.actions & sema::bit(action))) continue;
            bool set = f.type == ast::TypeKind::StringSet || f.type == ast::TypeKind::LabelSet;
            if (!rng_.chance(set ? shape_.setPresent : shape_.present)) continue;
            std::string root(f.root), field(f.field);
            if (roots.empty() || roots.back().first != root) roots.push_back({root, ""});
            std::string& members = roots.back().second;
            members += (members.empty() ? "" : ",") + jstr(field) + ":" + value(f.type, root + "." + field);
        }
        for (const auto& [root, members] : roots) doc += "," + jstr(root) + ":{" + members + "}";
        auto limited = h_.limited.find(action);
        if (limited != h_.limited.end() && rng_.chance(shape_.counts)) {
            std::string counts;
            for (const Harvest::Limited& l : limited->second) {
                if (rng_.chance(0.2)) continue;
                std::vector<std::int64_t> cs = {0, l.count - 1, l.count, l.count + 1, l.count + 5};
                counts += (counts.empty() ? "" : ",") + jstr(l.id) + ":" +
                          std::to_string(std::max<std::int64_t>(0, rng_.pick(cs)));
            }
            doc += ",\"state\":{\"counts\":{" + counts + "}}";
        }
        return doc + "}";
    }

private:
    Rng rng_;
    const sema::Model& model_;
    RequestShape shape_;
    const Harvest& h_;

    Action pickAction() {
        if (!h_.ruleActions.empty() && rng_.chance(0.9)) {
            Action a = rng_.pick(h_.ruleActions);
            bool targeted = a == Action::Tool || a == Action::Read || a == Action::Write;
            bool declared = a == Action::Tool ? !model_.tools.empty() : !model_.data.empty();
            if (!targeted || declared) return a;
        }
        for (;;) {
            Action a = ast::kAllActions[rng_.below(std::size(ast::kAllActions))];
            if (a == Action::Tool && model_.tools.empty()) continue;
            if ((a == Action::Read || a == Action::Write) && model_.data.empty()) continue;
            return a;
        }
    }

    std::string str() {
        if (!h_.strings.empty() && rng_.chance(0.6)) return rng_.pick(h_.strings);
        return rng_.pick(stringPool());
    }

    std::string label() { return model_.lattice.names.empty() ? "" : rng_.pick(model_.lattice.names); }

    static std::string jstr(const std::string& s) { return "\"" + source::jsonEscape(s) + "\""; }

    std::string quantity(const std::vector<std::int64_t>& harvested, const std::vector<Quantity>& pool, bool size) {
        std::int64_t v = !harvested.empty() && rng_.chance(0.6) ? rng_.pick(harvested) : rng_.pick(pool).value;
        if (rng_.chance(0.1) && v > 0) v -= 1;
        if (rng_.chance(0.1) && v < INT64_MAX) v += 1;
        if (rng_.chance(shape_.unitStrings)) {
            if (size) {
                if (v % 1024 == 0 && v >= 1024)
                    return jstr(std::to_string(v / 1024) + (rng_.chance(0.5) ? " KiB" : "KiB"));
                return jstr(std::to_string(v) + " B");
            }
            if (v % 1000000000 == 0) return jstr(std::to_string(v / 1000000000) + (rng_.chance(0.5) ? "s" : " s"));
            return jstr(std::to_string(v) + "ns");
        }
        return std::to_string(v);
    }

    // A JSON value of type `t`; `key` ("kernel.name") selects the values harvested for that field, if any.
    std::string value(ast::TypeKind t, const std::string& key = "") {
        if (auto it = h_.fields.find(key); it != h_.fields.end() && !it->second.empty() && rng_.chance(0.7))
            return jstr(rng_.pick(it->second));
        switch (t) {
            case ast::TypeKind::Bool: return rng_.chance(0.5) ? "true" : "false";
            case ast::TypeKind::Int: {
                if (!h_.ints.empty() && rng_.chance(0.6)) return std::to_string(rng_.pick(h_.ints));
                return std::to_string(rng_.pick(intPool()));
            }
            case ast::TypeKind::String: return jstr(str());
            case ast::TypeKind::Size: return quantity(h_.sizes, sizePool(), true);
            case ast::TypeKind::Duration: return quantity(h_.durations, durationPool(), false);
            case ast::TypeKind::Label: return jstr(label());
            case ast::TypeKind::Hash: {
                if (!h_.hashes.empty() && rng_.chance(0.7)) return jstr(rng_.pick(h_.hashes));
                const HashSpec& hs = rng_.pick(hashPool());
                return jstr(hs.alg + ":" + hs.hex);
            }
            case ast::TypeKind::StringSet:
            case ast::TypeKind::LabelSet: {
                bool labels = t == ast::TypeKind::LabelSet;
                if (labels && model_.lattice.names.empty()) return "[]";
                if (labels && rng_.chance(0.1)) return jstr(label());  // a single label is a one-element set
                std::string a = "[";
                std::size_t n = rng_.below(4);
                for (std::size_t i = 0; i < n; ++i) a += (i ? "," : "") + jstr(labels ? label() : str());
                return a + "]";
            }
            default: return "null";
        }
    }
};

}  // namespace

struct RequestGenerator::Impl {
    const sema::Model& model;
    RequestShape shape;
    Harvest harvest;
};

RequestGenerator::RequestGenerator(const sema::Model& model, const std::vector<ast::Module>& modules,
                                   const RequestShape& shape)
    : impl_(std::make_shared<const Impl>(Impl{model, shape, harvestOnce(model, modules)})) {}

std::string RequestGenerator::operator()(std::uint64_t seed) const {
    return RequestGen(seed, impl_->model, impl_->harvest, impl_->shape).run();
}

std::string randomRequest(std::uint64_t seed, const sema::Model& model, const std::vector<ast::Module>& modules,
                          const RequestShape& shape) {
    return RequestGenerator(model, modules, shape)(seed);
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers for tests

std::string forbidModule(const std::vector<eval::Request>& requests, const std::string& moduleName) {
    std::string text = "policy " + moduleName + " version 1 by principal \"meta:forbid\";\n";
    for (const eval::Request& r : requests) {
        text += "forbid " + std::string(ast::actionName(r.action));
        if (r.action == Action::Tool || r.action == Action::Read || r.action == Action::Write) text += " " + r.target;
        text += ";\n";
    }
    return text;
}

namespace {

std::string testLiteral(const eval::Value& v, ast::TypeKind t) {
    switch (t) {
        case ast::TypeKind::Bool: return v.number ? "true" : "false";
        case ast::TypeKind::Int: return std::to_string(v.number);
        case ast::TypeKind::Size: return std::to_string(v.number) + " B";
        case ast::TypeKind::Duration: return std::to_string(v.number) + "ns";
        case ast::TypeKind::String: return quote(v.text);
        case ast::TypeKind::Label: return v.text;
        case ast::TypeKind::Hash: {
            auto colon = v.text.find(':');
            return v.text.substr(0, colon) + ":" + quote(v.text.substr(colon + 1));
        }
        case ast::TypeKind::StringSet:
        case ast::TypeKind::LabelSet: {
            std::string s = "{";
            bool first = true;
            for (const std::string& item : v.items) {
                s += (first ? "" : ", ") + (t == ast::TypeKind::StringSet ? quote(item) : item);
                first = false;
            }
            return s + "}";
        }
        default: return "?";
    }
}

}  // namespace

namespace {

// One test block for a request, or "" when it cannot be written (see testModule).
std::string testBlock(const eval::Request& request, const sema::Model& model, const std::string& name,
                      bool emptyLabelSetArgs) {
    std::string text = "test " + quote(name) + " {\n";
    for (const auto& [key, v] : request.fields) {
        auto dot = key.find('.');
        const sema::FieldDef* def = sema::findField(key.substr(0, dot), key.substr(dot + 1));
        if (def) text += "    " + key + " = " + testLiteral(v, def->type) + ";\n";
    }
    text += "    request " + std::string(ast::actionName(request.action));
    if (!request.target.empty()) text += " " + request.target;
    if (request.action == Action::Tool) {
        text += "(";
        bool first = true;
        for (const sema::ParamInfo& p : model.tools.at(request.target).params) {
            auto it = request.args.find(p.name);
            if (it == request.args.end()) continue;
            if (p.type == ast::TypeKind::LabelSet && it->second.items.empty() && !emptyLabelSetArgs) return "";
            text += (first ? "" : ", ") + p.name + ": " + testLiteral(it->second, p.type);
            first = false;
        }
        text += ")";
    }
    text += (request.action == Action::Send ? " from agent " : " by agent ") + request.agent;
    if (request.action == Action::Send) text += " to agent " + request.recipient;
    return text + ";\n    expect deny;\n}\n";
}

}  // namespace

std::string testModule(const std::vector<eval::Request>& requests, const sema::Model& model,
                       const std::string& moduleName, bool emptyLabelSetArgs) {
    std::string text = "policy " + moduleName + " version 1 by principal \"meta:test\";\n";
    for (std::size_t i = 0; i < requests.size(); ++i)
        text += testBlock(requests[i], model, "r" + std::to_string(i), emptyLabelSetArgs);
    return text;
}

std::string Checked::report() const {
    std::ostringstream out;
    source::renderHuman(out, sm, diags.sorted());
    return out.str();
}

void checkInto(Checked& c, const std::vector<std::string>& texts) {
    c.parsed = true;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto id = c.sm.add(std::to_string(i) + ".omega", texts[i]);
        auto m = parse::parseModule(c.sm, id, c.diags);
        if (!m) {
            c.parsed = false;
            continue;
        }
        c.modules.push_back(std::move(*m));
    }
    if (c.parsed) {
        std::vector<bool> roots(c.modules.size(), true);
        c.model = sema::check(c.modules, roots, c.diags);
    }
}

std::unique_ptr<Checked> check(const std::vector<std::string>& texts) {
    auto c = std::make_unique<Checked>();
    checkInto(*c, texts);
    return c;
}

std::string listing(const std::vector<std::string>& texts) {
    std::string out;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        out += "// ---- module " + std::to_string(i) + " (" + std::to_string(i) + ".omega) ----\n";
        std::istringstream in(texts[i]);
        std::string line;
        int n = 1;
        while (std::getline(in, line)) out += std::to_string(n++) + ": " + line + "\n";
    }
    return out;
}

}  // namespace omega::gen
