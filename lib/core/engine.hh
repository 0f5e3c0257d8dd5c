#pragma once
// One core's run-to-completion loop (docs/ARCHITECTURE.md, "The per-core loop"): poll the
// core's rx queue in bursts, classify each frame (ARP, ICMP, TCP, or a
// counted drop), answer what needs answering, run the timers, and flush the
// tx batch. No locks, no system calls, no allocation after construction.
#include <rte_mbuf.h>

#include <array>
#include <memory>
#include <span>
#include <cstdint>
#include <optional>

#include "core/counters.hh"
#include "core/steering.hh"
#include "base/rss_table.hh"
#include "tcp/tcp_layer.hh"
#include "dev/port.hh"
#include "ip/arp_cache.hh"
#include "ip/icmp_rate_limit.hh"
#include "ip/reassembly.hh"
#include "wire/addr.hh"
#include "wire/ipv4.hh"

namespace kbt::core {

class capture;

struct engine_config {
  std::uint16_t port_id = 0;
  std::uint16_t queue_id = 0;  // this core's rx and tx queue on the port
  std::uint16_t core = 0;      // this core's index: what rss_table and steering call it
  rte_mempool* pool = nullptr;  // for packets the engine builds (ARP requests)
  wire::mac_addr mac;
  wire::ipv4_prefix ip;
  // More addresses of ours on the same link, the source addresses of active
  // opens (ip/source_range.hh): answered in ARP and ICMP, accepted in IP.
  // Empty: ip.addr alone.
  wire::ipv4_range sources;
  std::optional<wire::ipv4_addr> gateway;
  // The link's IPv4 MTU: replies longer than it leave in fragments.
  std::uint16_t mtu = 1500;
  // Fragments of datagrams for us (ip/reassembly.hh): bounded in datagrams and time.
  ip::reassembly_config reassembly;
  dev::port_offloads offloads;
  // TCP on this core; off, TCP segments are counted as tcp_no_handler.
  bool tcp = false;
  // Its configuration, built once by whoever makes the engines (the stack
  // from its stack_config; a test directly): the TCP settings, the TCB
  // pool, the source ports, the ISN and cookie secrets (all-zero: drawn
  // from getrandom at start-up; the stack passes the boot key,
  // core/boot_key.hh, the same in every process, so that a tuple's ISN and
  // TSval offset are too) and the clock at start. The engine adds what is
  // its own: the address and source addresses above, the pool, the core,
  // the RSS table and whether the port fills checksums.
  tcp::tcp_layer_config tcp_layer;
  // More than one core: which core owns a flow, and the queues that carry a
  // frame to its owner when the port delivered it elsewhere (a single-queue
  // port such as TAP). Both outlive the engine; nullptr with one core.
  const base::rss_table* rss = nullptr;
  steering_fabric* steering = nullptr;
  // --pcap: frames as received and as handed to the port are copied here;
  // outlives the engine. nullptr: no capture, one test per burst.
  core::capture* capture = nullptr;
};

class engine {
 public:
  static constexpr std::uint16_t kBurst = 32;
  static constexpr int kRxBursts = 4;  // rx bursts an iteration at most

  engine(const engine_config& config, core_counters& counters);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Announces our addresses with a gratuitous ARP each (RFC 5227 §3 announcement).
  void announce(base::instant now) noexcept;

  // CLOCK_MONOTONIC when this core's now was 0: ISNs and TSvals count
  // from boot (tcp_layer::set_clock_origin). Before the first poll.
  void set_clock_origin(std::uint64_t boot_ns) noexcept {
    if (_tcp) _tcp->set_clock_origin(boot_ns);
  }

  // The application's turn in an iteration (api::run_app's handlers): one
  // plain call, after TCP's input and timers, before TCP's output.
  using app_hook = void (*)(engine& e, base::instant now, void* ctx);

  // One iteration of the loop; returns how many frames it received. What the
  // iteration and `hook` queued leaves in one tx burst, or in full bursts
  // and one last when more than a burst's worth was queued (transmit()).
  std::uint16_t poll(base::instant now, app_hook hook = nullptr, void* ctx = nullptr) noexcept;

  // Handles one received frame; takes ownership of `m`. Public so that the
  // unit tests and the simulator can feed frames without a port.
  void input(rte_mbuf* m, base::instant now) noexcept;

  // Sends the IPv4 packet `m` (starting at its IPv4 header) towards `dst`:
  // prepends the Ethernet header (in the mbuf's headroom), then on-link
  // directly, otherwise through the gateway, after ARP resolution when
  // needed. A martian `dst` (ip/martian.hh) is dropped and counted instead.
  // Takes ownership and returns true, except with `keep_if_waiting` when the
  // next hop is unresolved and its wait queue full: then false, `m`
  // unchanged and still the caller's, to send later.
  bool send_ipv4(rte_mbuf* m, wire::ipv4_addr dst, base::instant now,
                 bool keep_if_waiting = false) noexcept;

