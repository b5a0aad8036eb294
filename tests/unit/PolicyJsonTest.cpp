// Unit tests for the runtime's JSON: the strict reader (RFC 8259, limits, UTF-8), request decoding against a
// hand-built image with the compiler decoder's messages (docs/requests.md), and the decision encoding.
#include "PolicyTestImage.h"
#include "omega/policy/Json.h"
#include "omega/policy/JsonReader.h"
#include "omega/schema/Units.h"

#include <gtest/gtest.h>

#include <map>

using namespace omega;
using policy::Request;
using policy::RequestLimits;
using policy::Value;

namespace {

const policy::Image& image() {
    static const policy::Image im = test::makeTestImage();
    return im;
}

const std::string kSha256 = "sha256:" + std::string(64, 'a');
const std::string kSha384 = "sha384:" + std::string(48, '0') + std::string(48, 'f');

// The error of decoding `json`, or "accepted".
std::string errorOf(std::string_view json, const RequestLimits& limits = {}) {
    Request r;
    std::string error;
    if (policy::decodeRequest(json, image(), r, error, limits)) return "accepted";
    EXPECT_FALSE(error.empty());
    return error;
}

Request decoded(std::string_view json) {
    Request r;
    std::string error;
    EXPECT_TRUE(policy::decodeRequest(json, image(), r, error)) << error << "\n" << json;
    return r;
}

// A bank.pay request with every argument valid; `args` replaces some (an empty value drops the argument), `extra`
// adds members after args.
std::string pay(const std::map<std::string, std::string>& args = {}, const std::string& extra = "") {
    std::vector<std::pair<std::string, std::string>> all = {
        {"to", R"("x")"},      {"amount", "5"},       {"size", R"("40 GiB")"},
        {"wait", R"("30s")"},  {"level", R"("PHI")"}, {"tags", R"(["b","a","b"])"},
        {"marks", R"("PHI")"}, {"ok", "true"},        {"digest", "\"" + kSha256 + "\""}};
    for (auto& [name, value] : all)
        if (auto it = args.find(name); it != args.end()) value = it->second;
    for (const auto& [name, value] : args)
        if (std::none_of(all.begin(), all.end(), [&name = name](const auto& a) { return a.first == name; }))
            all.emplace_back(name, value);
    std::string out = R"({"action":"tool","agent":"a","target":"bank.pay","args":{)";
    bool first = true;
    for (const auto& [name, value] : all) {
        if (value.empty()) continue;
        out += (first ? "\"" : ",\"") + name + "\":" + value;
        first = false;
    }
    return out + "}" + extra + "}";
}

const Value* arg(const Request& r, const std::string& name) {
    for (const auto& [n, v] : r.args)
        if (n == name) return &v;
    return nullptr;
}

const Value* field(const Request& r, const std::string& name) {
    for (const auto& [n, v] : r.fields)
        if (n == name) return &v;
    return nullptr;
}

Value integer(std::int64_t n) {
    return {Value::Kind::Int, n, {}, {}};
}
Value text(Value::Kind k, std::string s) {
    return {k, 0, std::move(s), {}};
}
Value set(Value::Kind k, std::vector<std::string> items) {
    return {k, 0, {}, std::move(items)};
}

std::string parseError(std::string_view text, const policy::json::ReaderLimits& limits = {}) {
    policy::json::Document doc;
    std::string error;
    if (doc.parse(text, error, limits)) return "accepted";
    return error;
}

}  // namespace

// ---- The reader -------------------------------------------------------------------------------------------------

TEST(JsonReader, ReadsEveryKindOfValue) {
    policy::json::Document doc;
    std::string error;
    ASSERT_TRUE(doc.parse(R"( {"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","n":-12,"f":1.5e3,"t":true,"z":null,)"
                          R"("a":[1,[],{}],"o":{"k":false}} )",
                          error))
        << error;
    auto root = doc.root();
    ASSERT_TRUE(root.isObject());
    EXPECT_EQ(root.size(), 7u);
    std::vector<std::string> keys;
    for (auto v : root.items()) keys.emplace_back(v.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"s", "n", "f", "t", "z", "a", "o"}));
    EXPECT_EQ(root.find("s")->string(), "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
    EXPECT_EQ(root.find("n")->integer(), -12);
    EXPECT_TRUE(root.find("f")->isNumber());
    EXPECT_FALSE(root.find("f")->isIntegral());
    EXPECT_FALSE(root.find("f")->integer());
    EXPECT_TRUE(root.find("t")->boolean());
    EXPECT_TRUE(root.find("z")->isNull());
    auto a = *root.find("a");
    ASSERT_EQ(a.size(), 3u);
    std::vector<policy::json::Kind> kinds;
    for (auto v : a.items()) kinds.push_back(v.kind());
    EXPECT_EQ(kinds, (std::vector<policy::json::Kind>{policy::json::Kind::Number, policy::json::Kind::Array,
                                                      policy::json::Kind::Object}));
    EXPECT_FALSE(root.find("o")->find("k")->boolean());
    EXPECT_FALSE(root.find("missing"));
    EXPECT_EQ(root.find("a")->offset(), 84u);
    // Scalars are documents too, and a document can be parsed into again.
    ASSERT_TRUE(doc.parse("\"only\"", error));
    EXPECT_EQ(doc.root().string(), "only");
    ASSERT_TRUE(doc.parse("\t\r\n 7 \n", error));
    EXPECT_EQ(doc.root().integer(), 7);
}

