// The verifier (docs/bytecode.md 8.6 and 9): one pass over a program in pc order that proves it safe to run and
// bounds its cost, or names the first pc it cannot accept. Only a Verified program can be run.
#pragma once

#include "omega/isa/Isa.h"
#include "omega/isa/Result.h"

#include <cstdint>
#include <memory>
#include <span>

namespace omega::vm {

template <typename T>
using Result = isa::Result<T>;
using Error = isa::Error;

// What the bundle states about itself; the verifier holds the program to it.
struct Limits {
    std::uint32_t contextWords = 0;  // the context has this many 64-bit words
    std::uint32_t rules = 0;         // rule indices (match, rate_count) are below this
    std::uint32_t matchers = 0;      // matcher ids (glob, prefix) are below this
    std::uint64_t maxCost = 0;       // the worst-case cost of a run may not exceed this
};

// Worst case of one run, over every path through the program (a DAG: jumps are forward).
struct CostBound {
    std::uint64_t instructions = 0;  // instructions executed on the longest path (a wide load counts once)
    std::uint64_t cost = 0;          // instructions plus helper costs on the costliest path: the fuel a run needs
    bool operator==(const CostBound&) const = default;
};

namespace detail {
struct Compiled;  // the pre-decoded form the interpreter runs (private)
}

class Verified {
public:
    std::span<const isa::Insn> code() const;
    const CostBound& bound() const;
    std::uint32_t contextWords() const;  // run() needs a context of at least this many words

private:
    explicit Verified(std::shared_ptr<const detail::Compiled> compiled) : compiled_(std::move(compiled)) {}
    friend Result<Verified> verify(std::span<const isa::Insn> code, const Limits& limits);
    friend const detail::Compiled& compiled(const Verified& verified);

    std::shared_ptr<const detail::Compiled> compiled_;  // never null; shared, so a Verified is cheap to copy
};

// Programs longer than this many slots are rejected before any other check.
inline constexpr std::size_t kMaxSlots = std::size_t{1} << 24;

// The first problem, as "pc N: MNEMONIC: reason" (Error::text()); rejections of a single slot keep unmarshal's
// messages (docs/bytecode.md 4).
Result<Verified> verify(std::span<const isa::Insn> code, const Limits& limits);

}  // namespace omega::vm
