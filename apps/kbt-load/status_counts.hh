#pragma once
// Responses per status code, as a server's access log counts them: the
// `statuses` object of kbt-load's --json and its text report. One counter per
// three-digit code (the parser reads exactly three digits, RFC 9112 §4), in
// a fixed array: counting is one increment, with no allocation on the path.
#include <array>
#include <cstdint>
#include <string>

namespace kbt::load {

class status_counts {
 public:
  static constexpr int kCodes = 1000;  // 000-999

  void add(int status) noexcept {
    if (status >= 0 && status < kCodes) ++_n[static_cast<std::size_t>(status)];
  }
  std::uint64_t get(int status) const noexcept {
    return status >= 0 && status < kCodes ? _n[static_cast<std::size_t>(status)] : 0;
  }
  void merge(const status_counts& o) noexcept {
    for (std::size_t i = 0; i < _n.size(); ++i) _n[i] += o._n[i];
  }
  // The codes seen, in ascending order: {"200":5,"404":2} ({} for none).
  std::string to_json() const {
    std::string out = "{";
    for_each([&](int code, std::uint64_t n) {
      if (out.size() > 1) out += ',';
      out += '"' + three_digits(code) + "\":" + std::to_string(n);
    });
    return out + "}";
  }
  // The codes seen as "200 5, 404 2" (empty for none).
  std::string to_text() const {
    std::string out;
    for_each([&](int code, std::uint64_t n) {
      if (!out.empty()) out += ", ";
      out += three_digits(code) + " " + std::to_string(n);
    });
    return out;
  }

 private:
  template <typename F>
  void for_each(F&& f) const {
    for (int code = 0; code < kCodes; ++code) {
      if (_n[static_cast<std::size_t>(code)] != 0) f(code, _n[static_cast<std::size_t>(code)]);
    }
  }
  static std::string three_digits(int code) {
    return {static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
            static_cast<char>('0' + code % 10)};
  }

  std::array<std::uint64_t, kCodes> _n{};
};

}  // namespace kbt::load
