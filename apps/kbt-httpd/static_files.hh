#pragma once
// The files of --root, read into memory once at start-up and shared
// read-only by every core: a request never touches the file system. The
// tree is bounded (--max-root-bytes); past it start-up fails with a message
// that names the flag. Entries that are not regular files (FIFOs, sockets,
// devices) or cannot be read are kept as forbidden: a request for one gets
// 403, as nginx answers for a file it may not open.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kbt::httpd {

struct static_file {
  std::string path;           // from the root, with a leading '/': "/css/a.css"
  std::string body;           // the whole file
  std::string etag;           // RFC 9110 §8.8.3, strong: "<mtime hex>-<size hex>" as nginx
  std::string last_modified;  // RFC 9110 §8.8.2, IMF-fixdate
  const char* content_type = "application/octet-stream";
  bool forbidden = false;     // not a regular readable file: 403
};

class static_files {
 public:
  // Reads the tree under `root`; throws base::startup_error when it is not a
  // readable directory or holds more than `max_bytes` (bodies and headers).
  static_files(const std::string& root, std::size_t max_bytes);

  // The file at exactly `path` (decoded, leading '/'), or nullptr.
  const static_file* find(std::string_view path) const noexcept;
  std::span<const static_file> files() const noexcept { return _files; }
  std::size_t index_of(const static_file& f) const noexcept {
    return static_cast<std::size_t>(&f - _files.data());
  }

 private:
  std::vector<static_file> _files;  // sorted by path
};

// RFC 9110 §8.3: the media type of a file, by its extension.
const char* content_type_of(std::string_view path) noexcept;

}  // namespace kbt::httpd
