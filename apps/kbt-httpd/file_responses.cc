#include "file_responses.hh"

#include <cstring>

#include "responses.hh"

namespace kbt::httpd {

file_responses::file_responses(const static_files& files) : _files(&files) {
  const auto all = files.files();
  _text.resize(all.size() * 4);
  _date_at.resize(all.size() * 4);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const static_file& f = all[i];
    for (const bool not_modified : {false, true}) {
      for (const bool keep : {false, true}) {
        std::string r = not_modified ? "HTTP/1.1 304 Not Modified" : "HTTP/1.1 200 OK";
        r += "\r\nServer: kbt-httpd\r\nDate: ";
        const std::size_t date_at = r.size();
        r += kDatePlaceholder;
        r += "\r\n";
        // RFC 9110 §15.4.5: a 304 carries the validators, no content headers.
        if (!not_modified) {
          r += "Content-Type: ";
          r += f.content_type;
          r += "\r\nContent-Length: " + std::to_string(f.body.size()) + "\r\n";
        }
        r += "Last-Modified: " + f.last_modified + "\r\nETag: " + f.etag + "\r\n";
        r += keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        _date_at[index(i, not_modified, keep)] = date_at;
        _text[index(i, not_modified, keep)] = std::move(r);
      }
    }
  }
  set_date(std::time(nullptr));
}

void file_responses::set_date(std::time_t t) noexcept {
  char date[kDateLen + 1];
  if (!format_date(t, date)) return;
  for (std::size_t i = 0; i < _text.size(); ++i) {
    std::memcpy(_text[i].data() + _date_at[i], date, kDateLen);
  }
}

}  // namespace kbt::httpd
