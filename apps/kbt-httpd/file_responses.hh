#pragma once
// One core's response headers for the files of --root (static_files.hh):
// for each file a 200 and a 304 (RFC 9110 §15.4.5), each with keep-alive
// and with "Connection: close", built at start-up. The body is sent from
// the shared file after the header; the Date is patched in place once a
// second, as response_table does.
#include <cstddef>
#include <ctime>
#include <span>
#include <string>
#include <vector>

#include "static_files.hh"

namespace kbt::httpd {

class file_responses {
 public:
  explicit file_responses(const static_files& files);

  const static_files& files() const noexcept { return *_files; }
  std::span<const std::byte> head(const static_file& f, bool not_modified,
                                  bool keep_alive) const noexcept {
    const std::string& r = _text[index(_files->index_of(f), not_modified, keep_alive)];
    return std::as_bytes(std::span<const char>(r.data(), r.size()));
  }
  void set_date(std::time_t t) noexcept;

 private:
  static std::size_t index(std::size_t file, bool not_modified, bool keep_alive) noexcept {
    return file * 4 + (not_modified ? 2U : 0U) + (keep_alive ? 1U : 0U);
  }

  const static_files* _files;
  std::vector<std::string> _text;
  std::vector<std::size_t> _date_at;
};

}  // namespace kbt::httpd
