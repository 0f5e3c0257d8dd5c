#include "tcp/isn.hh"

#include <sodium/crypto_shorthash_siphash24.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "wire/endian.hh"

namespace kbt::tcp {

static_assert(sizeof(siphash_key) == crypto_shorthash_siphash24_KEYBYTES);


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
  std::byte in[16];
  wire::store_be<std::uint32_t>(in, local_ip.value);
  wire::store_be<std::uint32_t>(in + 4, remote_ip.value);
  wire::store_be<std::uint16_t>(in + 8, local_port);
  wire::store_be<std::uint16_t>(in + 10, remote_port);
  wire::store_be<std::uint32_t>(in + 12, extra);
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  // Cannot fail: libsodium's SipHash returns 0 unconditionally.
  crypto_shorthash_siphash24(out, reinterpret_cast<const unsigned char*>(in), sizeof(in), key.data());
  // SipHash's output is defined as a little-endian 64-bit word.
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < sizeof(out); ++i) h |= std::uint64_t{out[i]} << (8 * i);
  return h;
}

isn_generator isn_generator::from_random() { return isn_generator(random_siphash_key()); }

}  // namespace kbt::tcp
