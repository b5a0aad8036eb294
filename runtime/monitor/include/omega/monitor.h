/* The reference monitor's C ABI, for embedding from any language (docs/monitor.md, "C ABI"). A thin layer over
 * omega::monitor::Monitor: the same checks, the same fail-closed answers. Every function is safe to call from many
 * threads on one monitor, except that a builder belongs to one thread at a time. Strings returned through `char**`
 * and decision JSON are allocated by the library and released with omega_free / omega_decision_free. */
#ifndef OMEGA_MONITOR_H
#define OMEGA_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omega_monitor omega_monitor;
typedef struct omega_builder omega_builder;

enum omega_verdict { OMEGA_DENY = 0, OMEGA_ALLOW = 1, OMEGA_PENDING = 2 };

enum omega_approval {
    OMEGA_APPROVAL_UNKNOWN = 0,
    OMEGA_APPROVAL_PENDING = 1,
    OMEGA_APPROVAL_APPROVED = 2,
    OMEGA_APPROVAL_REFUSED = 3,
    OMEGA_APPROVAL_EXPIRED = 4
};

/* The order of the policy language's actions (docs/language.md). */
enum omega_action {
    OMEGA_ACTION_TOOL = 0,
    OMEGA_ACTION_READ = 1,
    OMEGA_ACTION_WRITE = 2,
    OMEGA_ACTION_SEND = 3,
    OMEGA_ACTION_GPU_LAUNCH = 4,
    OMEGA_ACTION_GPU_ALLOC = 5,
    OMEGA_ACTION_NET_CONNECT = 6
};

#define OMEGA_NONE 0xFFFFFFFFu /* an id the policy does not have */

typedef struct omega_decision {
    int verdict;             /* enum omega_verdict */
    uint64_t pending_id;     /* OMEGA_PENDING: the approval to grant, refuse or wait for */
    uint64_t generation;     /* how many bundles had been loaded when it decided */
    uint64_t log_seq;        /* its record in the decision log; 0 without a log */
    uint8_t measurement[48]; /* SHA-384 measurement of the bundle that decided */
    char* json;              /* the decision as one line of JSON (NUL-terminated), or NULL on the builder path */
} omega_decision;

/* A monitor that accepts bundles signed by one of `n` PEM public keys. With n == 0 it accepts nothing unless
 * `allow_unsigned` is non-zero. NULL on error, with *error set (if error is not NULL). */
omega_monitor* omega_monitor_new(const char* const* trusted_public_key_pems, size_t n, int allow_unsigned,
                                 char** error);
/* Appends every decision, approval answer and reload to a tamper-evident log at `path` (created or resumed),
 * with checkpoints signed by `key_pem` (Ed25519, PKCS#8 PEM). With `durable` non-zero a decision returns only once
 * its record is on disk. Call before the first load. 0 on success, -1 with *error. */
int omega_monitor_open_log(omega_monitor* m, const char* path, const char* key_pem, int durable, char** error);
/* Closes the log (a final signed checkpoint) and the monitor. */
void omega_monitor_free(omega_monitor* m);

/* Loads a bundle, or replaces the loaded one atomically. 0 on success; -1 when refused (the old bundle stays). */
int omega_monitor_load(omega_monitor* m, const uint8_t* bytes, size_t size, char** error);
int omega_monitor_load_file(omega_monitor* m, const char* path, char** error);
/* The loaded bundle's measurement (zeros when none); returns the generation (0 when none). */
uint64_t omega_monitor_measurement(omega_monitor* m, uint8_t out[48]);

/* Decides a request given as JSON (docs/requests.md). Returns the verdict; out->json holds the decision. */
int omega_decide_json(omega_monitor* m, const char* json, size_t size, omega_decision* out);
void omega_decision_free(omega_decision* d);

/* Approvals: the state after the answer (enum omega_approval), or -1 with *error (unknown id, already answered,
 * a role that was not asked). wait returns the state when answered or expired, or PENDING at the timeout. */
int omega_approval_grant(omega_monitor* m, uint64_t id, const char* role, char** error);
int omega_approval_refuse(omega_monitor* m, uint64_t id, const char* role, char** error);
int omega_approval_wait(omega_monitor* m, uint64_t id, int64_t timeout_ms);

/* The typed builder: ids resolved once, then requests without JSON. After a reload omega_decide_builder denies
 * with a "stale builder" error: call omega_builder_rebind and resolve the ids again. */
omega_builder* omega_builder_new(omega_monitor* m); /* NULL when no bundle is loaded */
void omega_builder_free(omega_builder* b);
int omega_builder_rebind(omega_builder* b); /* 0, or -1 when no bundle is loaded */
uint32_t omega_builder_agent(omega_builder* b, const char* name);
uint32_t omega_builder_tool(omega_builder* b, const char* name);
uint32_t omega_builder_data(omega_builder* b, const char* name);
uint32_t omega_builder_field(omega_builder* b, const char* path); /* a supplied field, e.g. "request.purpose" */
uint32_t omega_builder_param(omega_builder* b, uint32_t tool, const char* name);
/* Starts a request: 0, or -1 for an unknown action, target or agent (then deciding it denies). Targets and
 * recipients that the action does not have are ignored (pass OMEGA_NONE). */
int omega_builder_reset(omega_builder* b, int action, uint32_t target, uint32_t agent, uint32_t recipient);
void omega_builder_set_int(omega_builder* b, uint32_t slot, int64_t value);
void omega_builder_set_string(omega_builder* b, uint32_t slot, const char* text, size_t size);
void omega_builder_set_label(omega_builder* b, uint32_t slot, const char* name);
void omega_builder_set_session(omega_builder* b, const char* id);
void omega_builder_set_user(omega_builder* b, const char* user);
/* Decides the built request; out->json is NULL. A request is decided once; reset before the next. */
int omega_decide_builder(omega_monitor* m, omega_builder* b, omega_decision* out);

void omega_free(void* p);

#ifdef __cplusplus
}
#endif

#endif /* OMEGA_MONITOR_H */