TEST(JsonReader, IntegersMustFitIn64Bits) {
    policy::json::Document doc;
    std::string error;
    auto number = [&](const char* text) {
        EXPECT_TRUE(doc.parse(text, error)) << text << ": " << error;
        return doc.root();
    };
    EXPECT_EQ(number("9223372036854775807").integer(), INT64_MAX);
    EXPECT_EQ(number("-9223372036854775808").integer(), INT64_MIN);
    EXPECT_EQ(number("-0").integer(), 0);
    EXPECT_EQ(number("0").integer(), 0);
    EXPECT_FALSE(number("9223372036854775808").integer());
    EXPECT_TRUE(number("9223372036854775808").isIntegral());
    EXPECT_FALSE(number("-9223372036854775809").integer());
    EXPECT_FALSE(number("123456789012345678901234567890").integer());
    EXPECT_FALSE(number("1.0").isIntegral());
    EXPECT_FALSE(number("1e2").isIntegral());
    EXPECT_FALSE(number("1E+2").integer());
    EXPECT_FALSE(number("-0.5e-7").integer());
}

TEST(JsonReader, RejectsMalformedDocumentsWithTheOffset) {
    struct Case {
        std::string text, error;
    };
    std::vector<Case> cases = {
        {"", "byte 0: expected a value, found the end of the input"},
        {"   ", "byte 3: expected a value, found the end of the input"},
        {"nope", "byte 0: expected a value, found `n`"},
        {"tru", "byte 0: expected a value, found `t`"},
        {"NaN", "byte 0: expected a value, found `N`"},
        {"{", "byte 1: expected a string key or `}`, found the end of the input"},
        {R"({"a")", "byte 4: expected `:` after the key, found the end of the input"},
        {R"({"a" 1})", "byte 5: expected `:` after the key, found `1`"},
        {R"({"a":1)", "byte 6: expected `,` or `}`, found the end of the input"},
        {R"({"a":1,})", "byte 7: expected a string key, found `}`"},
        {R"({'a':1})", "byte 1: expected a string key or `}`, found `'`"},
        {R"({a:1})", "byte 1: expected a string key or `}`, found `a`"},
        {"{/*c*/}", "byte 1: expected a string key or `}`, found `/`"},
        {"[1,]", "byte 3: expected a value, found `]`"},
        {"[1 2]", "byte 3: expected `,` or `]`, found `2`"},
        {"[1}", "byte 2: expected `,` or `]`, found `}`"},
        {"{} x", "byte 3: expected the end of the input, found `x`"},
        {"{}{}", "byte 2: expected the end of the input, found `{`"},
        {std::string("{}\0", 3), "byte 2: expected the end of the input, found byte 0x00"},
        {"\xEF\xBB\xBF{}", "byte 0: expected a value, found byte 0xef"},
        {"01", "byte 1: expected the end of the input, found `1`"},
        {"-", "byte 1: expected a digit, found the end of the input"},
        {"-x", "byte 1: expected a digit, found `x`"},
        {"+1", "byte 0: expected a value, found `+`"},
        {".5", "byte 0: expected a value, found `.`"},
        {"1.", "byte 2: expected a digit after `.`, found the end of the input"},
        {"1e", "byte 2: expected a digit in the exponent, found the end of the input"},
        {"1e+", "byte 3: expected a digit in the exponent, found the end of the input"},
        {"\"abc", "byte 4: expected the closing `\"` of the string that begins at byte 0, found the end of the input"},
        {R"("\q")", R"(byte 2: expected an escape character after `\`, found `q`)"},
        {"\"\\", "byte 2: expected an escape character after `\\`, found the end of the input"},
        {R"("\u12")", R"(byte 1: expected 4 hex digits after `\u`)"},
        {R"("\u12g4")", R"(byte 1: expected 4 hex digits after `\u`)"},
        {R"("\ud800")", R"(byte 1: lone high surrogate `\ud800`; expected a `\u` low surrogate after it)"},
        {R"("\ud800\u0041")", R"(byte 1: lone high surrogate `\ud800`; expected a `\u` low surrogate after it)"},
        {R"("\ud800\ud800")", R"(byte 1: lone high surrogate `\ud800`; expected a `\u` low surrogate after it)"},
        {R"("x\udc00")", R"(byte 2: lone low surrogate `\udc00`)"},
        {"\"a\nb\"", "byte 2: control character 0x0a in a string; escape it"},
        {std::string("\"a\0\"", 4), "byte 2: control character 0x00 in a string; escape it"},
        {"\"\xFF\"", "byte 1: invalid UTF-8 in a string"},
        {"\"\xC0\xAF\"", "byte 1: invalid UTF-8 in a string"},          // overlong `/`
        {"\"\xE0\x80\xAF\"", "byte 1: invalid UTF-8 in a string"},      // overlong, three bytes
        {"\"\xED\xA0\x80\"", "byte 1: invalid UTF-8 in a string"},      // a surrogate, encoded
        {"\"\xF4\x90\x80\x80\"", "byte 1: invalid UTF-8 in a string"},  // above U+10FFFF
        {"\"x\xE2\x82\"", "byte 2: invalid UTF-8 in a string"},         // truncated
        {"\"\x80\"", "byte 1: invalid UTF-8 in a string"},              // a lone continuation byte
        {R"({"a":1,"a":2})", "byte 7: duplicate key `a`"},
        {R"({"a":1,"\u0061":2})", "byte 7: duplicate key `a`"},
        {R"({"b":1,"a":1,"a":2,"b":2})", "byte 13: duplicate key `a`"},  // the first repeat in document order
        {R"({"o":{"x":1,"x":2},"o":3})", "byte 12: duplicate key `x`"},
        {"\xC3\xA9", "byte 0: expected a value, found byte 0xc3"},
    };
    for (const Case& c : cases) EXPECT_EQ(parseError(c.text), c.error) << c.text;
    // Well-formed non-ASCII, the largest code point, and an escaped NUL are fine.
    EXPECT_EQ(parseError("\"\xC3\xA9\xE2\x82\xAC\xF4\x8F\xBF\xBF\\u0000\""), "accepted");
    // Duplicates are per object.
    EXPECT_EQ(parseError(R"({"a":{"a":1},"b":{"a":2}})"), "accepted");
}

