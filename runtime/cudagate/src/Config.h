// The gate's configuration (docs/gpu.md, "Configuration"): OMEGA_CUDA_* environment variables, or the same settings
// as `key = value` lines in the file OMEGA_CUDA_CONFIG names; the environment wins over the file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace omega::cudagate {

struct Config {
    std::string agent;               // agent / OMEGA_CUDA_AGENT: required
    std::string bundle;              // bundle / OMEGA_CUDA_BUNDLE: the signed bundle's path
    std::vector<std::string> trust;  // trust / OMEGA_CUDA_TRUST: public key PEM files, ':'-separated
    bool allowUnsigned = false;      // allow_unsigned / OMEGA_CUDA_ALLOW_UNSIGNED (tests only)
    std::string log;                 // log / OMEGA_CUDA_LOG: decision log path (optional)
    std::string logKey;              // log_key / OMEGA_CUDA_LOG_KEY: its Ed25519 private key PEM file
    std::int64_t reloadMs = 1000;    // reload_ms / OMEGA_CUDA_RELOAD_MS: bundle poll period, 0 = never
    std::string driver;              // driver / OMEGA_CUDA_DRIVER: the real driver ("" = libcuda.so.1)
    bool stats = false;              // stats / OMEGA_CUDA_STATS: counters on stderr at exit
};

// Reads a variable of the environment (getenv, or a map in tests); null when unset.
using Env = std::function<const char*(const char*)>;

// Applies the `key = value` lines of `text` (blank lines and lines starting with '#' are skipped) to `out`. False
// with `error` ("line N: ...") for an unknown key, a line without '=' or a bad value.
bool parseConfigText(std::string_view text, Config& out, std::string& error);

// The file named by OMEGA_CUDA_CONFIG (when set), then the environment. False with `error` when the file cannot be
// read, a value is bad, or no agent is configured.
bool loadConfig(const Env& env, Config& out, std::string& error);

}  // namespace omega::cudagate
