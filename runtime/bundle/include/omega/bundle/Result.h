// Result<T>: a value or an error message; every fallible omega::bundle function returns one instead of throwing.
// A small stand-in for std::expected, which C++20 lacks.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace omega::bundle {

// Error messages are lowercase, without a final period; decoding errors start with "offset N: <check>".
struct Error {
    std::string message;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // Reading the value of an error (or the error of a value) is a bug in the caller: it stops the program
    // rather than reading the wrong alternative.
    T& value() & { return *check(std::get_if<0>(&state_)); }
    const T& value() const& { return *check(std::get_if<0>(&state_)); }
    T&& value() && { return std::move(*check(std::get_if<0>(&state_))); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const std::string& error() const { return check(std::get_if<1>(&state_))->message; }

private:
    template <typename P>
    static P* check(P* p) {
        if (p == nullptr) std::abort();
        return p;
    }

    std::variant<T, Error> state_;
};

}  // namespace omega::bundle
