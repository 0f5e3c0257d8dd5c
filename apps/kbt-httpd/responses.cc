#include "responses.hh"

#include <cstring>

namespace kbt::httpd {

namespace {

// RFC 9110 §5.6.7 IMF-fixdate: always 29 characters.
constexpr std::size_t kDateLen = 29;
constexpr const char* kDatePlaceholder = "Thu, 01 Jan 1970 00:00:00 GMT";

struct status_text {
  const char* line;   // status line without CRLF
  const char* extra;  // further header lines, each ending in CRLF
};

status_text text_of(status s) {
  switch (s) {
    case status::ok:
      return {"HTTP/1.1 200 OK", ""};
    case status::not_found:
      return {"HTTP/1.1 404 Not Found", ""};
    case status::not_allowed:
      return {"HTTP/1.1 405 Method Not Allowed", "Allow: GET, HEAD\r\n"};
    case status::bad_request:
      return {"HTTP/1.1 400 Bad Request", ""};
  }
  return {"HTTP/1.1 500 Internal Server Error", ""};
}

std::string body_of(status s, std::size_t body_size) {
  switch (s) {
    case status::ok:
      return pattern_body(body_size);
    case status::not_found:
      return "not found\n";
    case status::not_allowed:
      return "method not allowed\n";
    case status::bad_request:
      return "bad request\n";
  }
  return {};
}

}  // namespace

std::string pattern_body(std::size_t n) {
  std::string b(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = i % 64 == 63 ? '\n' : static_cast<char>('a' + i % 26);
  }
  return b;
}

response_table::response_table(std::size_t body_size) {
  for (std::size_t si = 0; si < 4; ++si) {
    const auto s = static_cast<status>(si);
    const status_text t = text_of(s);
    const std::string body = body_of(s, body_size);
    for (const bool head : {false, true}) {
      for (const bool keep : {false, true}) {
        std::string r = t.line;
        r += "\r\nServer: kbt-httpd\r\nDate: ";
        const std::size_t date_at = r.size();
        r += kDatePlaceholder;
        r += "\r\nContent-Type: text/plain\r\nContent-Length: ";
        r += std::to_string(body.size());
        r += "\r\n";
        r += t.extra;
        r += keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        if (!head) r += body;
        _date_at[index(s, head, keep)] = date_at;
        _text[index(s, head, keep)] = std::move(r);
      }
    }
  }
  set_date(std::time(nullptr));
}

void response_table::set_date(std::time_t t) noexcept {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return;
  char date[kDateLen + 1];
  if (std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) != kDateLen) return;
  for (std::size_t i = 0; i < kCount; ++i) {
    std::memcpy(_text[i].data() + _date_at[i], date, kDateLen);
  }
}

}  // namespace kbt::httpd
