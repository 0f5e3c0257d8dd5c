#pragma once
// The responses kbt-httpd can give, built once per core at start-up and sent
// with send_copy(): 200 for GET / and HEAD /, 404 for other paths, 405 for
// other methods, 400 for what the parser rejects, and the refusals of a
// strict server (403, 414, 431, 505); each with keep-alive and with
// "Connection: close". The Date header (RFC 9110 §6.6.1) is patched in
// place once a second, so a response never needs building per request.
#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

namespace kbt::httpd {

enum class status : std::uint8_t {
  ok,           // 200, the pattern body (GET / and HEAD /)
  not_found,    // 404, any other path
  not_allowed,  // 405, a method other than GET and HEAD
  bad_request,  // 400, the request did not parse; always closes
  forbidden,    // 403, a ".." path or a file that may not be read (--root)
  uri_too_long,      // 414, target longer than --max-uri-bytes; closes
  header_too_large,  // 431 (RFC 6585 §5), header past --max-header-bytes; closes
  version_not_supported,  // 505, a major version other than 1; closes
};
constexpr std::size_t kStatusCount = 8;

// RFC 9110 §5.6.7 IMF-fixdate: always 29 characters.
constexpr std::size_t kDateLen = 29;
constexpr const char* kDatePlaceholder = "Thu, 01 Jan 1970 00:00:00 GMT";
// Writes the date of `t` into `out` (kDateLen + 1 bytes); false on failure.
bool format_date(std::time_t t, char* out) noexcept;

// RFC 9110 §15.2.1: the interim answer to "Expect: 100-continue".
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

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

  // The body alone: what an HTTP/0.9 request gets (no status line, no
  // header), as nginx answers one.
  std::span<const std::byte> body(status s) const noexcept {
    return get(s, false, false).subspan(_body_at[index(s, false, false)]);
  }

  // Writes the date of `t` (seconds since the epoch) into every response.
  void set_date(std::time_t t) noexcept;

 private:
  static constexpr std::size_t kCount = kStatusCount * 4;  // x head x keep-alive
  static constexpr std::size_t index(status s, bool head, bool keep_alive) noexcept {
    return static_cast<std::size_t>(s) * 4 + (head ? 2U : 0U) + (keep_alive ? 1U : 0U);
  }

  std::array<std::string, kCount> _text;
  std::array<std::size_t, kCount> _date_at{};  // offset of the date value in each
  std::array<std::size_t, kCount> _body_at{};  // offset of the body in each
};

}  // namespace kbt::httpd
