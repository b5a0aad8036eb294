// omegad's configuration: the YAML subset reader (what it accepts, and the line:column message of everything it
// refuses) and the typed configuration on top of it (keys, types, ranges, defaults, relative paths, peers).
#include "omega/omegad/Config.h"
#include "omega/omegad/Yaml.h"

#include <gtest/gtest.h>

using namespace omega::omegad;

namespace {

std::string yamlError(std::string_view text) {
    auto r = yaml::parse(text);
    return r ? std::string("(accepted)") : r.error();
}

const char* kConfig = R"(# a full configuration
bundle: /etc/omega/policy.omb
trusted_keys:
  - /etc/omega/keys/publisher.pub.pem
  - "keys/second.pub.pem"   # relative: from the configuration's directory
socket:
  path: /run/omega/omegad.sock
  mode: 0660
log:
  path: /var/lib/omega/decisions.log
  key: /etc/omega/log-key.pem
  durable: false
  rotate_bytes: 1048576
  checkpoint_records: 64
  checkpoint_ms: 250
limits:
  max_sessions: 1000
  approval_ttl_ms: 60000
  max_connections: 8
  max_frame: 65536
  idle_timeout_ms: 2000
peers:
  - uid: 1000
    allow: [decide]
    agents: [helper, 'night shift']
  - gid: 50
    allow: [approve, status]
    roles: [lead]
  - uid: 0
    gid: 0
    allow:
      - decide
      - approve
      - reload
      - status
)";

std::string configError(const std::string& text) {
    auto r = parseConfig(text, "c.yaml", "/base");
    return r ? std::string("(accepted)") : r.error();
}

// The smallest valid configuration, with `extra` lines added at the end.
std::string minimal(const std::string& extra = "") {
    return "bundle: b.omb\ntrusted_keys: [k.pem]\nsocket:\n  path: s.sock\nlog:\n  path: l.log\n  key: l.pem\n"
           "peers:\n  - uid: 1\n    allow: [decide]\n" +
           extra;
}

}  // namespace

TEST(OmegadYaml, ReadsTheSubset) {
    auto doc = yaml::parse(R"(---
# comment
name: plain text with spaces   # trailing comment
url: http://example.com:8080/a#b
quoted: "tab\there \u00e9 \"q\" # not a comment"
single: 'it''s'
number: -42
flow: [a, "b c", 'd', [e, f], []]
empty: []
nested:
    deeper:
      key: value
list:
- one
- two: 2
  three: 3
-   - inner
    - inner2
-
  after: dash
)");
    ASSERT_TRUE(doc) << doc.error();
    const yaml::Node& root = *doc;
    ASSERT_TRUE(root.isMapping());
    EXPECT_EQ(root.find("name")->text, "plain text with spaces");
    EXPECT_EQ(root.find("url")->text, "http://example.com:8080/a#b");
    EXPECT_EQ(root.find("quoted")->text, "tab\there \xc3\xa9 \"q\" # not a comment");
    EXPECT_TRUE(root.find("quoted")->quoted);
    EXPECT_EQ(root.find("single")->text, "it's");
    EXPECT_EQ(yaml::integerOf(*root.find("number")), -42);
    const yaml::Node& flow = *root.find("flow");
    ASSERT_TRUE(flow.isSequence());
    ASSERT_EQ(flow.items.size(), 5u);
    EXPECT_EQ(flow.items[1].text, "b c");
    EXPECT_EQ(flow.items[3].items[1].text, "f");
    EXPECT_TRUE(flow.items[4].isSequence());
    EXPECT_TRUE(root.find("empty")->items.empty());
    EXPECT_EQ(root.find("nested")->find("deeper")->find("key")->text, "value");
    const yaml::Node& list = *root.find("list");
    ASSERT_EQ(list.items.size(), 4u);
    EXPECT_EQ(list.items[0].text, "one");
    EXPECT_EQ(list.items[1].find("three")->text, "3");
    EXPECT_EQ(list.items[2].items[1].text, "inner2");
    EXPECT_EQ(list.items[3].find("after")->text, "dash");
    EXPECT_EQ(root.find("list")->mark.line, 14u);  // the value: the sequence on the next line
    EXPECT_EQ(list.items[1].find("three")->mark.column, 10u);

    auto scalar = [](const char* text, bool quoted = false) {
        yaml::Node n;
        n.text = text;
        n.quoted = quoted;
        return n;
    };
    EXPECT_EQ(yaml::booleanOf(scalar("true")), true);
    EXPECT_EQ(yaml::booleanOf(scalar("yes")), std::nullopt);  // no YAML 1.1 booleans
    EXPECT_EQ(yaml::integerOf(scalar("12", true)), std::nullopt);
    EXPECT_EQ(yaml::integerOf(scalar("99999999999999999999")), std::nullopt);
    EXPECT_EQ(yaml::integerOf(scalar("0x10")), std::nullopt);
}

