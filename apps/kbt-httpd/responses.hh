#pragma once
// The responses kbt-httpd can give, built once per core at start-up and sent
// with send_copy(): 200 for GET / and HEAD /, 404 for other paths, 405 for
// other methods, 400 for what the parser rejects; each with keep-alive and
// with "Connection: close". The Date header (RFC 9110 §6.6.1) is patched in
// place once a second, so a response never needs building per request.
#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>

namespace kbt::httpd {

enum class status : std::uint8_t {
  ok,           // 200, the pattern body (GET / and HEAD /)
  not_found,    // 404, any other path
  not_allowed,  // 405, a method other than GET and HEAD
  bad_request,  // 400, the request did not parse; always closes
};

// The body of GET /: `n` bytes of letters 'a'..'z' in turn, with a newline
// in place of every 64th byte, so that a shifted or torn body shows.
std::string pattern_body(std::size_t n);

class response_table {
 public:
  explicit response_table(std::size_t body_size);

  // The bytes to send; `head` leaves the body out (same headers).
  std::span<const std::byte> get(status s, bool head, bool keep_alive) const noexcept {
    const std::string& r = _text[index(s, head, keep_alive)];
    return std::as_bytes(std::span<const char>(r.data(), r.size()));
  }

  // Writes the date of `t` (seconds since the epoch) into every response.
  void set_date(std::time_t t) noexcept;

 private:
  static constexpr std::size_t kCount = 16;  // 4 statuses x head x keep-alive
  static constexpr std::size_t index(status s, bool head, bool keep_alive) noexcept {
    return static_cast<std::size_t>(s) * 4 + (head ? 2U : 0U) + (keep_alive ? 1U : 0U);
  }

  std::array<std::string, kCount> _text;
  std::array<std::size_t, kCount> _date_at{};  // offset of the date value in each
};

}  // namespace kbt::httpd
