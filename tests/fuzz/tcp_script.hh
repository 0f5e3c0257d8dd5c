#pragma once
// The input format of the TCP fuzz targets, shared by the targets (which
// decode it) and make_seeds (which encodes simulator captures into it).
//
// An input is two config bytes, then records; a record is an op byte and
// the fields its kind needs. Fields are little-endian; an input that ends
// mid-record reads zeros for the rest, so every byte string is a script.
//
//   config[0] stack: bit0 no timestamps, bit1 no SACK, bit2 no window
//             scaling, bit3 NewReno (else CUBIC), bit4 Nagle off, bit5 small
//             buffers (zero windows come quickly), bit6 SYN and accept
//             queues of 1, bit7 the application reads on every kReadable
//   config[1] peer (the handshake fuzz_tcp_established makes itself):
//             bit0 timestamps, bit1 SACK-permitted, bit2 window scale
//             (shift = bits 5-7), bit3 also an active open on tuple 1,
//             bit4 the application closes its side on kPeerFin
//
//   op byte:  kind = op >> 5, tuple = op & 3, bit2 seq relative, bit3 ack
//             relative, bit4 same burst as the previous segment
//   kind 0-2  segment: flags u8, seq u32, ack u32, window u16, optmask u8,
//             then per optmask bit: 0 MSS u16, 1 window scale u8,
//             2 SACK-permitted, 3 timestamps (tsval u32, tsecr u32),
//             bits 4-5 SACK blocks n (each: offset u32, length u16),
//             6 urgent u16, 7 raw options (len u8, bytes; replaces bits 0-5);
//             then payload length u16 (the bytes are a pattern, not input)
//   kind 3    advance the clock: unit u8, count u8 ((count + 1) units)
//   kind 4    the application reads what the connection on `tuple` holds
//   kind 5    the application sends: length u16
//   kind 6    the application acts: u8 (0 shutdown, 1 release, 2 abort,
//             3 keepalive on, 4 pause reading, 5 resume reading, 6 nodelay)
//   kind 7    active open from the tuple's stack port to its peer port
//
// Relative values give the fuzzer the handshake for free: seq is taken
// from the last ACK number the stack sent on that tuple, ack from the end
// of what it sent (so 0 acknowledges everything, a cookie included); a
// TSval is the peer's clock (now in ms) plus the field, a TSecr the last
// TSval the stack sent plus the field; SACK blocks start at the ack plus
// their offset.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "wire/addr.hh"

