// The typed reader behind omegad's configuration (Config.cpp), shared with programs that extend the configuration
// with sections of their own (omega-gate's `gate:`): every key known, every value typed and in range, every problem
// reported as "NAME:LINE:COLUMN: message", all of them.
#pragma once

#include "omega/omegad/Yaml.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace omega::omegad {

class ConfigReader {
public:
    using Node = yaml::Node;
    ConfigReader(std::string name, std::string baseDir) : name_(std::move(name)), baseDir_(std::move(baseDir)) {}

    void error(const yaml::Mark& mark, const std::string& message) {
        errors_ += name_ + ":" + yaml::where(mark) + ": " + message + "\n";
    }
    bool failed() const { return !errors_.empty(); }
    std::string errors() const { return errors_.substr(0, errors_.empty() ? 0 : errors_.size() - 1); }

    // Calls `handlers[key]` for each member of a mapping; unknown keys and missing required ones are errors.
    using Handler = std::function<void(const Node&)>;
    void members(const Node& map, const std::string& what, const std::map<std::string, Handler>& handlers,
                 const std::vector<const char*>& required) {
        if (!map.isMapping()) {
            error(map.mark, what + " must be a mapping");
            return;
        }
        for (const auto& [key, value] : map.members) {
            auto h = handlers.find(key.text);
            if (h == handlers.end()) {
                std::string known;
                for (const auto& [k, unused] : handlers) known += (known.empty() ? "`" : ", `") + k + "`";
                error(key.mark, "unknown key `" + key.text + "` in " + what + " (known: " + known + ")");
                continue;
            }
            h->second(value);
        }
        for (const char* r : required)
            if (!map.find(r)) error(map.mark, what + " needs `" + r + "`");
    }

    std::optional<std::string> string(const Node& n, const std::string& key) {
        if (!n.isScalar()) {
            error(n.mark, "`" + key + "` must be a string");
            return std::nullopt;
        }
        if (n.text.empty()) {
            error(n.mark, "`" + key + "` must not be empty");
            return std::nullopt;
        }
        if (n.text.find('\0') != std::string::npos) {
            error(n.mark, "`" + key + "` must not contain NUL");
            return std::nullopt;
        }
        return n.text;
    }
    std::optional<std::string> path(const Node& n, const std::string& key) {
        auto s = string(n, key);
        if (!s) return s;
        if ((*s)[0] != '/' && !baseDir_.empty()) return baseDir_ + (baseDir_.back() == '/' ? "" : "/") + *s;
        return s;
    }
    template <typename T>
    void integer(const Node& n, const std::string& key, T& out, std::int64_t lo, std::int64_t hi) {
        auto v = yaml::integerOf(n);
        if (!v) {
            error(n.mark, "`" + key + "` must be an integer" + (n.quoted ? " (not a quoted string)" : ""));
            return;
        }
        if (*v < lo || *v > hi) {
            error(n.mark, "`" + key + "` must be from " + std::to_string(lo) + " to " + std::to_string(hi));
            return;
        }
        out = static_cast<T>(*v);
    }
    void boolean(const Node& n, const std::string& key, bool& out) {
        auto v = yaml::booleanOf(n);
        if (!v) {
            error(n.mark, "`" + key + "` must be `true` or `false`");
            return;
        }
        out = *v;
    }
    std::vector<const Node*> list(const Node& n, const std::string& key) {
        std::vector<const Node*> out;
        if (n.isScalar()) {
            error(n.mark, "`" + key + "` must be a sequence (`[a, b]` or `- a` lines)");
            return out;
        }
        if (!n.isSequence()) {
            error(n.mark, "`" + key + "` must be a sequence");
            return out;
        }
        for (const Node& item : n.items) out.push_back(&item);
        return out;
    }

private:
    std::string name_, baseDir_;
    std::string errors_;
};

}  // namespace omega::omegad
