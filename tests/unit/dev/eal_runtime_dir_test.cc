// The stack removes what the EAL leaves in its runtime directory at exit.
#include "dev/eal_runtime_dir.hh"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kbt::dev {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

TEST(EalRuntimeDir, NamesTheFilesAPrimaryLeaves) {
  for (const char* n : {"config", "hugepage_info", "fbarray_memzone", "fbarray_memseg-2048k-0-0",
                        "fbarray_nohugemem"}) {
    EXPECT_TRUE(is_eal_runtime_file(n)) << n;
  }
  for (const char* n : {"dpdk_telemetry.v2", "mp_socket", "mp_socket_123_abc", "configs", "notes",
                        "fbarray", ""}) {
    EXPECT_FALSE(is_eal_runtime_file(n)) << n;
  }
}

TEST(EalRuntimeDir, RemovesTheEalFilesAndTheDirectory) {
  const fs::path dir = fresh_dir("kbt-runtime-dir");
  touch(dir / "config");
  touch(dir / "fbarray_memzone");
  touch(dir / "fbarray_nohugemem");
  EXPECT_EQ(remove_eal_runtime_dir(dir.string()), 4);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(EalRuntimeDir, KeepsWhatIsNotTheEalsAndSoTheDirectory) {
  const fs::path dir = fresh_dir("kbt-runtime-dir-shared");
  touch(dir / "config");
  touch(dir / "dpdk_telemetry.v2");  // another process's socket, as a file here
  fs::create_directory(dir / "fbarray_dir");
  EXPECT_EQ(remove_eal_runtime_dir(dir.string()), 1);
  EXPECT_FALSE(fs::exists(dir / "config"));
  EXPECT_TRUE(fs::exists(dir / "dpdk_telemetry.v2"));
  EXPECT_TRUE(fs::exists(dir / "fbarray_dir"));
  fs::remove_all(dir);
}

TEST(EalRuntimeDir, AMissingDirectoryIsNothingToDo) {
  const fs::path dir = fresh_dir("kbt-runtime-dir-gone");
  fs::remove(dir);
  EXPECT_EQ(remove_eal_runtime_dir(dir.string()), 0);
}

}  // namespace
}  // namespace kbt::dev
