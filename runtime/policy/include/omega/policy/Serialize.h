// The policy image as bundle sections: a canonical encoder, a strict decoder for untrusted bytes, and validate(),
// which checks every cross-reference and invariant of an Image. docs/bundle.md section 8 is the normative layout.
#pragma once

#include "omega/bundle/Bundle.h"
#include "omega/bundle/Result.h"
#include "omega/policy/Image.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace omega::policy {

// The first field of METADATA. An image in any other version is rejected. Version 2: a tool record holds its pin
// and its possible callers instead of a `pinned` bool.
inline constexpr std::uint32_t kImageFormatVersion = 2;

// Hard caps on what an image may hold (docs/bundle.md 8.9). The decoder checks a count against its cap, and against
// the bytes left in its section, before it allocates anything for it; validate() checks them all again.
inline constexpr std::uint32_t kMaxStrings = 1u << 20;
inline constexpr std::uint32_t kMaxStringBytes = 1u << 16;  // one string
inline constexpr std::uint32_t kMaxCompilerVersionBytes = 256;
inline constexpr std::uint32_t kMaxSets = 1u << 20;
inline constexpr std::uint32_t kMaxSetElements = 1u << 20;  // all constant sets together
inline constexpr std::uint32_t kMaxMatchers = 1u << 16;
inline constexpr std::uint32_t kMaxMatcherPatterns = 1u << 20;  // all matchers together
inline constexpr std::uint32_t kMaxLabels = 4096;
inline constexpr std::uint32_t kMaxAttributes = 2048;
inline constexpr std::uint32_t kMaxAgents = 1u << 16;
inline constexpr std::uint32_t kMaxTools = 1u << 16;
inline constexpr std::uint32_t kMaxData = 1u << 16;
inline constexpr std::uint32_t kMaxDynamicSets = 4096;
inline constexpr std::uint32_t kMaxDynamicSetElements = 1u << 16;  // all dynamic sets together
inline constexpr std::uint32_t kMaxRules = 1u << 20;
inline constexpr std::uint32_t kMaxObligations = 1u << 20;  // redact and approve entries of all rules together
inline constexpr std::uint32_t kMaxConsents = 1u << 16;
inline constexpr std::uint32_t kMaxConsentIds = 1u << 20;  // ids of all consents together
inline constexpr std::uint32_t kMaxModules = 4096;
inline constexpr std::uint32_t kMaxCodeSlots = 1u << 24;  // the verifier's limit
// Layout::words(): the verifier encodes context offsets (8 * word) in the 16-bit offset field of ldxdw.
inline constexpr std::uint32_t kMaxContextWords = 4095;

// STRINGS, SETS, MATCHERS, LATTICE, CODE and METADATA, in that (type) order. The same image always gives the same
// bytes. Any image encodes, valid or not; only a valid one decodes (validate() it first to know).
std::vector<bundle::Section> toSections(const Image& image);

// Strict decoding of the six sections, then validate(). The result is a valid image or an error naming the
// section, the byte offset in it where there is one, the table and index, and the problem. SOURCES_MERKLE must be
// absent (format version 2 does not use it).
bundle::Result<Image> fromSections(const bundle::Bundle& bundle);
// The same from content sections as toSections() returns them, in any order; a type may appear only once.
bundle::Result<Image> fromSections(std::span<const bundle::Section> sections);

// The first violated invariant of docs/bundle.md 8.8, or nothing when the image is valid. The compiler calls it on
// what it produced; fromSections() on what it decoded.
std::optional<bundle::Error> validate(const Image& image);

}  // namespace omega::policy
