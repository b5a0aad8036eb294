// The C ABI (omega/monitor.h) over omega::monitor::Monitor. No exception crosses it: each entry point catches
// everything, and a failure in a decision is a deny.
#include "omega/monitor.h"

#include "omega/log/Log.h"
#include "omega/monitor/Log.h"
#include "omega/monitor/Monitor.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

using namespace omega;

struct omega_monitor {
    std::unique_ptr<log::Writer> log;  // declared first: destroyed after the monitor that writes to it
    std::unique_ptr<monitor::Monitor> monitor;
    monitor::Options options;
};

struct omega_builder {
    omega_monitor* owner = nullptr;
    monitor::Builder builder;
    monitor::Decision decision;
};

namespace {

char* duplicate(const std::string& s) {
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out) std::memcpy(out, s.c_str(), s.size() + 1);
    return out;
}

void setError(char** error, const std::string& message) {
    if (error) *error = duplicate(message);
}

void fill(const monitor::Decision& d, omega_decision* out, bool withJson) {
    out->verdict = static_cast<int>(d.verdict);
    out->pending_id = d.pendingId;
    out->generation = d.generation;
    out->log_seq = d.logSeq;
    std::memcpy(out->measurement, d.measurement.bytes.data(), sizeof out->measurement);
    out->json = withJson ? duplicate(d.json()) : nullptr;
}

void denyAll(omega_decision* out, const char* why) {
    std::memset(out, 0, sizeof *out);
    out->verdict = OMEGA_DENY;
    std::string json = std::string("{\"decision\":\"deny\",\"error\":\"") + why + "\",\"rules\":[],\"obligations\":{}}";
    out->json = duplicate(json);
}

// A load through `fn`: 0, or -1 with *error.
template <typename Fn>
int loadWith(omega_monitor* m, bool argsOk, char** error, Fn fn) {
    try {
        if (!m || !argsOk) {
            setError(error, "null argument");
            return -1;
        }
        auto r = fn(*m->monitor);
        if (!r) {
            setError(error, r.error());
            return -1;
        }
        return 0;
    } catch (const std::exception& e) {
        setError(error, e.what());
        return -1;
    }
}

}  // namespace

