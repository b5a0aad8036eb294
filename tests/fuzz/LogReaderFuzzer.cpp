// libFuzzer target for the decision log's reading side (omegac audit's untrusted input): any bytes, as one log
// file, go through the scanner, the record decoders and the verifier without crashing or tripping a sanitizer, and
// the report keeps its promises (problems within the file, the listed ones capped, a verified log has a consistent
// head). The seeds (tests/fuzz/seeds/log) are real logs signed by the key below, so signatures get checked too.
#include "omega/log/Log.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace omega;

// The public half of tests/lit/bundle/Inputs/test-ed25519.pem, which signed the seeds.
constexpr std::string_view kKeyPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA9SU2ctreEOmphvvDBgshTzzXP7Xc8Xns/8OrSMZAYXg=\n"
    "-----END PUBLIC KEY-----\n";

// Loaded once per process: a harness, not library code.
const bundle::PublicKey& key() {
    static const bundle::PublicKey k = [] {
        auto loaded = bundle::loadPublicKey(kKeyPem);
        if (!loaded) std::abort();
        return *loaded;
    }();
    return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    log::VerifyOptions options;
    options.maxProblems = 8;
    // The first byte picks the expectations, so that their paths run too.
    if (size > 0) {
        options.expectClosed = (data[0] & 1) != 0;
        options.allowPruned = (data[0] & 2) != 0;
        if ((data[0] & 4) != 0) options.expectHead = log::Head{static_cast<std::uint64_t>(data[0] >> 3) + 1, {}};
    }
    auto report = log::verifyBytes(std::span<const std::uint8_t>(data, size), "fuzz.log", key(), options);
    if (!report) std::abort();  // only I/O and key errors are errors, and there are none here
    const log::VerifyReport& r = *report;
    if (r.problems.size() > options.maxProblems || r.problems.size() > r.problemCount) std::abort();
    for (const auto& p : r.problems)
        if (p.offset > size || p.what.empty()) std::abort();
    if (r.tornTail && (r.tornTail->offset + r.tornTail->length != size || r.tornTail->length == 0)) std::abort();
    if (r.ok() && r.records > 0 && (r.head.seq < r.firstSeq || r.lastCheckpointSeq > r.head.seq)) std::abort();
    if (r.closed && r.unsignedRecords != 0) std::abort();

    // The head parser takes text from the command line.
    (void)log::parseHead(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