TEST(JsonReader, EnforcesItsLimits) {
    EXPECT_EQ(parseError(std::string(10000, '[')), "byte 64: nesting deeper than 64 levels");
    std::string objects;
    for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
    EXPECT_EQ(parseError(objects), "byte 320: nesting deeper than 64 levels");
    // Exactly 64 levels are fine.
    EXPECT_EQ(parseError(std::string(64, '[') + std::string(64, ']')), "accepted");
    EXPECT_EQ(parseError(std::string(65, '[') + std::string(65, ']')), "byte 64: nesting deeper than 64 levels");

    policy::json::ReaderLimits small;
    small.maxBytes = 16;
    small.maxItems = 2;
    small.maxString = 3;
    small.maxDepth = 2;
    EXPECT_EQ(parseError("[1,2,3]", small), "byte 5: more than 2 items in an array");
    EXPECT_EQ(parseError(R"({"a":1,"b":2,"c":3})", small), "document of 19 bytes; the limit is 16");
    EXPECT_EQ(parseError(R"({"a":1,"b":2,"c":3})", {16 + 8, 2, 3, 2}), "byte 17: more than 2 members in an object");
    EXPECT_EQ(parseError(R"(["abcd"])", small), "byte 1: string longer than 3 bytes");
    EXPECT_EQ(parseError(R"({"abcd":1})", small), "byte 1: string longer than 3 bytes");
    EXPECT_EQ(parseError(R"(["\u00e9\u00e9"])", small), "byte 1: string longer than 3 bytes");  // 4 bytes of UTF-8
    EXPECT_EQ(parseError(R"(["abc"])", small), "accepted");
    EXPECT_EQ(parseError("[[[]]]", small), "byte 2: nesting deeper than 2 levels");

    // Many keys, distinct or not, cost a sort, not a quadratic scan.
    std::string keys = "{";
    for (int i = 0; i < 100000; ++i) keys += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
    EXPECT_EQ(parseError(keys + "}"), "accepted");
    EXPECT_EQ(parseError(keys + ",\"99999\":1}"),
              "byte " + std::to_string(keys.size() + 1) + ": duplicate key `99999`");
}

// ---- Requests -----------------------------------------------------------------------------------------------------

