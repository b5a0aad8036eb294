// libFuzzer target for the trusted execution core: any bytes go through decode and verify. A rejection must name a
// pc inside the program; a verified program must run to its exit within its cost bound, agree exactly with the
// reference model (which must see no safety violation), and trip no sanitizer.
#include "omega/isa/Isa.h"
#include "omega/vm/Interpreter.h"

#include "VmReference.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace omega;

// The fixed world the fuzzer runs programs in; the seeds in tests/fuzz/seeds/vm verify against these limits.
vm::Limits limits() {
    vm::Limits l;
    l.contextWords = 16;
    l.rules = 8;
    l.matchers = 4;
    l.maxCost = 1 << 20;
    return l;
}

constexpr std::array<std::uint64_t, 16> kContext = {
    1, 3, 2, 0, 0b111, 0, 2, 1, 0, 2, 1, 0x8000000000000001, 7, ~std::uint64_t{0}, 42, 0x7fffffffffffffff};

// Small results that depend on the arguments, so branches on them go both ways.
std::uint64_t stubResult(std::uint32_t id, const std::uint64_t* args) {
    std::uint64_t h = id * 0x9e3779b97f4a7c15u;
    for (std::uint8_t i = 0; i < vm::findHelper(id)->args; ++i) h = (h ^ args[i]) * 0xff51afd7ed558ccdu;
    return (h >> 33) % 4;
}

struct Log {
    std::vector<std::uint64_t> calls;  // id and result of each call, in order
};

template <std::uint32_t Id>
std::uint64_t stub(void* self, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e) {
    const std::uint64_t args[5] = {a, b, c, d, e};
    const std::uint64_t result = stubResult(Id, args);
    static_cast<Log*>(self)->calls.insert(static_cast<Log*>(self)->calls.end(), {Id, result});
    return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Whole slots only: a trailing partial slot is decode's error, tested elsewhere.
    auto slots = isa::decode(std::span<const std::uint8_t>(data, size - size % isa::kSlotSize));
    if (!slots) std::abort();
    const vm::Limits world = limits();
    auto verified = vm::verify(slots.value(), world);
    if (!verified) {
        const isa::Error& error = verified.error();
        if (error.text().rfind("pc ", 0) != 0) std::abort();
        if (!slots.value().empty() && error.pc >= slots.value().size()) std::abort();
        return 0;
    }

    const vm::CostBound bound = verified.value().bound();
    Log log;
    vm::Env env;
    env.self = &log;
    env.helpers = {nullptr, &stub<1>, &stub<2>, &stub<3>, &stub<4>, &stub<5>, &stub<6>, &stub<7>, &stub<8>};
    const vm::Outcome out = vm::run(verified.value(), kContext, env, bound.cost);
    if (!out.ok || out.steps > bound.instructions || out.cost > bound.cost) std::abort();

    Log refLog;
    const vmtest::RefHelper helper = [&](std::uint32_t id, const std::array<std::uint64_t, 5>& args) {
        const std::uint64_t result = stubResult(id, args.data());
        refLog.calls.insert(refLog.calls.end(), {id, result});
        return result;
    };
    const vmtest::RefOutcome ref = vmtest::referenceRun(slots.value(), world, kContext, helper, bound.cost);
    if (!ref.violation.empty() || !ref.ok) std::abort();
    if (ref.r0 != out.r0 || ref.steps != out.steps || ref.cost != out.cost || refLog.calls != log.calls) std::abort();
    return 0;
}
