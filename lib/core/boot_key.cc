#include "core/boot_key.hh"

#include <fcntl.h>
#include <sodium/core.h>
#include <sodium/randombytes.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kbt::core {
namespace {

std::string sys_error(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03o", mode & 0777U);
  return buf;
}

// A key only we can read and only we could have written: owned by us, no
// access for group or others (what create() makes).
std::string check_private(const struct stat& st, const std::string& path, bool dir) {
  if (st.st_uid != geteuid()) return path + " belongs to another user";
  const unsigned forbidden = dir ? 022U : 077U;
  if ((st.st_mode & forbidden) != 0) {
    return path + " has mode " + octal(st.st_mode) + (dir ? ", want no write access for others"
                                                          : ", want 600");
  }
  return {};
}

std::string read_key(int fd, const std::string& path, tcp::siphash_key& key) {
  struct stat st{};
  if (fstat(fd, &st) != 0) return sys_error("cannot stat", path);
  if (!S_ISREG(st.st_mode) || st.st_size != static_cast<off_t>(key.size())) {
    return path + " is not a regular file of " + std::to_string(key.size()) + " bytes";
  }
  if (std::string e = check_private(st, path, false); !e.empty()) return e;
  std::size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = pread(fd, key.data() + got, key.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("cannot read", path);
    if (n == 0) return path + " is shorter than the key";
    got += static_cast<std::size_t>(n);
  }
  return {};
}

// The directory that holds the key: made 0700 when missing.
std::string ensure_dir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("cannot create", dir);
  struct stat st{};
  if (lstat(dir.c_str(), &st) != 0) return sys_error("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  return check_private(st, dir, true);
}

// A new key, written whole to a temporary file (mkstemp makes it 0600)
// before link(2) puts it at `path`: a reader never sees half a key, and of
// two processes creating it at once the second's link fails with EEXIST
// (`lost_race`), and it reads the first's.
std::string create(const std::string& dir, const std::string& path, tcp::siphash_key& key,
                   bool& lost_race) {
  std::string tmp = dir + "/.isn.key.XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return sys_error("cannot create a file in", dir);
  randombytes_buf(key.data(), key.size());
  std::size_t put = 0;
  std::string error;
  while (put < key.size() && error.empty()) {
    const ssize_t n = write(fd, key.data() + put, key.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) error = sys_error("cannot write", tmp);
    if (n > 0) put += static_cast<std::size_t>(n);
  }
  if (close(fd) != 0 && error.empty()) error = sys_error("cannot write", tmp);
  if (error.empty() && link(tmp.c_str(), path.c_str()) != 0) {
    lost_race = errno == EEXIST;
    error = sys_error("cannot create", path);
  }
  unlink(tmp.c_str());
  return error;
}

std::string load_or_create(const std::string& path, tcp::siphash_key& key) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  // Bounded: open, else create; a lost race means the file is there now.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      std::string error = read_key(fd, path, key);
      close(fd);
      return error;
    }
    if (errno != ENOENT) return sys_error("cannot open", path);
    if (attempt > 0) break;
    if (std::string e = ensure_dir(dir); !e.empty()) return e;
    bool lost_race = false;
    std::string error = create(dir, path, key, lost_race);
    if (!lost_race) return error;
  }
  return path + " vanished while it was being created";
}

}  // namespace

boot_key load_or_create_boot_key(const std::string& path) {
  boot_key out;
  // Idempotent and thread-safe; libsodium asks for it before randombytes.
  if (sodium_init() < 0) {
    out.key = tcp::random_siphash_key();  // getrandom(2); throws only at start-up
    out.error = "libsodium failed to initialise";
    return out;
  }
  out.error = load_or_create(path, out.key);
  if (!out.error.empty()) randombytes_buf(out.key.data(), out.key.size());
  return out;
}

}  // namespace kbt::core
