#include "responses.hh"

#include <cstring>

namespace kbt::httpd {

namespace {

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
    case status::forbidden:
      return {"HTTP/1.1 403 Forbidden", ""};
    case status::uri_too_long:
      return {"HTTP/1.1 414 URI Too Long", ""};
    case status::header_too_large:
      return {"HTTP/1.1 431 Request Header Fields Too Large", ""};
    case status::version_not_supported:
      return {"HTTP/1.1 505 HTTP Version Not Supported", ""};
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
    case status::forbidden:
      return "forbidden\n";
    case status::uri_too_long:
      return "uri too long\n";
    case status::header_too_large:
      return "request header fields too large\n";
    case status::version_not_supported:
      return "http version not supported\n";
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
  for (std::size_t si = 0; si < kStatusCount; ++si) {
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
        _body_at[index(s, head, keep)] = r.size();
        if (!head) r += body;
        _date_at[index(s, head, keep)] = date_at;
        _text[index(s, head, keep)] = std::move(r);
      }
    }
  }
  set_date(std::time(nullptr));
}

bool format_date(std::time_t t, char* out) noexcept {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return false;
  return std::strftime(out, kDateLen + 1, "%a, %d %b %Y %H:%M:%S GMT", &tm) == kDateLen;
}

void response_table::set_date(std::time_t t) noexcept {
  char date[kDateLen + 1];
  if (!format_date(t, date)) return;
  for (std::size_t i = 0; i < kCount; ++i) {
    std::memcpy(_text[i].data() + _date_at[i], date, kDateLen);
  }
}

}  // namespace kbt::httpd
