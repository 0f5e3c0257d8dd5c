#pragma once
// Which core owns a flow: the flow -> queue map the NIC applies, reproduced
// in software. RSS hashes a received packet's tuple with the Toeplitz
// function and the port's key; the low bits of the hash index a redirection
// table (RETA) of queue numbers, and queue i is core i's.
//
// The stack needs the same answer in three places: to steer packets itself on
// a port with one queue per core but no RSS (TAP, af_packet), to hand over
// packets a port delivered to the wrong core, and to pick source ports for
// active opens so the replies come back to the core that connected
// (tcp::port_pool). Built at start-up (a port's own table: dev/rss.hh);
// then read-only and shared by all cores.
#include <cstdint>
#include <span>
#include <vector>

#include "wire/addr.hh"

namespace kbt::base {

// The 40-byte Toeplitz key made of one repeated 16-bit pattern: with it the
// hash of (src, dst, sport, dport) equals that of (dst, src, dport, sport),
// which is what keeps a connection's two directions on one core. The ports
// are programmed with it (dev/port.cc).
std::span<const std::uint8_t> symmetric_rss_key() noexcept;

class rss_table {
 public:
  static constexpr std::uint16_t kDefaultRetaSize = 128;

  // A software table: reta[i] = i % queues, hashed with `key`. For ports with
  // one queue per core but no RSS of their own: the stack steers with it.
  // Throws std::invalid_argument if queues is 0, reta_size is not a power of
  // two, or the key is not a whole number of 32-bit words of at least 16 bytes
  // (what a 12-byte IPv4 tuple needs).
  explicit rss_table(std::uint16_t queues, std::span<const std::uint8_t> key = symmetric_rss_key(),
                     std::uint16_t reta_size = kDefaultRetaSize);
  // An explicit RETA (its size a power of two, every entry < queues): what
  // dev::rss_table_of_port builds, and what tests use to model an uneven NIC table.
  rss_table(std::span<const std::uint16_t> reta, std::uint16_t queues,
            std::span<const std::uint8_t> key = symmetric_rss_key());

  // Toeplitz hash of a RECEIVED packet's tuple: source = remote, destination
  // = local, hashed in the order src ip, dst ip, src port, dst port (all in
  // host byte order). Equals rte_softrss over that rte_ipv4_tuple and the key.
  [[nodiscard]] std::uint32_t hash(wire::ipv4_addr remote_ip, wire::ipv4_addr local_ip,
                                   std::uint16_t remote_port,
                                   std::uint16_t local_port) const noexcept;
  [[nodiscard]] std::uint16_t queue_of_hash(std::uint32_t h) const noexcept {
    return _reta[h & _mask];
  }
  // The queue (core) a packet from remote to local lands on.
  [[nodiscard]] std::uint16_t owner(wire::ipv4_addr remote_ip, wire::ipv4_addr local_ip,
                                    std::uint16_t remote_port,
                                    std::uint16_t local_port) const noexcept {
    return queue_of_hash(hash(remote_ip, local_ip, remote_port, local_port));
  }

  [[nodiscard]] std::uint16_t queues() const noexcept { return _queues; }
  [[nodiscard]] std::uint16_t reta_size() const noexcept {
    return static_cast<std::uint16_t>(_reta.size());
  }
  // reta_size() - 1: the hash bits the RETA looks at.
  [[nodiscard]] std::uint32_t reta_mask() const noexcept { return _mask; }
  [[nodiscard]] std::uint16_t reta_at(std::uint16_t i) const noexcept { return _reta[i & _mask]; }
  [[nodiscard]] std::span<const std::uint8_t> key() const noexcept { return _key; }

 private:
  std::vector<std::uint8_t> _key;       // as given (NIC byte order)
  std::vector<std::uint32_t> _key_be;   // as 32-bit words, the form rte_softrss_be takes
  std::vector<std::uint16_t> _reta;
  std::uint32_t _mask = 0;
  std::uint16_t _queues = 0;
};

}  // namespace kbt::base