namespace kbt::fuzz {

// The stack under test is 198.18.0.2; its peer 198.18.0.1.
inline constexpr auto kStackIp = wire::ipv4_addr::from_octets(198, 18, 0, 2);
inline constexpr auto kPeerIp = wire::ipv4_addr::from_octets(198, 18, 0, 1);
inline constexpr std::uint16_t kListenPort = 80;

struct script_tuple {
  std::uint16_t peer_port;
  std::uint16_t stack_port;
};
// Three tuples to the listener (0 is the one fuzz_tcp_established opens),
// 1 doubles as the active open's, and one to a closed port.
inline constexpr std::array<script_tuple, 4> kTuples = {{
    {40000, kListenPort},
    {8080, 50000},
    {40002, kListenPort},
    {40003, 81},
}};

inline constexpr std::size_t kMaxRecords = 96;  // bounds the work per input
inline constexpr std::uint16_t kMaxPayload = 1460;
inline constexpr std::uint16_t kMaxSend = 16384;
inline constexpr std::uint64_t kStartNs = 1'000'000'000;
inline constexpr std::array<std::uint64_t, 8> kTimeUnitsNs = {
    100'000, 1'000'000, 10'000'000, 100'000'000,
    1'000'000'000, 10'000'000'000, 100'000'000'000, 1'000'000'000'000};

namespace stack_cfg {
inline constexpr std::uint8_t kNoTimestamps = 0x01, kNoSack = 0x02, kNoWscale = 0x04,
                              kNewReno = 0x08, kNoNagle = 0x10, kSmallBuffers = 0x20,
                              kTinyQueues = 0x40, kAutoRead = 0x80;
}
namespace peer_cfg {
inline constexpr std::uint8_t kTimestamps = 0x01, kSackPermitted = 0x02, kWscale = 0x04,
                              kActiveOpen = 0x08, kCloseOnFin = 0x10;
}

enum class op_kind : std::uint8_t {
  segment = 0,  // 0, 1 and 2
  advance = 3,
  recv = 4,
  send = 5,
  act = 6,
  connect = 7,
};

enum class app_action : std::uint8_t {
  shutdown = 0, release, abort, keepalive, pause_reading, resume_reading, nodelay,
};

struct sack_spec {
  std::uint32_t offset = 0;
  std::uint16_t length = 0;
};

struct script_segment {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
  std::optional<std::array<std::uint32_t, 2>> ts;  // tsval, tsecr deltas
  std::vector<sack_spec> sacks;                    // at most 3
  std::optional<std::uint16_t> urgent;
  std::optional<std::vector<std::uint8_t>> raw_options;
  std::uint16_t payload_len = 0;
};

struct script_op {
  op_kind kind = op_kind::segment;
  std::uint8_t tuple = 0;
  bool seq_relative = false;
  bool ack_relative = false;
  bool same_burst = false;
  script_segment seg;       // kind segment
  std::uint8_t unit = 0;    // kind advance
  std::uint8_t count = 0;   // kind advance
  std::uint16_t length = 0; // kind send
  app_action action = app_action::shutdown;  // kind act
};

// --- decoding

class script_reader {
 public:
  script_reader(const std::uint8_t* d, std::size_t n) : _d(d), _n(n) {}
  bool done() const noexcept { return _n == 0; }
  template <class T>
  T get() noexcept {
    T v{};
    const std::size_t k = _n < sizeof(T) ? _n : sizeof(T);
    if (k > 0) std::memcpy(&v, _d, k);
    _d += k;
    _n -= k;
    return v;
  }

  script_op next() {
    script_op op;
    const auto b = get<std::uint8_t>();
    op.kind = static_cast<op_kind>(b >> 5 <= 2 ? 0 : b >> 5);
    op.tuple = b & 3;
    op.seq_relative = (b & 0x04) != 0;
    op.ack_relative = (b & 0x08) != 0;
    op.same_burst = (b & 0x10) != 0;
    switch (op.kind) {
      case op_kind::segment: read_segment(op.seg); break;
      case op_kind::advance:
        op.unit = get<std::uint8_t>() & 7;
        op.count = get<std::uint8_t>();
        break;
      case op_kind::send: op.length = get<std::uint16_t>(); break;
      case op_kind::act: op.action = static_cast<app_action>(get<std::uint8_t>() % 7); break;
      default: break;
    }
    return op;
  }

 private:
  void read_segment(script_segment& s) {
    s.flags = get<std::uint8_t>();
    s.seq = get<std::uint32_t>();
    s.ack = get<std::uint32_t>();
    s.window = get<std::uint16_t>();
    const auto mask = get<std::uint8_t>();
    if ((mask & 0x80) != 0) {
      const auto len = get<std::uint8_t>();
      std::vector<std::uint8_t> raw;
      for (unsigned i = 0; i < len && i < 40 && !done(); ++i) raw.push_back(get<std::uint8_t>());
      s.raw_options = std::move(raw);
    } else {
      if (mask & 0x01) s.mss = get<std::uint16_t>();
      if (mask & 0x02) s.wscale = get<std::uint8_t>();
      s.sack_permitted = (mask & 0x04) != 0;
      if (mask & 0x08) {
        const auto tsval = get<std::uint32_t>();
        s.ts = std::array<std::uint32_t, 2>{tsval, get<std::uint32_t>()};
      }
      const unsigned n = (mask >> 4) & 3;
      for (unsigned i = 0; i < n; ++i) {
        sack_spec b;
        b.offset = get<std::uint32_t>();
        b.length = get<std::uint16_t>();
        s.sacks.push_back(b);
      }
    }
    if (mask & 0x40) s.urgent = get<std::uint16_t>();
    s.payload_len = get<std::uint16_t>();
    if (s.payload_len > kMaxPayload) s.payload_len = s.payload_len % (kMaxPayload + 1);
  }

  const std::uint8_t* _d;
  std::size_t _n;
};

// --- encoding (make_seeds)

class script_writer {
 public:
  explicit script_writer(std::uint8_t stack_config, std::uint8_t peer_config = 0) {
    _out = {stack_config, peer_config};
  }
  const std::vector<std::uint8_t>& bytes() const noexcept { return _out; }
  std::size_t records() const noexcept { return _records; }

  void segment(std::uint8_t tuple, bool seq_rel, bool ack_rel, const script_segment& s,
               bool same_burst = false) {
    op(0, tuple, seq_rel, ack_rel, same_burst);
    put<std::uint8_t>(s.flags);
    put(s.seq);
    put(s.ack);
    put(s.window);
    std::uint8_t mask = 0;
    if (s.raw_options) {
      mask = 0x80;
    } else {
      if (s.mss) mask |= 0x01;
      if (s.wscale) mask |= 0x02;
      if (s.sack_permitted) mask |= 0x04;
      if (s.ts) mask |= 0x08;
      mask |= static_cast<std::uint8_t>((s.sacks.size() < 3 ? s.sacks.size() : 3) << 4);
    }
    if (s.urgent) mask |= 0x40;
    put(mask);
    if (s.raw_options) {
      put(static_cast<std::uint8_t>(s.raw_options->size()));
      for (auto b : *s.raw_options) put(b);
    } else {
      if (s.mss) put(*s.mss);
      if (s.wscale) put(*s.wscale);
      if (s.ts) {
        put((*s.ts)[0]);
        put((*s.ts)[1]);
      }
      for (std::size_t i = 0; i < s.sacks.size() && i < 3; ++i) {
        put(s.sacks[i].offset);
        put(s.sacks[i].length);
      }
    }
    if (s.urgent) put(*s.urgent);
    put(s.payload_len);
  }
  // Splits `ns` into advance records (rounded down to 100 µs).
  void advance(std::uint64_t ns) {
    for (int unit = 7; unit >= 0; --unit) {
      const std::uint64_t u = kTimeUnitsNs[static_cast<std::size_t>(unit)];
      while (ns >= u) {
        const std::uint64_t n = ns / u > 256 ? 256 : ns / u;
        op(3, 0, false, false, false);
        put(static_cast<std::uint8_t>(unit));
        put(static_cast<std::uint8_t>(n - 1));
        ns -= n * u;
      }
    }
  }
  void recv(std::uint8_t tuple) { op(4, tuple, false, false, false); }
  void send(std::uint8_t tuple, std::uint16_t len) {
    op(5, tuple, false, false, false);
    put(len);
  }
  void act(std::uint8_t tuple, app_action a) {
    op(6, tuple, false, false, false);
    put(static_cast<std::uint8_t>(a));
  }
  void connect(std::uint8_t tuple) { op(7, tuple, false, false, false); }

 private:
  void op(unsigned kind, std::uint8_t tuple, bool seq_rel, bool ack_rel, bool burst) {
    ++_records;
    put(static_cast<std::uint8_t>((kind << 5) | (burst ? 0x10 : 0) | (ack_rel ? 0x08 : 0) |
                                  (seq_rel ? 0x04 : 0) | (tuple & 3)));
  }
  template <class T>
  void put(T v) {
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    _out.insert(_out.end(), b, b + sizeof(T));
  }
  std::vector<std::uint8_t> _out;
  std::size_t _records = 0;
};

}  // namespace kbt::fuzz
