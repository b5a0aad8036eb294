// Configuration from the environment and a `key = value` file (Config.h).
#include "Config.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace omega::cudagate {

namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool parseBool(std::string_view v, bool& out) {
    if (v == "1" || v == "true" || v == "yes" || v == "on") return out = true, true;
    if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return out = false, true;
    return false;
}

struct Key {
    const char* file;  // the key in a config file
    const char* env;   // the environment variable
};
constexpr Key kKeys[] = {
    {"agent", "OMEGA_CUDA_AGENT"},
    {"bundle", "OMEGA_CUDA_BUNDLE"},
    {"trust", "OMEGA_CUDA_TRUST"},
    {"allow_unsigned", "OMEGA_CUDA_ALLOW_UNSIGNED"},
    {"log", "OMEGA_CUDA_LOG"},
    {"log_key", "OMEGA_CUDA_LOG_KEY"},
    {"reload_ms", "OMEGA_CUDA_RELOAD_MS"},
    {"driver", "OMEGA_CUDA_DRIVER"},
    {"stats", "OMEGA_CUDA_STATS"},
};

// Sets the setting `key` (a file key) from `value`; false with `error` for a bad value or an unknown key.
bool apply(std::string_view key, std::string_view value, Config& out, std::string& error) {
    if (key == "agent") {
        out.agent = value;
    } else if (key == "bundle") {
        out.bundle = value;
    } else if (key == "trust") {
        out.trust.clear();
        while (!value.empty()) {
            const auto colon = value.find(':');
            const std::string_view item = trim(value.substr(0, colon));
            if (!item.empty()) out.trust.emplace_back(item);
            value = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
        }
    } else if (key == "allow_unsigned" || key == "stats") {
        if (!parseBool(value, key == "stats" ? out.stats : out.allowUnsigned)) {
            error = std::string(key) + ": expected 0 or 1, found `" + std::string(value) + "`";
            return false;
        }
    } else if (key == "log") {
        out.log = value;
    } else if (key == "log_key") {
        out.logKey = value;
    } else if (key == "reload_ms") {
        std::int64_t ms = -1;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (ec != std::errc() || end != value.data() + value.size() || ms < 0 || ms > 86'400'000) {
            error = "reload_ms: expected milliseconds from 0 to 86400000, found `" + std::string(value) + "`";
            return false;
        }
        out.reloadMs = ms;
    } else if (key == "driver") {
        out.driver = value;
    } else {
        error = "unknown key `" + std::string(key) + "`";
        return false;
    }
    return true;
}

}  // namespace

bool parseConfigText(std::string_view text, Config& out, std::string& error) {
    std::size_t lineNo = 0;
    while (!text.empty()) {
        ++lineNo;
        const auto nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            error = "line " + std::to_string(lineNo) + ": expected `key = value`";
            return false;
        }
        if (!apply(trim(line.substr(0, eq)), trim(line.substr(eq + 1)), out, error)) {
            error = "line " + std::to_string(lineNo) + ": " + error;
            return false;
        }
    }
    return true;
}

bool loadConfig(const Env& env, Config& out, std::string& error) {
    out = Config{};
    if (const char* path = env("OMEGA_CUDA_CONFIG"); path && *path) {
        std::ifstream in(path);
        std::stringstream text;
        if (!in || !(text << in.rdbuf())) {
            error = std::string("OMEGA_CUDA_CONFIG: cannot read ") + path;
            return false;
        }
        if (!parseConfigText(text.str(), out, error)) {
            error = std::string(path) + ": " + error;
            return false;
        }
    }
    for (const Key& k : kKeys) {
        const char* value = env(k.env);
        if (value == nullptr) continue;
        if (!apply(k.file, trim(value), out, error)) {
            error = std::string(k.env) + ": " + error;
            return false;
        }
    }
    if (out.agent.empty()) {
        error = "no agent configured (set OMEGA_CUDA_AGENT, or `agent` in OMEGA_CUDA_CONFIG)";
        return false;
    }
    return true;
}

}  // namespace omega::cudagate
