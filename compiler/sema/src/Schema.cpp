// The request schema table (see Schema.h and docs/language.md, "Requests").
#include "omega/sema/Schema.h"

namespace omega::sema {

using ast::Action;
using T = ast::TypeKind;

namespace {
constexpr ActionMask kData = bit(Action::Read) | bit(Action::Write);
constexpr ActionMask kGpu = bit(Action::GpuLaunch) | bit(Action::GpuAlloc);
}  // namespace

const std::vector<FieldDef>& requestSchema() {
    static const std::vector<FieldDef> schema = {
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
        {"tool", "name", T::String, bit(Action::Tool), false},
        {"tool", "provider", T::String, bit(Action::Tool), false},
        {"tool", "label", T::Label, bit(Action::Tool), false},
        {"tool", "sink", T::Bool, bit(Action::Tool), false},
        {"tool", "privileged", T::Bool, bit(Action::Tool), false},
        {"tool", "pinned", T::Bool, bit(Action::Tool), false},
        {"tool", "server", T::String, bit(Action::Tool), true},
        {"tool", "description_changed", T::Bool, bit(Action::Tool), true},
        // Data reads and writes.
        {"data", "name", T::String, kData, false},
        {"data", "label", T::Label, kData, false},
        {"data", "region", T::String, kData, false},
        {"data", "purpose", T::StringSet, kData, false},
        {"data", "fields", T::StringSet, kData, false},
        {"data", "owner", T::String, kData, false},
        // Agent to agent messages.
        {"recipient", "", T::Agent, bit(Action::Send), false},
        {"recipient", "name", T::String, bit(Action::Send), false},
        {"recipient", "owner", T::String, bit(Action::Send), false},
        {"recipient", "measurement", T::Hash, bit(Action::Send), false},
        {"message", "label", T::Label, bit(Action::Send), true},
        {"message", "size", T::Size, bit(Action::Send), true},
        {"message", "kind", T::String, bit(Action::Send), true},
        // GPU kernels and memory.
        {"kernel", "", T::Kernel, bit(Action::GpuLaunch), true},
        {"kernel", "module", T::Hash, bit(Action::GpuLaunch), true},
        {"kernel", "name", T::String, bit(Action::GpuLaunch), true},
        {"kernel", "grid", T::Int, bit(Action::GpuLaunch), true},
        {"kernel", "block", T::Int, bit(Action::GpuLaunch), true},
        {"kernel", "shared_bytes", T::Size, bit(Action::GpuLaunch), true},
        {"gpu", "device", T::Int, kGpu, true},
        {"gpu", "bytes", T::Size, bit(Action::GpuAlloc), true},
        {"gpu", "bytes_total", T::Size, bit(Action::GpuAlloc), true},
        // Network connections.
        {"net", "host", T::String, bit(Action::NetConnect), true},
        {"net", "port", T::Int, bit(Action::NetConnect), true},
        {"net", "scheme", T::String, bit(Action::NetConnect), true},
    };
    return schema;
}

const FieldDef* findField(std::string_view root, std::string_view field) {
    for (const FieldDef& f : requestSchema())
        if (f.root == root && f.field == field) return &f;
    return nullptr;
}

bool isRoot(std::string_view name) {
    if (name == "args") return true;
    for (const FieldDef& f : requestSchema())
        if (f.root == name) return true;
    return false;
}

}  // namespace omega::sema
