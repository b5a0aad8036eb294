// The request schema table (docs/language.md section 9). Slots are assigned in table order after the header.
#include "omega/schema/Schema.h"

#include <array>

namespace omega::schema {

namespace {

using A = Action;
using T = Type;
constexpr ActionMask kData = bit(A::Read) | bit(A::Write);
constexpr ActionMask kGpu = bit(A::GpuLaunch) | bit(A::GpuAlloc);

struct Row {
    std::string_view root, field;
    Type type;
    ActionMask actions;
    bool supplied;
};

constexpr Row kRows[] = {
    // The requesting agent; its attributes come from its declaration.
    {"agent", "", T::Agent, kAnyAction, false},
    {"agent", "name", T::String, kAnyAction, false},
    {"agent", "owner", T::String, kAnyAction, false},
    {"agent", "measurement", T::Hash, kAnyAction, false},
    // Facts of the request, supplied by the enforcement point.
    {"request", "purpose", T::String, kAnyAction, true},
    {"request", "region", T::String, kAnyAction, true},
    {"request", "user", T::String, kAnyAction, true},
    {"request", "consent", T::StringSet, kAnyAction, true},
    {"request", "path", T::String, kData, true},
    {"request", "fields", T::StringSet, kData, true},
    // Session state kept by the monitor.
    {"session", "id", T::String, kAnyAction, true},
    {"session", "taint", T::LabelSet, kAnyAction, true},
    {"session", "approvals", T::StringSet, kAnyAction, true},
    // Tool calls.
    {"tool", "name", T::String, bit(A::Tool), false},
    {"tool", "provider", T::String, bit(A::Tool), false},
    {"tool", "label", T::Label, bit(A::Tool), false},
    {"tool", "sink", T::Bool, bit(A::Tool), false},
    {"tool", "privileged", T::Bool, bit(A::Tool), false},
    {"tool", "pinned", T::Bool, bit(A::Tool), false},
    {"tool", "server", T::String, bit(A::Tool), true},
    {"tool", "description_changed", T::Bool, bit(A::Tool), true},
    // Data reads and writes.
    {"data", "name", T::String, kData, false},
    {"data", "label", T::Label, kData, false},
    {"data", "region", T::String, kData, false},
    {"data", "purpose", T::StringSet, kData, false},
    {"data", "fields", T::StringSet, kData, false},
    {"data", "owner", T::String, kData, false},
    // Agent to agent messages.
    {"recipient", "", T::Agent, bit(A::Send), false},
    {"recipient", "name", T::String, bit(A::Send), false},
    {"recipient", "owner", T::String, bit(A::Send), false},
    {"recipient", "measurement", T::Hash, bit(A::Send), false},
    {"message", "label", T::Label, bit(A::Send), true},
    {"message", "size", T::Size, bit(A::Send), true},
    {"message", "kind", T::String, bit(A::Send), true},
    // GPU kernels and memory.
    {"kernel", "", T::Kernel, bit(A::GpuLaunch), true},
    {"kernel", "module", T::Hash, bit(A::GpuLaunch), true},
    {"kernel", "name", T::String, bit(A::GpuLaunch), true},
    {"kernel", "grid", T::Int, bit(A::GpuLaunch), true},
    {"kernel", "block", T::Int, bit(A::GpuLaunch), true},
    {"kernel", "shared_bytes", T::Size, bit(A::GpuLaunch), true},
    {"gpu", "device", T::Int, kGpu, true},
    {"gpu", "bytes", T::Size, bit(A::GpuAlloc), true},
    {"gpu", "bytes_total", T::Size, bit(A::GpuAlloc), true},
    // Network connections.
    {"net", "host", T::String, bit(A::NetConnect), true},
    {"net", "port", T::Int, bit(A::NetConnect), true},
    {"net", "scheme", T::String, bit(A::NetConnect), true},
};
constexpr std::size_t kRowCount = sizeof kRows / sizeof kRows[0];

// Bare roots (agent, recipient, kernel) have no slot of their own: agent and recipient are header words and a
// kernel is its module and name.
constexpr std::array<Field, kRowCount> build() {
    std::array<Field, kRowCount> out{};
    std::uint16_t next = kHeaderWords;
    for (std::size_t i = 0; i < kRowCount; ++i) {
        const Row& r = kRows[i];
        out[i] = Field{r.root, r.field, r.type, r.actions, r.supplied, r.field.empty() ? std::uint16_t{0} : next};
        if (!r.field.empty()) ++next;
    }
    return out;
}

constexpr std::array<Field, kRowCount> kFields = build();

// Presence bits live in two header words: every slot must have a bit.
static_assert(kHeaderWords + kRowCount + kMaxToolParams <= 128, "presence bitmap too small for the context");

}  // namespace

const char* actionName(Action a) {
    static constexpr const char* names[] = {"tool", "read", "write", "send", "gpu.launch", "gpu.alloc", "net.connect"};
    return names[static_cast<unsigned>(a)];
}

std::span<const Field> fields() {
    return kFields;
}

const Field* find(std::string_view root, std::string_view field) {
    // Compare the cheap parts first: this runs for every supplied field of every request the runtime interns.
    for (const Field& f : kFields)
        if (f.root.size() == root.size() && f.field.size() == field.size() && f.root == root && f.field == field)
            return &f;
    return nullptr;
}

bool isRoot(std::string_view name) {
    if (name == "args") return true;
    for (const Field& f : kFields)
        if (f.root == name) return true;
    return false;
}

namespace {
constexpr std::uint32_t computeArgsSlot() {
    std::uint32_t last = 0;
    for (const Field& f : kFields) last = f.slot > last ? f.slot : last;
    return last + 1;
}
constexpr std::uint32_t kArgsSlot = computeArgsSlot();
}  // namespace

std::uint32_t argsSlot() {
    return kArgsSlot;
}

std::uint32_t contextWords() {
    return kArgsSlot + kMaxToolParams;
}

}  // namespace omega::schema