TEST(OmegadYaml, RefusesWhatItDoesNotSupportAtItsPlace) {
    EXPECT_EQ(yamlError(""), "1:1: the document is empty");
    EXPECT_EQ(yamlError("# only a comment\n"), "1:1: the document is empty");
    EXPECT_EQ(yamlError("a: 1\n\tb: 2\n"), "2:1: tabs are not allowed in indentation");
    EXPECT_EQ(yamlError("a: &x 1\n"), "1:4: anchors (`&`) are not supported");
    EXPECT_EQ(yamlError("a: *x\n"), "1:4: aliases (`*`) are not supported");
    EXPECT_EQ(yamlError("a: !!str 1\n"), "1:4: tags (`!`) are not supported");
    EXPECT_EQ(yamlError("a: {b: 1}\n"), "1:4: flow mappings (`{...}`) are not supported; use a block mapping");
    EXPECT_EQ(yamlError("a: |\n  text\n"), "1:4: block scalars (`|`, `>`) are not supported; use a quoted string");
    EXPECT_EQ(yamlError("a: 1\na: 2\n"), "2:1: duplicate key `a` (first at 1:1)");
    EXPECT_EQ(yamlError("a:\n  b: 1\n   c: 2\n"), "3:4: bad indentation: expected 2 spaces, like the keys above");
    EXPECT_EQ(yamlError("a:\n    b: 1\n  c: 2\n"), "3:3: bad indentation: expected 0 spaces, like the keys above");
    EXPECT_EQ(yamlError("a: \"open\n"), "1:4: unterminated quoted scalar (a quoted scalar must end on its line)");
    EXPECT_EQ(yamlError("a: \"\\q\"\n"), "1:5: unknown escape `\\q`");
    EXPECT_EQ(yamlError("a: [1, 2\n"), "1:4: unterminated flow sequence (a flow sequence must end on its line)");
    EXPECT_EQ(yamlError("a: [1, , 2]\n"), "1:8: unexpected `,`");
    EXPECT_EQ(yamlError("a: [1, 2,]\n"), "1:10: a trailing `,` in a flow sequence");
    EXPECT_EQ(yamlError("a: [b: 1]\n"), "1:6: flow mappings are not supported; use a block mapping");
    EXPECT_EQ(yamlError("a: b: c\n"), "1:5: a mapping cannot start on the line of its key");
    EXPECT_EQ(yamlError("a: - b\n"), "1:4: a block sequence cannot start on the line of its key");
    EXPECT_EQ(yamlError("a:\nb: 1\n"), "1:1: the key `a` has no value");
    EXPECT_EQ(yamlError("a: 1\n---\nb: 2\n"), "2:1: only one document is supported");
    EXPECT_EQ(yamlError("a: 1\n...\n"), "2:1: document end markers (`...`) are not supported");
    EXPECT_EQ(yamlError("%YAML 1.2\n"), "1:1: directives (`%`) are not supported");
    EXPECT_EQ(yamlError("a: \"x\" y\n"), "1:8: unexpected `y` after the value");
    EXPECT_EQ(yamlError("a: \"x\"#c\n"), "1:7: a comment must be separated from the value by a space");
    EXPECT_EQ(yamlError("a: 1\nb\n"), "2:2: expected `:` after the key `b`");
    EXPECT_EQ(yamlError("a:\n  - x\n  y: 1\n"), "3:3: bad indentation: expected 0 spaces, like the keys above");
    EXPECT_EQ(yamlError("- a\nb: 1\n"), "2:1: unexpected content after the document's top-level node");
    EXPECT_EQ(yamlError("a: \xff\n"), "1:4: invalid UTF-8 or a control character");
    EXPECT_EQ(yamlError("a: \x01\n"), "1:4: a control character");
    EXPECT_EQ(yamlError("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n").substr(0, 25),
              "1:35: nesting deeper than");
    EXPECT_EQ(yamlError(std::string(yaml::kMaxBytes + 1, 'a')), "1:1: the document is larger than 1048576 bytes");
}

