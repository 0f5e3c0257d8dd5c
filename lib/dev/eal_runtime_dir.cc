#include "dev/eal_runtime_dir.hh"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace kbt::dev {
namespace {

// A fixed buffer: the handler runs while the program exits, when a
// std::string's destructor may already have run.
char g_rmdir_at_exit[4096];

void rmdir_named_at_exit() { if (g_rmdir_at_exit[0] != '\0') ::rmdir(g_rmdir_at_exit); }

}  // namespace

bool is_eal_runtime_file(const std::string& name) noexcept {
  const std::string_view n = name;
  return n == "config" || n == "hugepage_info" || n.starts_with("fbarray_");
}

int remove_eal_runtime_dir(const std::string& dir) noexcept {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    // symlink_status: a link named like an EAL file is removed, never followed.
    if (fs::is_directory(it->symlink_status(ec))) continue;
    if (is_eal_runtime_file(it->path().filename().string()) && fs::remove(it->path(), ec)) {
      ++removed;
    }
  }
  // remove() of a directory fails unless it is empty: what else is there stays.
  if (fs::remove(dir, ec)) ++removed;
  return removed;
}

}  // namespace kbt::dev

namespace kbt::dev {

void arm_rmdir_at_exit() noexcept {
  static const bool armed = std::atexit(rmdir_named_at_exit) == 0;
  (void)armed;
}

void rmdir_at_exit(const std::string& dir) noexcept {
  if (dir.size() >= sizeof g_rmdir_at_exit) return;  // kept rather than cut short
  std::memcpy(g_rmdir_at_exit, dir.c_str(), dir.size() + 1);
}

}  // namespace kbt::dev
