#pragma once
// What the stack sends, caught where a segment_queue flushes (its flush
// hook) and read back as the receiving kernel would: every packet parsed,
// its IPv4 and TCP checksums checked, a wrong one reported to the failure
// hook (a test failure in gtest, an abort in a fuzz run). The one capture
// of the tcp rig (tcp_rig.hh) and of the tests that drive a part of lib/tcp
// by itself (a connection, TIME_WAIT).
#include <rte_mbuf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tcp/segment_queue.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::support {

// A segment the stack sent, parsed.
struct captured_segment {
  wire::ipv4_repr ip;
  wire::tcp_repr h;
  std::vector<std::uint8_t> payload;
  wire::ipv4_addr next_hop;  // out_packet::dst
  bool ip_checksum_ok = false;
  bool tcp_checksum_ok = false;
  bool has(std::uint8_t f) const { return h.has(f); }
};

// The three fields most checks of a sent segment need.
struct segment_header {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
};

// Told of what a receiving kernel would reject; `what` says which rule broke.
using rig_failure_fn = void (*)(void* ctx, const char* what);

enum class capture_mode : std::uint8_t {
  parse,    // keep, parse and check everything (tests, fuzz targets)
  discard,  // free at once and count: the cheap sink a benchmark loop needs
};

class segment_capture {
 public:
  // `on_failure` nullptr: print `what` and abort.
  explicit segment_capture(rig_failure_fn on_failure = nullptr, void* fail_ctx = nullptr);
  ~segment_capture();
  segment_capture(const segment_capture&) = delete;
  segment_capture& operator=(const segment_capture&) = delete;

  // The flush hook to give a segment_queue (or a tcp_layer), with `this`
  // as its context: takes the packets (and their mbufs).
  static std::size_t take(void* ctx, std::span<const tcp::out_packet> pkts) noexcept;

  // Everything taken since the last call, parsed and checked; the mbufs are
  // freed. The owner flushes its queue first.
  std::vector<captured_segment> segments();
  // The same, reduced to their flags, SEQ and ACK.
  std::vector<segment_header> headers();
  void set_mode(capture_mode m) noexcept { _mode = m; }
  std::uint64_t discarded() const noexcept { return _discarded; }

  // A rule broke: the failure hook hears of it.
  void fail(const char* what) const { _fail(_fail_ctx, what); }

 private:
  std::optional<captured_segment> parse(const tcp::out_packet& p) const;

  rig_failure_fn _fail;
  void* _fail_ctx;
  capture_mode _mode = capture_mode::parse;
  std::uint64_t _discarded = 0;
  std::vector<tcp::out_packet> _taken;
};

}  // namespace kbt::support