TEST(PolicyJson, DecodesAToolRequestWithEveryType) {
    Request r = decoded(
        pay({}, R"(,"session":{"taint":["PHI","Public"],"id":"s-1"},"request":{"purpose":"treatment"},)"
                R"("tool":{"server":"bank","description_changed":false},"state":{"counts":{"q:3":2,"p:10":0}})"));
    EXPECT_EQ(r.action, schema::Action::Tool);
    EXPECT_EQ(r.agent, "a");
    EXPECT_EQ(r.target, "bank.pay");
    EXPECT_EQ(r.recipient, "");
    // Args, fields and counts come out sorted by name.
    std::vector<std::pair<std::string, Value>> args = {
        {"amount", integer(5)},
        {"digest", text(Value::Kind::Hash, kSha256)},
        {"level", text(Value::Kind::Label, "PHI")},
        {"marks", set(Value::Kind::LabelSet, {"PHI"})},
        {"ok", {Value::Kind::Bool, 1, {}, {}}},
        {"size", integer(std::int64_t{40} << 30)},
        {"tags", set(Value::Kind::StringSet, {"a", "b"})},
        {"to", text(Value::Kind::String, "x")},
        {"wait", integer(30'000'000'000)},
    };
    EXPECT_EQ(r.args, args);
    std::vector<std::pair<std::string, Value>> fields = {
        {"request.purpose", text(Value::Kind::String, "treatment")},
        {"session.id", text(Value::Kind::String, "s-1")},
        {"session.taint", set(Value::Kind::LabelSet, {"PHI", "Public"})},
        {"tool.description_changed", {Value::Kind::Bool, 0, {}, {}}},
        {"tool.server", text(Value::Kind::String, "bank")},
    };
    EXPECT_EQ(r.fields, fields);
    EXPECT_EQ(r.counts, (std::vector<std::pair<std::string, std::int64_t>>{{"p:10", 0}, {"q:3", 2}}));
}

TEST(PolicyJson, AcceptsEveryFormOfEachType) {
    auto argOf = [](const std::string& name, const std::string& json) {
        Request r = decoded(pay({{name, json}}));
        const Value* v = arg(r, name);
        return v ? *v : Value{};
    };
    // Sizes: bytes, or a count with a unit, with or without spaces.
    EXPECT_EQ(argOf("size", "512"), integer(512));
    EXPECT_EQ(argOf("size", "0"), integer(0));
    EXPECT_EQ(argOf("size", "-1"), integer(-1));  // as the compiler decoder: any integer
    EXPECT_EQ(argOf("size", R"("512MiB")"), integer(std::int64_t{512} << 20));
    EXPECT_EQ(argOf("size", R"("40   GiB")"), integer(std::int64_t{40} << 30));
    EXPECT_EQ(argOf("size", R"("3 KB")"), integer(3000));
    EXPECT_EQ(argOf("size", R"("7TB")"), integer(7'000'000'000'000));
    EXPECT_EQ(argOf("size", R"("2 TiB")"), integer(std::int64_t{2} << 40));
    EXPECT_EQ(argOf("size", R"("0 B")"), integer(0));
    EXPECT_EQ(argOf("size", R"("8388607 TiB")"), integer(std::int64_t{8388607} << 40));
    // Durations: nanoseconds, or a count with a unit.
    EXPECT_EQ(argOf("wait", "123"), integer(123));
    EXPECT_EQ(argOf("wait", R"("5 min")"), integer(300'000'000'000));
    EXPECT_EQ(argOf("wait", R"("5m")"), integer(300'000'000'000));
    EXPECT_EQ(argOf("wait", R"("2h")"), integer(7'200'000'000'000));
    EXPECT_EQ(argOf("wait", R"("1 d")"), integer(86'400'000'000'000));
    EXPECT_EQ(argOf("wait", R"("10ms")"), integer(10'000'000));
    EXPECT_EQ(argOf("wait", R"("7us")"), integer(7000));
    EXPECT_EQ(argOf("wait", R"("9ns")"), integer(9));
    // Integers: the whole int64 range.
    EXPECT_EQ(argOf("amount", "-9223372036854775808"), integer(INT64_MIN));
    EXPECT_EQ(argOf("amount", "9223372036854775807"), integer(INT64_MAX));
    EXPECT_EQ(argOf("amount", "-0"), integer(0));
    EXPECT_EQ(argOf("ok", "false"), (Value{Value::Kind::Bool, 0, {}, {}}));
    EXPECT_EQ(argOf("level", R"("Internal")"), text(Value::Kind::Label, "Internal"));
    EXPECT_EQ(argOf("digest", "\"" + kSha384 + "\""), text(Value::Kind::Hash, kSha384));
    // Strings keep every escape, decoded; sets are sorted and unique.
    EXPECT_EQ(argOf("to", R"("a\"\\\/\n\t\u00e9\ud83d\ude00\u0000z")"),
              text(Value::Kind::String, std::string("a\"\\/\n\t\xC3\xA9\xF0\x9F\x98\x80\0z", 14)));
    EXPECT_EQ(argOf("to", R"("")"), text(Value::Kind::String, ""));
    EXPECT_EQ(argOf("tags", "[]"), set(Value::Kind::StringSet, {}));
    EXPECT_EQ(argOf("tags", R"(["z","","z","a"])"), set(Value::Kind::StringSet, {"", "a", "z"}));
    EXPECT_EQ(argOf("marks", R"(["Public","PHI","Public"])"), set(Value::Kind::LabelSet, {"PHI", "Public"}));
    EXPECT_EQ(argOf("marks", "[]"), set(Value::Kind::LabelSet, {}));
    EXPECT_EQ(argOf("marks", R"("Internal")"), set(Value::Kind::LabelSet, {"Internal"}));
}

TEST(PolicyJson, DecodesEveryAction) {
    Request read = decoded(
        R"({"action":"read","agent":"b","target":"charts","request":{"path":"/c/1","fields":["x","a"],"consent":[]}})");
    EXPECT_EQ(read.action, schema::Action::Read);
    EXPECT_EQ(read.target, "charts");
    EXPECT_TRUE(read.args.empty());
    EXPECT_EQ(*field(read, "request.fields"), set(Value::Kind::StringSet, {"a", "x"}));
    EXPECT_EQ(*field(read, "request.consent"), set(Value::Kind::StringSet, {}));
    EXPECT_EQ(decoded(R"({"action":"write","agent":"a","target":"charts"})").action, schema::Action::Write);

    Request send = decoded(
        R"({"action":"send","agent":"a","recipient":"b","message":{"label":"Internal","size":"1 KiB","kind":"note"}})");
    EXPECT_EQ(send.action, schema::Action::Send);
    EXPECT_EQ(send.recipient, "b");
    EXPECT_EQ(send.target, "");
    EXPECT_EQ(*field(send, "message.label"), text(Value::Kind::Label, "Internal"));
    EXPECT_EQ(*field(send, "message.size"), integer(1024));

    Request launch = decoded(R"({"action":"gpu.launch","agent":"a","kernel":{"module":")" + kSha256 +
                             R"(","name":"gemm","grid":64,"block":256,"shared_bytes":"48 KiB"},"gpu":{"device":0}})");
    EXPECT_EQ(launch.action, schema::Action::GpuLaunch);
    EXPECT_EQ(*field(launch, "kernel.module"), text(Value::Kind::Hash, kSha256));
    EXPECT_EQ(*field(launch, "kernel.shared_bytes"), integer(48 * 1024));
    EXPECT_EQ(launch.fields.size(), 6u);

    Request alloc =
        decoded(R"({"action":"gpu.alloc","agent":"b","gpu":{"bytes":"40 GiB","bytes_total":1,"device":1}})");
    EXPECT_EQ(*field(alloc, "gpu.bytes"), integer(std::int64_t{40} << 30));

    Request net = decoded(R"({"action":"net.connect","agent":"a","net":{"host":"api.x","port":443,"scheme":"https"}})");
    EXPECT_EQ(net.action, schema::Action::NetConnect);
    EXPECT_EQ(*field(net, "net.port"), integer(443));

    Request search = decoded(R"({"action":"tool","agent":"b","target":"web.search","args":{"query":"flu"}})");
    EXPECT_EQ(search.args.size(), 1u);
    // Empty supplied roots and state are fine; so is every member in any order.
    decoded(R"({"state":{},"session":{},"args":{"query":"q"},"target":"web.search","agent":"a","action":"tool"})");
    decoded(R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"q"},"state":{"counts":{}}})");
}

TEST(PolicyJson, RefusesBadRequestsWithTheCompilersMessages) {
    struct Case {
        std::string json, error;
    };
    const std::string search = R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"})";
    std::vector<Case> cases = {
        // The compiler decoder's own cases (tests/unit/EvalTest.cpp), adapted to this image.
        {"nope", "request: not valid JSON: byte 0: expected a value, found `n`"},
        {"[]", "request: expected a JSON object"},
        {"\"x\"", "request: expected a JSON object"},
        {R"({"agent":"a"})", "action: missing"},
        {R"({"action":"fly","agent":"a"})", "action: unknown action `fly`"},
        {R"({"action":"tool","agent":"z","target":"web.search"})", "agent: unknown agent `z`"},
        {R"({"action":"tool","agent":"a","target":"web.serch"})", "target: unknown tool `web.serch`"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{}})", "args.query: missing"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":1}})", "args.query: expected a string"},
        {R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x","q":"y"}})",
         "args.q: tool `web.search` has no such parameter"},
        {pay({{"size", R"("3 parsecs")"}}), "args.size: unknown unit `parsecs`"},
        {search + R"(,"session":{"taint":["Top"]}})", "session.taint[0]: unknown label `Top`"},
        {search + R"(,"data":{"label":"PHI"}})", "data.label: comes from the declarations and cannot be given"},
        {search + R"(,"message":{"size":1}})", "message.size: not part of a `tool` request"},
        {search + R"(,"extra":1})", "extra: unknown member"},
        {R"({"action":"send","agent":"a"})", "recipient: missing"},
        {R"({"action":"gpu.launch","agent":"a","kernel":{"module":"sha256:abc"}})",
         "kernel.module: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        // The required members.
        {R"({"action":7,"agent":"a"})", "action: expected a string"},
        {R"({"action":"Tool","agent":"a"})", "action: unknown action `Tool`"},
        {R"({"action":"tool"})", "agent: missing"},
        {R"({"action":"tool","agent":["a"]})", "agent: expected a string"},
        {R"({"action":"tool","agent":"a"})", "target: missing"},
        {R"({"action":"tool","agent":"a","target":null})", "target: expected a string"},
        {R"({"action":"read","agent":"a","target":"nope"})", "target: unknown data resource `nope`"},
        {R"({"action":"read","agent":"a","target":"bank.pay"})", "target: unknown data resource `bank.pay`"},
        {R"({"action":"tool","agent":"a","target":"charts"})", "target: unknown tool `charts`"},
        {R"({"action":"send","agent":"a","recipient":"z"})", "recipient: unknown agent `z`"},
        {R"({"action":"send","agent":"a","recipient":1})", "recipient: expected a string"},
        // Arguments.
        {R"({"action":"tool","agent":"a","target":"web.search"})", "args.query: missing"},
        {pay({{"digest", ""}}), "args.digest: missing"},
        {pay({{"to", ""}, {"digest", ""}}), "args.to: missing"},  // in parameter order
        {R"({"action":"tool","agent":"a","target":"web.search","args":[]})", "args: expected an object"},
        {R"({"action":"read","agent":"a","target":"charts","args":{}})", "args: only tool requests take arguments"},
        {R"({"action":"send","agent":"a","recipient":"b","args":{"x":1}})", "args: only tool requests take arguments"},
        {pay({{"to", "null"}}), "args.to: expected a string"},
        {pay({{"amount", R"("5")"}}), "args.amount: expected an integer"},
        {pay({{"amount", "1.0"}}), "args.amount: expected an integer"},
        {pay({{"amount", "1e2"}}), "args.amount: expected an integer"},
        {pay({{"amount", "1e400"}}), "args.amount: expected an integer"},
        {pay({{"amount", "9223372036854775808"}}), "args.amount: integer out of range"},
        {pay({{"amount", "-9223372036854775809"}}), "args.amount: integer out of range"},
        {pay({{"amount", "123456789012345678901234567890"}}), "args.amount: integer out of range"},
        {pay({{"ok", "1"}}), "args.ok: expected true or false"},
        {pay({{"ok", R"("true")"}}), "args.ok: expected true or false"},
        {pay({{"level", R"("Top")"}}), "args.level: unknown label `Top`"},
        {pay({{"level", R"("a")"}}), "args.level: unknown label `a`"},  // a string of the image, not a label
        {pay({{"level", R"("phi")"}}), "args.level: unknown label `phi`"},
        {pay({{"level", R"(["PHI"])"}}), "args.level: expected a string"},
        {pay({{"marks", R"(["PHI",3])"}}), "args.marks[1]: expected a string"},
        {pay({{"marks", R"(["PHI","Top"])"}}), "args.marks[1]: unknown label `Top`"},
        {pay({{"marks", R"("Top")"}}), "args.marks: unknown label `Top`"},
        {pay({{"marks", R"({"PHI":true})"}}), "args.marks: expected an array"},
        {pay({{"tags", R"("x")"}}), "args.tags: expected an array"},
        {pay({{"tags", R"(["x",["y"]])"}}), "args.tags[1]: expected a string"},
        {pay({{"size", "1.5"}}), "args.size: expected bytes as an integer, or a string with a unit"},
        {pay({{"size", "true"}}), "args.size: expected bytes as an integer, or a string with a unit"},
        {pay({{"wait", "null"}}), "args.wait: expected nanoseconds as an integer, or a string with a unit"},
        {pay({{"size", R"("GiB")"}}), "args.size: `GiB` is not a quantity such as `40 GiB` or `30s`"},
        {pay({{"size", R"("")"}}), "args.size: `` is not a quantity such as `40 GiB` or `30s`"},
        {pay({{"size", R"(" 4 GiB")"}}), "args.size: ` 4 GiB` is not a quantity such as `40 GiB` or `30s`"},
        {pay({{"size", R"("-4 GiB")"}}), "args.size: `-4 GiB` is not a quantity such as `40 GiB` or `30s`"},
        {pay({{"size", R"("1234567890123456789 B")"}}),
         "args.size: `1234567890123456789 B` is not a quantity such as `40 GiB` or `30s`"},
        {pay({{"size", R"("40")"}}), "args.size: unknown unit ``"},
        {pay({{"size", R"("40 gib")"}}), "args.size: unknown unit `gib`"},
        {pay({{"size", R"("40 GiB ")"}}), "args.size: unknown unit `GiB `"},
        {pay({{"size", R"("1.5 GiB")"}}), "args.size: unknown unit `.5 GiB`"},
        {pay({{"size", R"("30s")"}}), "args.size: unknown unit `s`"},
        {pay({{"wait", R"("1 GiB")"}}), "args.wait: unknown unit `GiB`"},
        {pay({{"size", R"("8388608 TiB")"}}), "args.size: quantity too large"},
        {pay({{"wait", R"("999999999999999999 d")"}}), "args.wait: quantity too large"},
        {pay({{"size", "18446744073709551616"}}), "args.size: integer out of range"},
        {pay({{"digest", R"("sha256:abc")"}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "\"sha256:" + std::string(64, 'A') + "\""}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "\"SHA256:" + std::string(64, 'a') + "\""}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "\"sha384:" + std::string(64, 'a') + "\""}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "\"sha512:" + std::string(128, 'a') + "\""}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "\"" + std::string(64, 'a') + "\""}}),
         "args.digest: expected `sha256:<64 hex>` or `sha384:<96 hex>` in lowercase"},
        {pay({{"digest", "7"}}), "args.digest: expected a string"},
        {pay({{"Amount", "1"}}), "args.Amount: tool `bank.pay` has no such parameter"},
        // Supplied fields.
        {search + R"(,"request":"x"})", "request: expected an object"},
        {search + R"(,"request":{"nope":1}})", "request.nope: unknown field"},
        {search + R"(,"request":{"purpose":1}})", "request.purpose: expected a string"},
        {search + R"(,"request":{"path":"/x"}})", "request.path: not part of a `tool` request"},
        {search + R"(,"tool":{"name":"x"}})", "tool.name: comes from the declarations and cannot be given"},
        {search + R"(,"tool":{"description_changed":"no"}})", "tool.description_changed: expected true or false"},
        {search + R"(,"session":{"taint":"Top"}})", "session.taint: unknown label `Top`"},
        {search + R"(,"session":{"approvals":[1]}})", "session.approvals[0]: expected a string"},
        {search + R"(,"kernel":{"":1}})", "kernel.: comes from the declarations and cannot be given"},
        {search + R"(,"recipient":{"name":"b"}})", "accepted"},  // as the compiler: skipped unless a send
        {search + R"(,"gpu":{"device":0}})", "gpu.device: not part of a `tool` request"},
        {search + R"(,"net":[]})", "net: expected an object"},
        {search + R"(,"Request":{}})", "Request: unknown member"},
        {search + R"(,"":{}})", ": unknown member"},
        {R"({"action":"gpu.launch","agent":"a","kernel":{"grid":1.5}})", "kernel.grid: expected an integer"},
        {R"({"action":"gpu.alloc","agent":"a","gpu":{"bytes":"1 s"}})", "gpu.bytes: unknown unit `s`"},
        {R"({"action":"net.connect","agent":"a","kernel":{"name":"k"}})",
         "kernel.name: not part of a `net.connect` request"},
        {R"({"action":"send","agent":"a","recipient":"b","message":{"label":3}})", "message.label: expected a string"},
        // State.
        {search + R"(,"state":[]})", "state: expected an object"},
        {search + R"(,"state":{"count":{}}})", "state.count: unknown member"},
        {search + R"(,"state":{"counts":[]}})", "state.counts: expected an object of rule ids to counts"},
        {search + R"(,"state":{"counts":{"p:10":-1}}})", "state.counts.p:10: expected a count"},
        {search + R"(,"state":{"counts":{"p:10":1.5}}})", "state.counts.p:10: expected a count"},
        {search + R"(,"state":{"counts":{"p:10":"1"}}})", "state.counts.p:10: expected a count"},
        {search + R"(,"state":{"counts":{"p:10":9223372036854775808}}})", "state.counts.p:10: expected a count"},
        // Several problems: the first member in name order is reported, as the compiler's std::map visits them.
        {R"({"zz":1,"session":{"taint":["Top"]},"action":"tool","agent":"a","target":"web.search","args":{"query":1}})",
         "args.query: expected a string"},
        {search + R"(,"zz":1,"session":{"taint":["Top"]}})", "session.taint[0]: unknown label `Top`"},
        {search + R"(,"session":{"taint":["Top"],"id":7}})", "session.id: expected a string"},
        {R"({"action":"tool","agent":"z","target":"nope"})", "agent: unknown agent `z`"},
        {R"({"action":"fly","agent":"z"})", "action: unknown action `fly`"},
        // Not JSON.
        {R"({"action":"tool","agent":"a","agent":"b"})", "request: not valid JSON: byte 29: duplicate key `agent`"},
        {R"({"action":"tool",})", "request: not valid JSON: byte 17: expected a string key, found `}`"},
        {R"({"action":"tool")", "request: not valid JSON: byte 16: expected `,` or `}`, found the end of the input"},
        {R"({"action":"to)",
         "request: not valid JSON: byte 13: expected the closing `\"` of the string that begins at byte 10, found the "
         "end of the input"},
        {R"({"action":"tool"} {})", "request: not valid JSON: byte 18: expected the end of the input, found `{`"},
        {R"({"action":"\ud83d"})",
         "request: not valid JSON: byte 11: lone high surrogate `\\ud83d`; expected a `\\u` low surrogate after it"},
        {"{\"action\":\"t\xC0\xAF\"}", "request: not valid JSON: byte 12: invalid UTF-8 in a string"},
        {R"({"action":"\x"})",
         R"(request: not valid JSON: byte 12: expected an escape character after `\`, found `x`)"},
        {"", "request: not valid JSON: byte 0: expected a value, found the end of the input"},
    };
    for (const Case& c : cases) EXPECT_EQ(errorOf(c.json), c.error) << c.json;
}

