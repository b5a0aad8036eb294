// omegad's configuration (docs/omegad.md, "Configuration"): read from the YAML subset of Yaml.h into typed values,
// strictly: unknown keys, wrong types and out-of-range numbers are errors with their line and column.
#pragma once

#include "omega/monitor/Monitor.h"
#include "omega/omegad/Wire.h"
#include "omega/omegad/Yaml.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace omega::omegad {

// What a peer may ask for. Ping is open to every peer on the list; wait needs Decide or Approve.
enum Operation : std::uint8_t {
    kDecide = 1,
    kApprove = 2,  // grant and refuse
    kReload = 4,
    kStatus = 8,
    kAttest = 16,
};

// One entry of the allow list. A connection's credentials (SO_PEERCRED) match the first entry whose uid and gid
// (where given) are the peer's.
struct Peer {
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    std::uint8_t operations = 0;
    std::optional<std::vector<std::string>> agents;  // the agents it may decide for; absent: any
    std::optional<std::vector<std::string>> roles;   // the roles it may grant or refuse as; absent: any
    bool mayDecideFor(std::string_view agent) const;
    bool mayAnswerAs(std::string_view role) const;
};

struct LogConfig {
    std::string path;  // the active log file
    std::string key;   // the Ed25519 private key (PEM) that signs checkpoints
    bool durable = true;
    std::uint64_t rotateBytes = 64ull << 20;
    std::uint32_t checkpointRecords = 1024;
    std::uint32_t checkpointMs = 1000;
};

// Where attestation reports come from (docs/attestation.md).
struct AttestConfig {
    std::string provider;   // "software", "configfs-tsm", "sev-guest", or "auto" (configfs-tsm, else sev-guest)
    std::string authority;  // software: the directory of its ARK/ASK/VCEK (created with a fresh chain when absent)
    std::uint32_t vmpl = 0;
};

// Bounds of the server itself (the monitor's are monitor::Limits).
struct ServeLimits {
    std::uint32_t maxConnections = 64;          // connections served at once; more are answered with an error
    std::uint32_t maxFrame = kDefaultMaxFrame;  // payload bytes of one frame
    std::uint32_t idleTimeoutMs = 60'000;       // a connection with no complete request this long is closed
    std::uint32_t frameTimeoutMs = 5'000;       // a frame must arrive whole within this long of its first byte
    std::uint32_t writeTimeoutMs = 5'000;       // a client that does not read its reply this long is closed
    std::uint32_t maxWaitMs = 60'000;           // the longest an approval wait may block
};

struct Config {
    std::string bundle;                    // the bundle loaded at start, on SIGHUP and on a reload without a path
    std::vector<std::string> trustedKeys;  // public key files (PEM); a bundle must be signed by one of them
    std::string socketPath;
    std::uint32_t socketMode = 0660;
    std::optional<LogConfig> log;  // required in a file; absent only for servers built in process (benchmarks)
    std::optional<AttestConfig> attestation;  // absent: attest calls are answered with an error
    monitor::Limits limits;
    ServeLimits serve;
    std::vector<Peer> peers;

    // The first allow-list entry for these credentials; null when none.
    const Peer* match(std::uint32_t uid, std::uint32_t gid) const;
};

class ConfigReader;

// A top-level section that a program built on omegad adds to the configuration (omega-gate's `gate:`): its reader
// is called with the section's node and reports problems through the ConfigReader, like omegad's own sections.
struct ConfigExtension {
    std::string key;
    bool required = false;
    std::function<void(ConfigReader&, const yaml::Node&)> read;
};

// Reads a configuration. `name` prefixes every error ("NAME:LINE:COLUMN: message", one per line, all of them);
// relative paths in it are taken from `baseDir` (a file's own directory).
Result<Config> parseConfig(std::string_view text, const std::string& name, const std::string& baseDir,
                           std::span<const ConfigExtension> extensions = {});
// Reads the file at `path` (at most 1 MiB).
Result<Config> loadConfig(const std::string& path, std::span<const ConfigExtension> extensions = {});

}  // namespace omega::omegad
