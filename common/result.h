#pragma once

#include <string>
#include <utility>
#include <variant>

namespace epc::common {

// An error value: what went wrong, in words a user of the API can act on.
struct Error {
  std::string message;
};

// Result<T> holds either a value or an Error. The core and every boundary return these instead of
// throwing (house rule 5). GCC 12 ships no std::expected in C++20 mode, hence this small type.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<0>(state_); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace epc::common