TEST(OmegadConfig, ReadsEveryKey) {
    auto c = parseConfig(kConfig, "omegad.yaml", "/etc/omega");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->bundle, "/etc/omega/policy.omb");
    EXPECT_EQ(c->trustedKeys,
              (std::vector<std::string>{"/etc/omega/keys/publisher.pub.pem", "/etc/omega/keys/second.pub.pem"}));
    EXPECT_EQ(c->socketPath, "/run/omega/omegad.sock");
    EXPECT_EQ(c->socketMode, 0660u);
    ASSERT_TRUE(c->log);
    EXPECT_FALSE(c->log->durable);
    EXPECT_EQ(c->log->rotateBytes, 1048576u);
    EXPECT_EQ(c->log->checkpointRecords, 64u);
    EXPECT_EQ(c->log->checkpointMs, 250u);
    EXPECT_EQ(c->limits.maxSessions, 1000u);
    EXPECT_EQ(c->limits.approvalTtlNs, 60'000'000'000);
    EXPECT_EQ(c->limits.maxPending, omega::monitor::Limits{}.maxPending);  // a default
    EXPECT_EQ(c->serve.maxConnections, 8u);
    EXPECT_EQ(c->serve.maxFrame, 65536u);
    EXPECT_EQ(c->serve.idleTimeoutMs, 2000u);
    EXPECT_EQ(c->serve.frameTimeoutMs, ServeLimits{}.frameTimeoutMs);
    ASSERT_EQ(c->peers.size(), 3u);
    EXPECT_EQ(c->peers[0].operations, kDecide);
    EXPECT_TRUE(c->peers[0].mayDecideFor("night shift"));
    EXPECT_FALSE(c->peers[0].mayDecideFor("auditor"));
    EXPECT_TRUE(c->peers[1].mayAnswerAs("lead"));
    EXPECT_FALSE(c->peers[1].mayAnswerAs("cfo"));
    EXPECT_EQ(c->peers[2].operations, kDecide | kApprove | kReload | kStatus);
    EXPECT_TRUE(c->peers[2].mayDecideFor("anyone"));

    // Matching: the first entry whose uid and gid (where given) are the peer's.
    EXPECT_EQ(c->match(1000, 7), &c->peers[0]);
    EXPECT_EQ(c->match(1234, 50), &c->peers[1]);
    EXPECT_EQ(c->match(0, 0), &c->peers[2]);
    EXPECT_EQ(c->match(0, 1), nullptr);
    EXPECT_EQ(c->match(1234, 51), nullptr);
}

TEST(OmegadConfig, DefaultsAndDurableLog) {
    auto c = parseConfig(minimal(), "c.yaml", "/base");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->bundle, "/base/b.omb");
    EXPECT_EQ(c->socketMode, 0660u);
    EXPECT_TRUE(c->log->durable);
    EXPECT_EQ(c->serve.maxFrame, kDefaultMaxFrame);
    EXPECT_FALSE(c->peers[0].agents);
}

TEST(OmegadConfig, EveryProblemIsReportedWithItsPlace) {
    EXPECT_EQ(configError("- a\n"), "c.yaml:1:1: the configuration must be a mapping");
    EXPECT_EQ(configError("bundle: [x\n"),
              "c.yaml:1:9: unterminated flow sequence (a flow sequence must end on its line)");
    EXPECT_EQ(configError("bundle: b.omb\n"),
              "c.yaml:1:1: the configuration needs `trusted_keys`\n"
              "c.yaml:1:1: the configuration needs `socket`\n"
              "c.yaml:1:1: the configuration needs `log`\n"
              "c.yaml:1:1: the configuration needs `peers`");
    EXPECT_EQ(
        configError(minimal("colour: blue\n")),
        "c.yaml:11:1: unknown key `colour` in the configuration (known: `attestation`, `bundle`, `limits`, `log`, "
        "`peers`, `socket`, `trusted_keys`)");
    EXPECT_EQ(configError(minimal("limits:\n  max_frame: 10\n")),
              "c.yaml:12:14: `max_frame` must be from 1024 to 67108864");
    EXPECT_EQ(configError(minimal("limits:\n  max_connections: \"8\"\n")),
              "c.yaml:12:20: `max_connections` must be an integer (not a quoted string)");
    EXPECT_EQ(configError(minimal("limits:\n  idle_timeout: 5\n")).substr(0, 56),
              "c.yaml:12:3: unknown key `idle_timeout` in `limits` (kno");
    EXPECT_EQ(configError(minimal("limits: 5\n")), "c.yaml:11:9: `limits` must be a mapping");

    std::string badLog = minimal();
    badLog.replace(badLog.find("  key: l.pem\n"), 13, "  durable: yes\n");
    EXPECT_EQ(configError(badLog), "c.yaml:7:12: `durable` must be `true` or `false`\nc.yaml:6:3: `log` needs `key`");
    std::string badMode = minimal();
    badMode.replace(badMode.find("  path: s.sock\n"), 15, "  path: s.sock\n  mode: 660x\n");
    EXPECT_EQ(configError(badMode), "c.yaml:5:9: `mode` must be octal permission bits such as 0660");
    std::string badKeys = minimal();
    badKeys.replace(badKeys.find("[k.pem]"), 7, "[]");
    EXPECT_EQ(configError(badKeys), "c.yaml:2:15: `trusted_keys` is empty: omegad loads only signed bundles");
    std::string badSocket = minimal();
    badSocket.replace(badSocket.find("s.sock"), 6, "/" + std::string(120, 's'));
    EXPECT_EQ(configError(badSocket),
              "c.yaml:4:3: `socket.path` is longer than 107 bytes (the limit of a Unix socket address)");
}