TEST(PolicyJson, DeepNestingIsAnErrorNotACrash) {
    EXPECT_EQ(errorOf(std::string(10000, '[') + std::string(10000, ']')),
              "request: not valid JSON: byte 64: nesting deeper than 64 levels");
    std::string deep = R"({"action":"tool","agent":"a","target":"web.search","args":{"query":)";
    for (int i = 0; i < 10000; ++i) deep += "{\"a\":";
    EXPECT_EQ(errorOf(deep), "request: not valid JSON: byte 377: nesting deeper than 64 levels");
    // Nesting that the reader allows still gets a typed refusal.
    EXPECT_EQ(errorOf(pay({{"tags", "[[[[[[[]]]]]]]"}})), "args.tags[0]: expected a string");
}

TEST(PolicyJson, SizeLimits) {
    RequestLimits small;
    small.maxString = 10;
    small.maxSetItems = 2;
    EXPECT_EQ(errorOf(R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"hello world"}})", small),
              "args.query: string of 11 bytes; the limit is 10");
    EXPECT_EQ(errorOf(R"({"action":"read","agent":"a","target":"charts","request":{"fields":["a","b","c"]}})", small),
              "request.fields: set of 3 items; the limit is 2");
    EXPECT_EQ(errorOf(R"({"action":"read","agent":"a","target":"charts","request":{"fields":["a","b"]}})", small),
              "accepted");
    EXPECT_EQ(
        errorOf(R"({"action":"read","agent":"a","target":"charts","request":{"fields":["a","hello world"]}})", small),
        "request.fields[1]: string of 11 bytes; the limit is 10");
    EXPECT_EQ(errorOf(R"({"action":"tool_with_a_long_name","agent":"a"})", small),
              "action: string of 21 bytes; the limit is 10");
    EXPECT_EQ(
        errorOf(
            R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}})",
            small),
        "args.query: string of 12 bytes; the limit is 10");  // bytes of UTF-8, not characters
    small.maxBytes = 40;
    EXPECT_EQ(errorOf(R"({"action":"tool","agent":"a","target":"web.search"})", small),
              "request: 51 bytes; the limit is 40");

    // The defaults: 65,536 bytes a string, 4,096 items a set, 1 MiB a document.
    std::string big(65536, 'x');
    auto query = [](const std::string& q) {
        return R"({"action":"tool","agent":"a","target":"web.search","args":{"query":")" + q + "\"}}";
    };
    EXPECT_EQ(errorOf(query(big)), "accepted");
    EXPECT_EQ(errorOf(query(big + "x")), "args.query: string of 65537 bytes; the limit is 65536");
    auto fields = [](int n) {
        std::string items;
        for (int i = 0; i < n; ++i) items += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
        return R"({"action":"read","agent":"a","target":"charts","request":{"fields":[)" + items + "]}}";
    };
    EXPECT_EQ(errorOf(fields(4096)), "accepted");
    EXPECT_EQ(errorOf(fields(4097)), "request.fields: set of 4097 items; the limit is 4096");
    std::string huge = query(std::string((1u << 20) - 100, 'x'));
    EXPECT_EQ(errorOf(huge), "args.query: string of 1048476 bytes; the limit is 65536");
    huge = query(std::string(1u << 20, 'x'));
    EXPECT_EQ(errorOf(huge), "request: " + std::to_string(huge.size()) + " bytes; the limit is 1048576");
    // Many small values within a document are bounded by the document size, not refused by the reader.
    std::string many = R"({"action":"tool","agent":"a","target":"web.search","args":{"query":"x"},"zz":[)";
    for (int i = 0; i < 200000; ++i) many += i ? ",0" : "0";
    EXPECT_EQ(errorOf(many + "]}"), "zz: unknown member");
}

