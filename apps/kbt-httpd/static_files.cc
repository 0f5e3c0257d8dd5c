#include "static_files.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "base/startup_error.hh"
#include "request_target.hh"

namespace kbt::httpd {

namespace {

namespace fs = std::filesystem;

// Bytes a file costs beyond its body: its entry and each core's headers.
constexpr std::size_t kPerFileOverhead = 1024;

std::string imf_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

bool read_whole(const fs::path& p, std::size_t size, std::string& out) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, out.data() + got, size - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return got == size;
}

}  // namespace

const char* content_type_of(std::string_view path) noexcept {
  struct entry {
    std::string_view ext;
    const char* type;
  };
  // The common types of nginx's mime.types.
  static constexpr entry kTypes[] = {
      {".html", "text/html"},        {".htm", "text/html"},
      {".css", "text/css"},          {".js", "application/javascript"},
      {".json", "application/json"}, {".txt", "text/plain"},
      {".xml", "text/xml"},          {".png", "image/png"},
      {".jpg", "image/jpeg"},        {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},         {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},      {".webp", "image/webp"},
      {".pdf", "application/pdf"},   {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},      {".mp4", "video/mp4"},
  };
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  const std::string_view ext = path.substr(dot);
  for (const entry& e : kTypes) {
    if (ext.size() == e.ext.size() &&
        std::equal(ext.begin(), ext.end(), e.ext.begin(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
        })) {
      return e.type;
    }
  }
  return "application/octet-stream";
}

static_files::static_files(const std::string& root, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw base::startup_error("--root " + root + ": not a readable directory");
  }
  std::size_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) throw base::startup_error("--root " + root + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw base::startup_error("--root " + root + ": " + ec.message());
    const fs::path& p = it->path();
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) continue;  // a dangling link: 404, as absent
    if (S_ISDIR(st.st_mode)) continue;
    static_file f;
    f.path = "/";
    f.path += fs::relative(p, root).generic_string();
    // Room for "index.html" after a directory's name (http_session).
    if (f.path.size() + 10 > request_target::kMaxPath) {
      throw base::startup_error("--root " + root + ": the path " + f.path + " is longer than " +
                               std::to_string(request_target::kMaxPath - 10) + " bytes");
    }
    f.content_type = content_type_of(f.path);
    // The size bound holds before a byte is read.
    if (S_ISREG(st.st_mode) && total + static_cast<std::size_t>(st.st_size) > max_bytes) {
      throw base::startup_error("--root " + root + ": more than " + std::to_string(max_bytes) +
                               " bytes (files and their headers); raise --max-root-bytes or " +
                               "serve a smaller tree");
    }
    if (!S_ISREG(st.st_mode) || !read_whole(p, static_cast<std::size_t>(st.st_size), f.body)) {
      f.forbidden = true;
      f.body.clear();
    } else {
      char tag[48];
      std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_mtime),
                    static_cast<unsigned long long>(f.body.size()));
      f.etag = tag;
      f.last_modified = imf_date(st.st_mtime);
    }
    total += f.body.size() + kPerFileOverhead;
    if (total > max_bytes) {
      throw base::startup_error("--root " + root + ": more than " + std::to_string(max_bytes) +
                               " bytes (files and their headers); raise --max-root-bytes or " +
                               "serve a smaller tree");
    }
    _files.push_back(std::move(f));
  }
  std::sort(_files.begin(), _files.end(),
            [](const static_file& a, const static_file& b) { return a.path < b.path; });
}

const static_file* static_files::find(std::string_view path) const noexcept {
  const auto it = std::lower_bound(
      _files.begin(), _files.end(), path,
      [](const static_file& f, std::string_view p) { return std::string_view(f.path) < p; });
  return it != _files.end() && it->path == path ? &*it : nullptr;
}

}  // namespace kbt::httpd
