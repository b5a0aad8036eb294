// The request schema shared by compiler and runtime: every field a condition can read, its type, the actions that
// carry it, whether the enforcement point supplies it, and its slot in the interned request context.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace omega::schema {

// INVARIANT: the same order as ast::Action (checked by a static_assert in sema).
enum class Action : std::uint8_t { Tool, Read, Write, Send, GpuLaunch, GpuAlloc, NetConnect };
inline constexpr std::size_t kActionCount = 7;
const char* actionName(Action a);

enum class Type : std::uint8_t { Bool, Int, String, Size, Duration, Label, Hash, StringSet, LabelSet, Agent, Kernel };

using ActionMask = unsigned;
constexpr ActionMask bit(Action a) { return 1u << static_cast<unsigned>(a); }
inline constexpr ActionMask kAnyAction = (1u << kActionCount) - 1;

struct Field {
    std::string_view root;   // request, session, agent, tool, data, recipient, message, kernel, gpu, net
    std::string_view field;  // empty for the root itself (agent, recipient, kernel)
    Type type;
    ActionMask actions;  // actions whose requests carry this field
    bool supplied;       // given by the enforcement point rather than derived from declarations
    std::uint16_t slot;  // context word of its value (docs/bytecode.md 8.3); 0 for the bare roots
};

std::span<const Field> fields();
const Field* find(std::string_view root, std::string_view field);
bool isRoot(std::string_view name);  // also true for `args`

// The interned context (docs/bytecode.md 8.3): header words, then one slot per field, then the tool arguments.
inline constexpr std::uint32_t kHeaderWords = 6;  // action, target, agent, recipient, presence bitmap (2 words)
inline constexpr std::uint32_t kMaxToolParams = 16;
std::uint32_t argsSlot();      // first argument slot
std::uint32_t contextWords();  // total words

}  // namespace omega::schema