TEST(OmegadConfig, Attestation) {
    auto c =
        parseConfig(minimal("attestation:\n  provider: software\n  authority: auth\n  vmpl: 2\n"), "c.yaml", "/base");
    ASSERT_TRUE(c) << c.error();
    ASSERT_TRUE(c->attestation);
    EXPECT_EQ(c->attestation->provider, "software");
    EXPECT_EQ(c->attestation->authority, "/base/auth");
    EXPECT_EQ(c->attestation->vmpl, 2u);
    auto hw = parseConfig(minimal("attestation:\n  provider: configfs-tsm\n"), "c.yaml", "/base");
    ASSERT_TRUE(hw) << hw.error();
    EXPECT_EQ(hw->attestation->provider, "configfs-tsm");
    auto none = parseConfig(minimal(), "c.yaml", "/base");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->attestation);

    EXPECT_EQ(configError(minimal("attestation:\n  provider: tpm\n")),
              "c.yaml:12:13: unknown provider `tpm` (known: `auto`, `configfs-tsm`, `sev-guest`, `software`)");
    EXPECT_EQ(configError(minimal("attestation:\n  provider: software\n")),
              "c.yaml:12:13: the software provider needs `authority`: the directory of its certificate chain");
    EXPECT_EQ(configError(minimal("attestation:\n  provider: auto\n  authority: a\n")),
              "c.yaml:12:13: `authority` is for the software provider only");
    EXPECT_EQ(configError(minimal("attestation:\n  provider: auto\n  vmpl: 4\n")),
              "c.yaml:13:9: `vmpl` must be from 0 to 3");
    EXPECT_EQ(configError(minimal("attestation:\n  vmpl: 1\n")), "c.yaml:12:3: `attestation` needs `provider`");
}

TEST(OmegadConfig, PeersAreCheckedEntryByEntry) {
    auto peers = [](const std::string& block) {
        std::string text = minimal();
        text = text.substr(0, text.find("peers:")) + "peers:\n" + block;
        return configError(text);
    };
    EXPECT_EQ(peers("  - allow: [decide]\n"), "c.yaml:9:5: a peer needs `uid`, `gid` or both");
    EXPECT_EQ(peers("  - uid: 1\n"), "c.yaml:9:5: a peer needs `allow`");
    EXPECT_EQ(peers("  - uid: 1\n    allow: [decide, fly]\n"),
              "c.yaml:10:21: unknown operation `fly` (known: `decide`, `approve`, `reload`, `status`, `attest`)");
    EXPECT_EQ(peers("  - uid: 1\n    allow: []\n"), "c.yaml:10:12: `allow` is empty");
    EXPECT_EQ(peers("  - uid: -1\n    allow: [decide]\n"), "c.yaml:9:10: `uid` must be from 0 to 4294967294");
    EXPECT_EQ(peers("  - uid: 1\n    allow: [decide]\n    agents: []\n"),
              "c.yaml:11:13: `agents` is empty: the peer could decide for no agent (leave `decide` out of `allow` "
              "instead)");
    EXPECT_EQ(peers("  - uid: 1\n    allow: decide\n"),
              "c.yaml:10:12: `allow` must be a sequence (`[a, b]` or `- a` lines)");
    EXPECT_EQ(peers("  - uid: 1\n    allow: [decide]\n    name: bob\n").substr(0, 48),
              "c.yaml:11:5: unknown key `name` in a peer (known");
    EXPECT_EQ(peers("  []\n"), "c.yaml:9:3: `peers` is empty: no process could connect");
}

TEST(OmegadConfig, LoadsAFileAndResolvesPathsFromItsDirectory) {
    EXPECT_EQ(loadConfig("/nonexistent/omegad.yaml").error(),
              "cannot open the configuration `/nonexistent/omegad.yaml`");
    const std::string dir = ::testing::TempDir();
    const std::string path = dir + (dir.back() == '/' ? "" : "/") + "omegad-config-test.yaml";
    {
        FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        const std::string text = minimal();
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    auto c = loadConfig(path);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->bundle.substr(c->bundle.size() - 6), "/b.omb");
    EXPECT_EQ(c->bundle[0], '/');
    std::remove(path.c_str());
}
