#include "tcp/isn.hh"

#include <sodium/crypto_shorthash_siphash24.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace kbt::tcp {

static_assert(sizeof(siphash_key) == crypto_shorthash_siphash24_KEYBYTES);

namespace {

void put_be32(unsigned char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

void put_be16(unsigned char* p, std::uint16_t v) noexcept {
  p[0] = static_cast<unsigned char>(v >> 8);
  p[1] = static_cast<unsigned char>(v);
}

}  // namespace

siphash_key random_siphash_key() {
  siphash_key key{};
  std::size_t got = 0;
  while (got < key.size()) {
    // Flags 0: block until the kernel's pool is initialised (only an issue
    // very early in boot), never fall back to a weaker source.
    const ssize_t n = getrandom(key.data() + got, key.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom(2) failed for the TCP hash key: ") +
                               std::strerror(errno) +
                               " (kbt needs Linux >= 3.17 with getrandom available)");
    }
    got += static_cast<std::size_t>(n);
  }
  return key;
}

std::uint64_t hash_tuple(const siphash_key& key, wire::ipv4_addr local_ip,
                         std::uint16_t local_port, wire::ipv4_addr remote_ip,
                         std::uint16_t remote_port, std::uint32_t extra) noexcept {
  unsigned char in[16];
  put_be32(in, local_ip.value);
  put_be32(in + 4, remote_ip.value);
  put_be16(in + 8, local_port);
  put_be16(in + 10, remote_port);
  put_be32(in + 12, extra);
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  // Cannot fail: libsodium's SipHash returns 0 unconditionally.
  crypto_shorthash_siphash24(out, in, sizeof(in), key.data());
  // SipHash's output is defined as a little-endian 64-bit word.
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < sizeof(out); ++i) h |= std::uint64_t{out[i]} << (8 * i);
  return h;
}

isn_generator isn_generator::from_random() { return isn_generator(random_siphash_key()); }

}  // namespace kbt::tcp
