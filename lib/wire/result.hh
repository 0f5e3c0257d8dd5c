#pragma once
// A value or an error, for the hot path: no exceptions, no allocation.
// C++20 has no std::expected, so this is the small subset we use, spelled
// the same way (`unexpected{e}`, `has_value()`, `error()`) so that moving to
// std::expected in C++23 is a search-and-replace.
//
// Both alternatives must be trivially copyable and destructible: results
// carry parse outputs (plain value structs, spans) and error enums, and this
// keeps `result` itself trivially copyable and free to return in registers.
#include <cassert>
#include <type_traits>
#include <utility>

namespace kbt::wire {

template <class E>
struct unexpected {
  E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class result {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  static_assert(std::is_trivially_copyable_v<E> && std::is_trivially_destructible_v<E>);

 public:
  using value_type = T;
  using error_type = E;

  constexpr result(const T& value) noexcept : _value(value), _ok(true) {}      // NOLINT: implicit
  constexpr result(unexpected<E> e) noexcept : _error(e.error), _ok(false) {}  // NOLINT

  constexpr bool has_value() const noexcept { return _ok; }
  constexpr explicit operator bool() const noexcept { return _ok; }

  constexpr const T& value() const& noexcept {
    assert(_ok);
    return _value;
  }
  constexpr T& value() & noexcept {
    assert(_ok);
    return _value;
  }
  constexpr T value() && noexcept {  // a temporary's value, by copy: no dangling
    assert(_ok);
    return _value;
  }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T* operator->() const noexcept { return &value(); }
  constexpr T* operator->() noexcept { return &value(); }

  constexpr E error() const noexcept {
    assert(!_ok);
    return _error;
  }
  constexpr T value_or(const T& fallback) const noexcept { return _ok ? _value : fallback; }

 private:
  union {
    T _value;
    E _error;
  };
  bool _ok;
};

// For operations that either succeed with nothing to return or fail.
template <class E>
class result<void, E> {
  static_assert(std::is_trivially_copyable_v<E> && std::is_trivially_destructible_v<E>);

 public:
  using value_type = void;
  using error_type = E;

  constexpr result() noexcept : _error{}, _ok(true) {}
  constexpr result(unexpected<E> e) noexcept : _error(e.error), _ok(false) {}  // NOLINT

  constexpr bool has_value() const noexcept { return _ok; }
  constexpr explicit operator bool() const noexcept { return _ok; }
  constexpr E error() const noexcept {
    assert(!_ok);
    return _error;
  }

 private:
  E _error;
  bool _ok;
};

}  // namespace kbt::wire
