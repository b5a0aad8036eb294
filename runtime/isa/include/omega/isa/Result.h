// Errors as data for the ISA library: an error names the program counter (slot index) and says what is wrong;
// Result<T> holds either a value or such an error. Nothing in this library throws.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace omega::isa {

struct Error {
    std::size_t pc = 0;   // slot index of the offending instruction (8-byte units)
    std::string message;  // lowercase, no final period, names the opcode in hex where there is one
    std::string text() const { return "pc " + std::to_string(pc) + ": " + message; }
    bool operator==(const Error&) const = default;
};

template <typename T>
class Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // Calling value() on an error, or error() on a value, is a programming error: it aborts rather than throw.
    const T& value() const& { return *check(std::get_if<T>(&state_)); }
    T& value() & { return *check(std::get_if<T>(&state_)); }
    T&& value() && { return std::move(*check(std::get_if<T>(&state_))); }
    const Error& error() const { return *check(std::get_if<Error>(&state_)); }

private:
    template <typename P>
    static P* check(P* p) {
        if (p == nullptr) std::abort();
        return p;
    }

    std::variant<T, Error> state_;
};

}  // namespace omega::isa
