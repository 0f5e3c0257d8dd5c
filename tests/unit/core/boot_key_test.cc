// The ISN key that lasts one boot (core/boot_key.hh): created private and
// atomically, read back by the next process, and a random key of this
// process only (with the reason) when the file cannot be used.
#include "core/boot_key.hh"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace kbt::core {
namespace {

class BootKey : public testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "kbt-boot-key-XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    _tmp = t;
  }
  void TearDown() override { std::filesystem::remove_all(_tmp); }

  static unsigned mode_of(const std::string& path) {
    struct stat st{};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777U;
  }
  static tcp::siphash_key file_bytes(const std::string& path) {
    tcp::siphash_key k{};
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(k.data()), static_cast<std::streamsize>(k.size()));
    EXPECT_EQ(in.gcount(), static_cast<std::streamsize>(k.size()));
    return k;
  }
  void write_file(const std::string& path, std::size_t bytes, unsigned mode) const {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    ASSERT_GE(fd, 0);
    const std::string data(bytes, 'k');
    ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(fchmod(fd, mode), 0);  // past the umask
    close(fd);
  }

  std::string _tmp;
};

TEST_F(BootKey, CreatesThePrivateDirectoryAndA0600File) {
  const std::string dir = _tmp + "/kbt";
  const boot_key k = load_or_create_boot_key(dir + "/isn.key");
  ASSERT_EQ(k.error, "");
  EXPECT_EQ(mode_of(dir), 0700U);
  EXPECT_EQ(mode_of(dir + "/isn.key"), 0600U);
  EXPECT_EQ(file_bytes(dir + "/isn.key"), k.key) << "the key used is the one on disk";
  EXPECT_NE(k.key, tcp::siphash_key{});
  // Created by link(2) from a temporary file, which is gone.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1U);
}

TEST_F(BootKey, TheNextProcessReadsTheSameKey) {
  const std::string path = _tmp + "/kbt/isn.key";
  const boot_key first = load_or_create_boot_key(path);
  const boot_key second = load_or_create_boot_key(path);
  ASSERT_EQ(first.error, "");
  ASSERT_EQ(second.error, "");
  EXPECT_EQ(first.key, second.key);
}

TEST_F(BootKey, AnExistingDirectoryIsUsed) {
  const boot_key k = load_or_create_boot_key(_tmp + "/isn.key");
  EXPECT_EQ(k.error, "");
  EXPECT_EQ(file_bytes(_tmp + "/isn.key"), k.key);
}

TEST_F(BootKey, NoDirectoryToCreateFallsBackToARandomKeyAndSaysWhy) {
  const std::string path = _tmp + "/no/such/dir/isn.key";
  const boot_key a = load_or_create_boot_key(path);
  const boot_key b = load_or_create_boot_key(path);
  EXPECT_NE(a.error.find(_tmp + "/no/such/dir"), std::string::npos) << a.error;
  EXPECT_NE(a.key, tcp::siphash_key{});
  EXPECT_NE(a.key, b.key) << "each process draws its own";
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(BootKey, AFileOthersCanReadIsNotUsed) {
  const std::string path = _tmp + "/isn.key";
  write_file(path, 16, 0644);
  const boot_key k = load_or_create_boot_key(path);
  EXPECT_NE(k.error.find("mode 644"), std::string::npos) << k.error;
  EXPECT_NE(k.key, file_bytes(path));
}

TEST_F(BootKey, AFileOfTheWrongSizeIsNotUsed) {
  const std::string path = _tmp + "/isn.key";
  write_file(path, 15, 0600);
  const boot_key k = load_or_create_boot_key(path);
  EXPECT_NE(k.error.find("16 bytes"), std::string::npos) << k.error;
}

TEST_F(BootKey, ADirectoryOthersCanWriteIsNotUsed) {
  const std::string dir = _tmp + "/open";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  const boot_key k = load_or_create_boot_key(dir + "/isn.key");
  EXPECT_NE(k.error.find("mode 777"), std::string::npos) << k.error;
  EXPECT_FALSE(std::filesystem::exists(dir + "/isn.key"));
}

}  // namespace
}  // namespace kbt::core
