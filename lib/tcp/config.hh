#pragma once
// Tunables of one core's TCP. Defaults follow the RFCs, and Linux where the
// RFCs leave a choice; each says where it comes from.
#include <chrono>
#include <cstdint>

#include "base/clock.hh"

namespace kbt::tcp {

inline constexpr std::uint64_t kMs = 1'000'000;  // ns
inline constexpr std::uint64_t kSec = 1'000'000'000;

// RFC 4987 §3.6 SYN cookies: never; when a listener's SYN queue (or the TCB
// pool) is full (Linux tcp_syncookies=1); or for every SYN (=2).
enum class syncookies_mode : std::uint8_t { never, automatic, always };

// The congestion control of every connection (tcp/congestion.hh).
enum class cc_algorithm : std::uint8_t {
  newreno,  // RFC 5681 + RFC 6582
  cubic,    // RFC 9438 (the default of Linux, Windows and Apple stacks)
};

struct tcp_config {
  // Largest segment we accept, advertised in our SYN (MTU 1500 - 40).
  std::uint16_t mss = 1460;
  // RFC 9293 §3.7.1: the default send MSS when the peer sends no option.
  std::uint16_t default_peer_mss = 536;

  // Receive buffer per connection: the most we advertise and hold.
  std::uint32_t rcv_buffer = 256 * 1024;
  // Send buffer per connection: the most an application may queue.
  std::uint32_t snd_buffer = 256 * 1024;
  // Out-of-order segments held per connection (a bound on memory, with
  // rcv_buffer bounding the bytes).
  std::uint32_t ooo_segments = 256;

  // Memory in mbufs, which is what runs out: a 1-byte segment pins a whole
  // buffer (Linux counts skb truesize against tcp_wmem/tcp_rmem for the same
  // reason). Per connection, the most mbufs its send buffer and its receive
  // queue (in order and out of order) may hold; 0: one per KB of the send
  // buffer and one per 512 bytes of the receive buffer, at least 16. Per core, the most all send buffers and all receive
  // queues may hold together (mbuf_budget.hh: past half of it each
  // connection keeps to its share); 0: half and a quarter of the core's
  // mbuf pool, so that receive always finds mbufs for the next burst.
  std::uint32_t snd_mbufs = 0;
  std::uint32_t rcv_mbufs = 0;
  std::uint32_t core_snd_mbufs = 0;
  std::uint32_t core_rcv_mbufs = 0;
  // What a connection may always hold even when its core's budget is spent
  // (Linux tcp_wmem[0] / tcp_rmem[0]): a new connection can still send a
  // response and take a request.
  std::uint32_t guaranteed_mbufs = 8;

  bool window_scaling = true;  // RFC 7323 §2
  bool timestamps = true;      // RFC 7323 §3
  bool sack = true;            // RFC 2018
  bool nagle = true;           // RFC 9293 §3.7.4, per connection switchable
  // Every connection's congestion control (the apps' --cc).
  cc_algorithm cc = cc_algorithm::cubic;

  // RFC 9293 §3.4.2: MSL; TIME_WAIT lasts 2*MSL. Linux uses 60 s for TIME_WAIT.
  base::nanos msl = std::chrono::seconds(30);
  // A released connection in FIN_WAIT_2 waits this long for the peer's FIN,
  // then goes (Linux's tcp_fin_timeout): nobody would ever close it, and a
  // peer whose RST or FIN was lost would hold its TCB for ever.
  base::nanos orphan_fin_wait_2 = std::chrono::seconds(60);
  // RFC 1337: ignore RST in TIME_WAIT (default). true honours it (counted).
  bool time_wait_honours_rst = false;
  // TIME_WAIT records per core (compact, time_wait_table.hh). When full a
  // closing connection skips TIME_WAIT, counted (Linux tcp_max_tw_buckets).
  std::uint32_t max_time_wait = 262'144;
  // When the source-port pool is dry, connect() may take the tuple of the
  // oldest TIME_WAIT record (counted); off, connect() fails instead.
  bool reuse_time_wait = false;

  // Listeners (RFC 9293 §3.10.1 passive OPEN): connections in SYN_RCVD per
  // listener (Linux tcp_max_syn_backlog), and established connections the
  // application has not taken yet (Linux somaxconn).
  std::uint32_t syn_queue_max = 1024;
  std::uint32_t accept_queue_max = 4096;
  syncookies_mode syncookies = syncookies_mode::automatic;

  // RFC 6298 / RFC 1122 §4.2.3.5: retransmissions before giving up.
  std::uint8_t max_retries = 15;        // data (Linux tcp_retries2)
  std::uint8_t max_syn_retries = 6;     // SYN (Linux tcp_syn_retries)
  std::uint8_t max_synack_retries = 5;  // SYN-ACK (Linux tcp_synack_retries)

  // RFC 1122 §4.2.3.2: delayed ACK at most 0.5 s; 40 ms like Linux's minimum.
  base::nanos delayed_ack = std::chrono::milliseconds(40);

  // RFC 1122 §4.2.3.6: keepalive off by default, 2 h idle, then probes.
  bool keepalive = false;
  base::nanos keepalive_idle = std::chrono::hours(2);
  base::nanos keepalive_interval = std::chrono::seconds(75);
  std::uint8_t keepalive_probes = 9;

  // RFC 5961 §7: challenge ACKs per second per core, the base of a budget
  // drawn anew each second from [limit/2, limit*3/2) so that its edge tells
  // an off-path attacker nothing (CVE-2016-5696; Linux since 4.7,
  // tcp_challenge_ack_limit = 1000). 0: no challenge ACKs at all.
  std::uint32_t challenge_ack_limit = 1000;
  // RFC 5961 §7 / RFC 9293 §3.10.7.4: at most one ACK per this interval for
  // each connection (and TIME_WAIT record) in answer to invalid segments:
  // out of window, PAWS-rejected, acknowledging what we never sent, and
  // the challenge ACKs themselves (Linux tcp_invalid_ratelimit, 500 ms).
  // Whole milliseconds; 0 turns the per-connection limit off.
  base::nanos invalid_ack_interval = std::chrono::milliseconds(500);

  // RFC 1122 §4.2.2.17: persist probes back off up to this interval.
  base::nanos persist_max = std::chrono::seconds(60);
  // A connection the application has released, whose peer keeps its window
  // shut, is reset after this many zero-window probes (Linux
  // tcp_orphan_retries, 8): nobody will ever read the peer's answers, and
  // its send buffer holds the core's mbufs.
  std::uint8_t orphan_probes = 8;
};

// RFC 7323 §2.3: the smallest shift that lets the receive buffer be
// advertised, what our SYN or SYN-ACK offers.
constexpr std::uint8_t rcv_wscale_for(const tcp_config& c) noexcept {
  std::uint8_t shift = 0;
  while (shift < 14 && (c.rcv_buffer >> shift) > 0xffff) ++shift;
  return shift;
}

}  // namespace kbt::tcp