TEST(PolicyJson, UnitsAreOneTable) {
    EXPECT_EQ(schema::sizeUnit("GiB"), std::int64_t{1} << 30);
    EXPECT_EQ(schema::sizeUnit("GB"), 1'000'000'000);
    EXPECT_FALSE(schema::sizeUnit("s"));
    EXPECT_EQ(schema::durationUnit("min"), 60'000'000'000);
    EXPECT_EQ(schema::durationUnit("m"), 60'000'000'000);
    EXPECT_FALSE(schema::durationUnit("B"));
    EXPECT_FALSE(schema::durationUnit(""));
    std::string names;
    for (const schema::Unit& u : schema::units()) names += std::string(names.empty() ? "" : " ") + std::string(u.name);
    EXPECT_EQ(names, "B KB MB GB TB KiB MiB GiB TiB ns us ms s m min h d");
}

// ---- Decisions ----------------------------------------------------------------------------------------------------

TEST(PolicyJson, DecisionsPrintAsTheCompilerPrintsThem) {
    const policy::Image& im = image();
    auto id = [&](const char* s) { return test::stringId(im, s); };

    policy::Decision allow;
    allow.allow = true;
    allow.rules = {0, 2};
    allow.audit = true;
    allow.redact = {id("ssn")};
    allow.approve = {id("lead")};
    EXPECT_EQ(
        policy::decisionToJson(allow, im),
        R"J({"decision":"allow","reason":"permitted by p:10 (tenant)","rules":[)J"
        R"J({"id":"p:10","effect":"permit","principal":"tenant","module":"p","line":10},)J"
        R"J({"id":"q:3","effect":"permit","principal":"clinic","module":"q","line":3}],)J"
        R"J("principals":["tenant","clinic"],"obligations":{"audit":true,"redact":["ssn"],"approve":["lead"]}})J");

    policy::Decision plain;
    plain.allow = true;
    plain.rules = {2};
    EXPECT_EQ(policy::decisionToJson(plain, im),
              R"J({"decision":"allow","reason":"permitted by q:3 (clinic)","rules":[)J"
              R"J({"id":"q:3","effect":"permit","principal":"clinic","module":"q","line":3}],)J"
              R"J("principals":["clinic"],"obligations":{}})J");
    plain.approve = {id("lead"), id("ssn")};
    EXPECT_EQ(policy::decisionToJson(plain, im).substr(policy::decisionToJson(plain, im).find("\"obligations\"")),
              R"J("obligations":{"approve":["lead","ssn"]}})J");
    plain.approve.clear();
    plain.redact = {id("ssn")};
    EXPECT_EQ(policy::decisionToJson(plain, im).substr(policy::decisionToJson(plain, im).find("\"obligations\"")),
              R"J("obligations":{"redact":["ssn"]}})J");

    policy::Decision forbid;
    forbid.rules = {1};
    const std::string forbidRules =
        R"J("rules":[{"id":"p:12","effect":"forbid","principal":"tenant","module":"p","line":12}],)J"
        R"J("principals":["tenant"],"obligations":{}})J";
    EXPECT_EQ(policy::decisionToJson(forbid, im),
              R"J({"decision":"deny","reason":"forbidden by p:12 (tenant)",)J" + forbidRules);
    forbid.forbidOnUnknown = true;
    EXPECT_EQ(
        policy::decisionToJson(forbid, im),
        R"J({"decision":"deny","reason":"forbidden by p:12 (tenant), matched on an absent value",)J" + forbidRules);

    policy::Decision consent;
    consent.consentMissing = {id("clinic"), id("tenant")};
    EXPECT_EQ(policy::decisionToJson(consent, im),
              R"J({"decision":"deny","reason":"consent missing from principal clinic","rules":[],"principals":[],)J"
              R"J("consent_missing":["clinic","tenant"],"obligations":{}})J");

    EXPECT_EQ(policy::decisionToJson(policy::Decision{}, im),
              R"J({"decision":"deny","reason":"no rule permits it (default deny)","rules":[],"principals":[],)J"
              R"J("obligations":{}})J");
}

TEST(PolicyJson, ErrorsPrintAsDeniesWithEscapedText) {
    const policy::Image& im = image();
    EXPECT_EQ(policy::errorDecisionJson("args.amount: expected an integer"),
              R"J({"decision":"deny","error":"args.amount: expected an integer","rules":[],"obligations":{}})J");
    policy::Decision failed;
    failed.allow = true;  // an error wins over everything else
    failed.rules = {0};
    failed.error = "args.`q\"`: \\ \n\t\r\b\f \x01\x1f \x7f \xC3\xA9 /";
    EXPECT_EQ(policy::decisionToJson(failed, im),
              "{\"decision\":\"deny\",\"error\":\"args.`q\\\"`: \\\\ \\n\\t\\r\\b\\f \\u0001\\u001f \x7f \xC3\xA9 /\","
              "\"rules\":[],\"obligations\":{}}");
    // Bytes that are not UTF-8 never reach the output.
    EXPECT_EQ(policy::errorDecisionJson("x\xFFy\xC3"),
              "{\"decision\":\"deny\",\"error\":\"x\xEF\xBF\xBDy\xEF\xBF\xBD\",\"rules\":[],\"obligations\":{}}");
    // A refused request round-trips into the documented deny.
    Request r;
    std::string error;
    ASSERT_FALSE(policy::decodeRequest(pay({{"amount", "\"5\""}}), im, r, error));
    EXPECT_EQ(policy::errorDecisionJson(error),
              R"J({"decision":"deny","error":"args.amount: expected an integer","rules":[],"obligations":{}})J");
}

TEST(PolicyJson, DecisionsTheImageCannotNameAreDenies) {
    const policy::Image& im = image();
    const std::string bad =
        R"J({"decision":"deny","error":"decision: refers to rules or strings the image does not have","rules":[],)J"
        R"J("obligations":{}})J";
    policy::Decision d;
    d.allow = true;
    EXPECT_EQ(policy::decisionToJson(d, im), bad);  // an allow names its permits
    d.rules = {99};
    EXPECT_EQ(policy::decisionToJson(d, im), bad);
    d.rules = {0};
    d.redact = {100000};
    EXPECT_EQ(policy::decisionToJson(d, im), bad);
    policy::Decision consent;
    consent.consentMissing = {100000};
    EXPECT_EQ(policy::decisionToJson(consent, im), bad);
}