extern "C" {

omega_monitor* omega_monitor_new(const char* const* pems, size_t n, int allowUnsigned, char** error) {
    try {
        auto m = std::make_unique<omega_monitor>();
        for (size_t i = 0; i < n; ++i) {
            if (!pems || !pems[i]) {
                setError(error, "trusted key " + std::to_string(i) + ": null");
                return nullptr;
            }
            auto key = bundle::loadPublicKey(pems[i]);
            if (!key) {
                setError(error, "trusted key " + std::to_string(i) + ": " + key.error());
                return nullptr;
            }
            m->options.trusted.push_back(*key);
        }
        m->options.allowUnsigned = allowUnsigned != 0;
        m->monitor = std::make_unique<monitor::Monitor>(m->options);
        return m.release();
    } catch (const std::exception& e) {
        setError(error, e.what());
        return nullptr;
    }
}

int omega_monitor_open_log(omega_monitor* m, const char* path, const char* keyPem, int durable, char** error) {
    try {
        if (!m || !path || !keyPem) {
            setError(error, "null argument");
            return -1;
        }
        if (m->log) {
            setError(error, "a log is already open");
            return -1;
        }
        if (m->monitor->generation() != 0) {
            setError(error, "open the log before the first load");
            return -1;
        }
        auto key = bundle::loadPrivateKey(keyPem);
        if (!key) {
            setError(error, "log key: " + key.error());
            return -1;
        }
        log::WriterOptions options;
        options.path = path;
        options.durable = durable != 0;
        options.key = *key;
        auto writer = log::Writer::open(std::move(options));
        if (!writer) {
            setError(error, "log: " + writer.error());
            return -1;
        }
        m->log = std::move(writer).value();
        m->options.log = monitor::logTo(*m->log);
        m->monitor = std::make_unique<monitor::Monitor>(m->options);
        return 0;
    } catch (const std::exception& e) {
        setError(error, e.what());
        return -1;
    }
}

void omega_monitor_free(omega_monitor* m) {
    if (!m) return;
    try {
        m->monitor.reset();
        if (m->log) (void)m->log->close();
    } catch (...) {
    }
    delete m;
}

int omega_monitor_load(omega_monitor* m, const uint8_t* bytes, size_t size, char** error) {
    return loadWith(m, bytes || !size, error, [&](monitor::Monitor& mon) { return mon.load({bytes, size}); });
}

int omega_monitor_load_file(omega_monitor* m, const char* path, char** error) {
    return loadWith(m, path != nullptr, error, [&](monitor::Monitor& mon) { return mon.loadFile(path); });
}

uint64_t omega_monitor_measurement(omega_monitor* m, uint8_t out[48]) {
    if (!m) return 0;
    try {
        const auto measurement = m->monitor->measurement();
        if (out) std::memcpy(out, measurement.bytes.data(), 48);
        return m->monitor->generation();
    } catch (...) {
        return 0;
    }
}

int omega_decide_json(omega_monitor* m, const char* json, size_t size, omega_decision* out) {
    if (!out) return OMEGA_DENY;
    try {
        if (!m || (!json && size)) {
            denyAll(out, "null argument");
            return OMEGA_DENY;
        }
        fill(m->monitor->decide(std::string_view(json ? json : "", size)), out, true);
        return out->verdict;
    } catch (...) {
        denyAll(out, "internal error");
        return OMEGA_DENY;
    }
}

void omega_decision_free(omega_decision* d) {
    if (!d) return;
    std::free(d->json);
    d->json = nullptr;
}

static int answer(omega_monitor* m, uint64_t id, const char* role, char** error, bool grant) {
    try {
        if (!m || !role) {
            setError(error, "null argument");
            return -1;
        }
        auto r = grant ? m->monitor->grant(id, role) : m->monitor->refuse(id, role);
        if (!r) {
            setError(error, r.error());
            return -1;
        }
        return static_cast<int>(*r);
    } catch (const std::exception& e) {
        setError(error, e.what());
        return -1;
    }
}

int omega_approval_grant(omega_monitor* m, uint64_t id, const char* role, char** error) {
    return answer(m, id, role, error, true);
}

int omega_approval_refuse(omega_monitor* m, uint64_t id, const char* role, char** error) {
    return answer(m, id, role, error, false);
}

int omega_approval_wait(omega_monitor* m, uint64_t id, int64_t timeoutMs) {
    if (!m) return OMEGA_APPROVAL_UNKNOWN;
    try {
        return static_cast<int>(m->monitor->wait(id, std::chrono::milliseconds(timeoutMs < 0 ? 0 : timeoutMs)));
    } catch (...) {
        return OMEGA_APPROVAL_UNKNOWN;
    }
}

omega_builder* omega_builder_new(omega_monitor* m) {
    if (!m) return nullptr;
    try {
        auto b = std::make_unique<omega_builder>();
        b->owner = m;
        if (!m->monitor->rebind(b->builder)) return nullptr;
        b->builder.describe(false);
        return b.release();
    } catch (...) {
        return nullptr;
    }
}

void omega_builder_free(omega_builder* b) {
    delete b;
}

int omega_builder_rebind(omega_builder* b) {
    if (!b) return -1;
    try {
        return b->owner->monitor->rebind(b->builder) ? 0 : -1;
    } catch (...) {
        return -1;
    }
}

uint32_t omega_builder_agent(omega_builder* b, const char* name) {
    return b && name ? b->builder.agent(name) : OMEGA_NONE;
}
uint32_t omega_builder_tool(omega_builder* b, const char* name) {
    return b && name ? b->builder.tool(name) : OMEGA_NONE;
}
uint32_t omega_builder_data(omega_builder* b, const char* name) {
    return b && name ? b->builder.data(name) : OMEGA_NONE;
}
uint32_t omega_builder_field(omega_builder* b, const char* path) {
    return b && path ? b->builder.field(path) : OMEGA_NONE;
}
uint32_t omega_builder_param(omega_builder* b, uint32_t tool, const char* name) {
    return b && name ? b->builder.param(tool, name) : OMEGA_NONE;
}

int omega_builder_reset(omega_builder* b, int action, uint32_t target, uint32_t agent, uint32_t recipient) {
    if (!b) return -1;
    try {
        if (action < 0 || action >= static_cast<int>(schema::kActionCount)) action = 0xFF;  // reset() refuses it
        return b->builder.reset(static_cast<schema::Action>(action), target, agent, recipient) ? 0 : -1;
    } catch (...) {
        return -1;
    }
}

// Setters record their first error in the builder (a deny when decided); allocation failures likewise.
#define OMEGA_TRY(expr)          \
    do {                         \
        if (!b) return;          \
        try {                    \
            expr;                \
        } catch (...) {          \
            b->builder.poison(); \
        }                        \
    } while (0)

void omega_builder_set_int(omega_builder* b, uint32_t slot, int64_t value) {
    OMEGA_TRY(b->builder.setInt(slot, value));
}
void omega_builder_set_string(omega_builder* b, uint32_t slot, const char* text, size_t size) {
    OMEGA_TRY(if (!text && size) b->builder.poison();
              else b->builder.setString(slot, std::string_view(text ? text : "", size)));
}
void omega_builder_set_label(omega_builder* b, uint32_t slot, const char* name) {
    OMEGA_TRY(if (!name) b->builder.poison(); else b->builder.setLabel(slot, name));
}
void omega_builder_set_session(omega_builder* b, const char* id) {
    OMEGA_TRY(if (!id) b->builder.poison(); else b->builder.setSession(id));
}
void omega_builder_set_user(omega_builder* b, const char* user) {
    OMEGA_TRY(if (!user) b->builder.poison(); else b->builder.setUser(user));
}

#undef OMEGA_TRY

int omega_decide_builder(omega_monitor* m, omega_builder* b, omega_decision* out) {
    if (!out) return OMEGA_DENY;
    try {
        if (!m || !b || b->owner != m) {
            denyAll(out, "builder: null, or made by another monitor");
            omega_decision_free(out);
            return OMEGA_DENY;
        }
        m->monitor->decide(b->builder, b->decision);
        fill(b->decision, out, false);
        return out->verdict;
    } catch (...) {
        std::memset(out, 0, sizeof *out);
        out->verdict = OMEGA_DENY;
        return OMEGA_DENY;
    }
}

void omega_free(void* p) {
    std::free(p);
}

}  // extern "C"