  // Queues `m` for transmission on this core's tx queue; takes ownership.
  void transmit(rte_mbuf* m) noexcept;
  // Hands the queued frames to the port. What its tx queue refuses stays
  // queued, in order, for the next flush; only a frame that finds the
  // backlog itself full is dropped (tx_ring_full).
  void flush() noexcept;
  // Frames queued and not yet taken by the port.
  std::size_t tx_backlog() const noexcept { return _tx_count; }
  // Nothing waits to be sent: neither TCP's deferred output nor frames.
  bool tx_idle() const noexcept { return _tx_count == 0 && (!_tcp || _tcp->tx_idle()); }
  // TCP's queued segments, then the frames: after the application acted.
  void flush_all() noexcept {
    if (_tcp) _tcp->flush();
    flush();
  }

  const engine_config& config() const noexcept { return _config; }
  // One of our addresses: a compare and a range check, per packet.
  bool is_local(wire::ipv4_addr a) const noexcept {
    return a == _config.ip.addr || _config.sources.contains(a);
  }
  // This core's TCP, or nullptr when the engine runs without it.
  tcp::tcp_layer* tcp() noexcept { return _tcp.get(); }
  ip::arp_cache& neighbours() noexcept { return _arp; }
  // This core's counters, for an application's own reports.
  const core_counters& counters() const noexcept { return _counters; }

 private:
  // Classifies one frame; TCP segments wait in _tcp_burst for the bulk
  // lookup (process_tcp_burst). `steered`: another core sent it here.
  void input_frame(rte_mbuf* m, base::instant now, bool steered) noexcept;
  void input_arp(rte_mbuf* m, std::size_t l2_len, base::instant now, bool steered) noexcept;
  void input_ipv4(rte_mbuf* m, std::size_t l2_len, bool steered) noexcept;
  void input_fragment(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                      bool steered) noexcept;
  void count_fragments_held() noexcept;
  void input_udp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip) noexcept;
  // RFC 1122 §3.2.2.1: destination unreachable with `code` about the
  // datagram in `m` (which stays the caller's), within the rate limit.
  void send_unreachable(const rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                        std::uint8_t code) noexcept;
  // transmit(), in fragments of at most the MTU if the frame's IPv4 datagram
  // (at `l2_len`) is longer.
  void transmit_ipv4_frame(rte_mbuf* m, std::size_t l2_len) noexcept;
  void input_tcp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip, bool steered) noexcept;
  bool steer_tcp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip) noexcept;
  void share_arp(const rte_mbuf* m) noexcept;
  void process_tcp_burst() noexcept;
  // From `sender` (default: ip.addr); sender == target is an announcement.
  void send_arp_request(wire::ipv4_addr target, base::instant now,
                        std::optional<wire::ipv4_addr> sender = std::nullopt) noexcept;
  void service_neighbours(base::instant now) noexcept;
  void drop(rte_mbuf* m, drop_reason why) noexcept;
  // The last next hop resolved in a batch of TCP output and its MAC: the
  // packets after it to the same neighbour skip the neighbour cache.
  struct next_hop_memo {
    wire::ipv4_addr hop;
    wire::mac_addr mac;
    bool valid = false;
  };
  bool send_ipv4(rte_mbuf* m, wire::ipv4_addr dst, base::instant now, bool keep_if_waiting,
                 next_hop_memo* memo) noexcept;
  static std::size_t tcp_flush(void* self, std::span<const tcp::out_packet> packets) noexcept;

  engine_config _config;
  core_counters& _counters;
  ip::arp_cache _arp;
  ip::reassembler _reassembly;
  std::uint64_t _frags_held_counted = 0;
  ip::icmp_rate_limit _icmp_errors;
  std::unique_ptr<tcp::tcp_layer> _tcp;
  base::instant _next_neighbour_check{};
  base::instant _now{};  // of the current poll, for TCP's flush hook
  // The transmit backlog: frames queued this iteration and those the port
  // refused earlier, oldest at _tx_head. TCP is told how much room is left
  // (tcp_layer::set_tx_room, tx_room()): frames less kTxControlReserve,
  // which is kept for answers that have no connection to wait in (RST,
  // cookie SYN-ACK, ARP), and mbufs within a sixteenth of the pool, the
  // share the TCP budgets leave for it (tcp/memory.cc), counting each
  // segment at its most (a header and send_buffer::kDefaultMaxPieces).
  static constexpr std::size_t kTxBacklog = 1024;
  static constexpr std::size_t kTxControlReserve = 256;
  static constexpr std::size_t kMbufsPerSegment = 8;
  std::uint32_t tx_room() const noexcept;
  std::size_t _tx_head = 0;
  std::size_t _tx_count = 0;
  std::size_t _tx_mbufs = 0;      // mbufs of the frames in the backlog
  std::size_t _tx_mbuf_cap = 0;   // what TCP's segments may bring it to
  std::size_t _tx_unflushed = 0;  // queued since the last flush
  std::size_t _tx_refused = 0;    // frames at the head the port has refused once (counted)
  std::array<rte_mbuf*, kTxBacklog> _tx{};
  std::array<tcp::tcp_rx, kBurst> _tcp_burst{};
  std::size_t _tcp_count = 0;
  // A core passes its frames of other cores' flows on; drained per poll.
  std::array<rte_mbuf*, kBurst> _steered{};
};

}  // namespace kbt::core
