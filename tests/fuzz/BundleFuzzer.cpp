// libFuzzer target for the bundle loader, the runtime's untrusted-input path: any bytes go through decode and,
// when they decode, measure and verify against fixed public keys, without crashing or tripping a sanitizer.
// Whatever decodes must be canonical: re-encoding its sections reproduces its layout and measurement.
#include "omega/bundle/Bundle.h"
#include "omega/bundle/Keys.h"
#include "omega/bundle/Signing.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

using namespace omega::bundle;

// Public halves only; the private keys existed just long enough to sign a seed corpus and were discarded.
constexpr std::string_view kEd25519Pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA3T7nMF+NbCOZKfDWlVMvCUYuoaLQ4QpaqyAJwiNkvJU=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kP384Pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEyD4b1L4UhIWtVQOhgPobKMr3z5Kk8Gmu\n"
    "wYLtQqZtY4Ei3YKajixZlYQEOASc5H3n7FQZZUnt/K2hLvkrIcm5vP3CR6pLHyPp\n"
    "Iv6TENZP0BZRFGfhcpD6l+dy0TxPwoKr\n"
    "-----END PUBLIC KEY-----\n";

// Loaded once per process: a harness, not library code, and key parsing would otherwise dominate each run.
const std::vector<PublicKey>& trustedKeys() {
    static const std::vector<PublicKey> keys = [] {
        auto ed = loadPublicKey(kEd25519Pem);
        auto ec = loadPublicKey(kP384Pem);
        if (!ed || !ec) std::abort();
        return std::vector<PublicKey>{*ed, *ec};
    }();
    return keys;
}

bool startsWith(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Limits limits;
    limits.maxTotalSize = 1 << 20;
    auto bundle = decode(std::span<const std::uint8_t>(data, size), limits);
    if (!bundle) {
        if (!startsWith(bundle.error(), "offset ")) std::abort();  // every rejection names its offset
        return 0;
    }

    // Canonical: the same sections encode to the same signed layout and measurement.
    const Measurement measurement = measure(*bundle);
    auto reencoded = encode(bundle->sections());
    if (!reencoded) std::abort();
    auto again = decode(*reencoded, limits);
    if (!again || again->signedLength() != bundle->signedLength() || measure(*again) != measurement) std::abort();

    auto verified = verify(*bundle, trustedKeys());
    if (!verified) {
        const std::string& e = verified.error();
        if (!startsWith(e, "no signatures") && !startsWith(e, "no trusted key") && !startsWith(e, "bad signature")) {
            std::abort();
        }
    }
    return 0;
}
