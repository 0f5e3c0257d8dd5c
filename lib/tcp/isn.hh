#pragma once
// Initial sequence numbers (RFC 6528) and the keyed 4-tuple hash they use.
//
// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a timer ticking every 4 microseconds and F a
// keyed pseudorandom function. F here is SipHash-2-4 (libsodium's
// crypto_shorthash_siphash24): a PRF with a 128-bit key, fast on 16-byte
// inputs, and the hash FreeBSD and Linux use for the same job. An off-path
// attacker who cannot learn the key cannot predict another connection's
// ISN (RFC 6528 §1), while one 4-tuple still sees ISNs that advance with
// time, which keeps old duplicates of an earlier incarnation out of the
// new sequence space (RFC 9293 §3.4.1).
//
// The same keyed hash (hash_tuple) serves SYN cookies (RFC 4987), each
// user with its own key, so a leak of one value tells nothing about the
// other.
//
// M is taken from the caller's time, which tcp_layer counts from boot
// (CLOCK_MONOTONIC, tcp_layer::set_clock_origin), and the stack's key lasts
// one boot (core/boot_key.hh): a 4-tuple's ISNs go on growing from one
// process to the next, so a peer still in TIME_WAIT for the last process's
// connection takes the next one's SYN (RFC 6191 §2) instead of answering
// it with an ACK that costs a SYN timeout.
#include <array>
#include <cstdint>

#include "tcp/tuple.hh"
#include "wire/addr.hh"
#include "wire/seq32.hh"

namespace kbt::tcp {

// A 128-bit SipHash key (crypto_shorthash_siphash24_KEYBYTES).
using siphash_key = std::array<std::uint8_t, 16>;

// 16 bytes from getrandom(2). Start-up only: throws std::runtime_error
// (with the errno text) if the kernel cannot supply them.
[[nodiscard]] siphash_key random_siphash_key();

// SipHash-2-4 under `key` of the 16 bytes
//   local_ip (4) | remote_ip (4) | local_port (2) | remote_port (2) | extra (4)
// each in network byte order, so the value does not depend on the host's
// byte order. `extra` lets a user mix in more context (e.g. a SYN cookie's
// time counter); the ISN uses 0.
[[nodiscard]] std::uint64_t hash_tuple(const siphash_key& key, wire::ipv4_addr local_ip,
                                       std::uint16_t local_port, wire::ipv4_addr remote_ip,
                                       std::uint16_t remote_port, std::uint32_t extra = 0) noexcept;

class isn_generator {
 public:
  // RFC 6528 §3: M is "a timer that is incremented every 4 microseconds".
  static constexpr std::uint64_t kTickNs = 4'000;

  // From a known key: tests, or a key shared on purpose.
  explicit isn_generator(const siphash_key& key) noexcept : _key(key) {}
  // From random_siphash_key(); throws std::runtime_error (start-up only).
  [[nodiscard]] static isn_generator from_random();

  // RFC 6528 §3: ISN = M + F(...), modulo 2^32; F is the low 32 bits of
  // hash_tuple() with this generator's key.
  [[nodiscard]] wire::seq32 generate(wire::ipv4_addr local_ip, std::uint16_t local_port,
                                     wire::ipv4_addr remote_ip, std::uint16_t remote_port,
                                     std::uint64_t now_ns) const noexcept {
    const auto m = static_cast<std::uint32_t>(now_ns / kTickNs);
    const auto f = static_cast<std::uint32_t>(
        hash_tuple(local_ip, local_port, remote_ip, remote_port));
    return wire::seq32{m + f};  // unsigned: wraps modulo 2^32
  }

  // The ISN of a connection on `t` (local side first), at `boot_ns` on
  // the clock M counts from (boot: tcp_layer::set_clock_origin).
  [[nodiscard]] wire::seq32 generate(const four_tuple& t, std::uint64_t boot_ns) const noexcept {
    return generate(t.local_ip, t.local_port, t.remote_ip, t.remote_port, boot_ns);
  }
  // RFC 7323 §5.4: a per-connection random offset keeps TSval from
  // leaking the clock; this hash already is such a secret value. A
  // function of the tuple alone, so that a cookie's connection finds the
  // offset its SYN-ACK used.
  [[nodiscard]] std::uint32_t ts_offset(const four_tuple& t) const noexcept {
    return static_cast<std::uint32_t>(
        hash_tuple(t.local_ip, t.local_port, t.remote_ip, t.remote_port, 1));
  }

  // hash_tuple() under this generator's key.
  [[nodiscard]] std::uint64_t hash_tuple(wire::ipv4_addr local_ip, std::uint16_t local_port,
                                         wire::ipv4_addr remote_ip, std::uint16_t remote_port,
                                         std::uint32_t extra = 0) const noexcept {
    return tcp::hash_tuple(_key, local_ip, local_port, remote_ip, remote_port, extra);
  }

 private:
  siphash_key _key;
};

}  // namespace kbt::tcp
