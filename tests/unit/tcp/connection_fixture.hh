#pragma once
// The Connection fixture: one TCB and its narrow context (connection.hh),
// with the rig's capture of the segments the connection queues (parsed,
// their checksums checked: tests/support/segment_capture.hh), shared by the
// tests of its timers and receive side (connection_test.cc) and of its
// acceptance, RST and ACK processing (connection_ack_test.cc).
#include <gtest/gtest.h>

#include <vector>

#include "control_rig.hh"
#include "tcp/connection.hh"

namespace kbt::tcp::test {

using wire::ipv4_addr;
using wire::seq32;
namespace flag = wire::tcp_flag;

constexpr base::instant kNow = base::instant_from_ns(10 * kSec);

using sent_segment = support::segment_header;

class Connection : public ::testing::Test, protected control_rig {
 protected:
  Connection()
      : _wheel(base::timer_wheel_config{.tick = base::nanos{kMs}, .levels = 6, .start = {}}),
        _snd_mem(1024, 64, 4),
        _rcv_mem(1024, 64, 4),
        _challenges(siphash_key{}, siphash_key{1, 2}, 0, 1000),
        _cx{.tcp = _config,
            .pool = kbt::test::mbuf_pool(),
            .counters = _counters,
            .out = _out,
            .builder = _builder,
            .ts = _ts,
            .wheel = _wheel,
            .snd_mem = _snd_mem,
            .rcv_mem = _rcv_mem,
            .events = _events,
            .syn_queues = _syn_queues,
            .challenges = _challenges,
            .blocked = _blocked,
            .deferred = _deferred,
            .syn_waiting = _syn_waiting},
        _c(64 * 1024, 64, 64 * 1024, 64) {
    // ESTABLISHED with our FIN outstanding (no data: the send buffer stays
    // empty), as a connection closed by the application would be.
    _c.tuple = {ipv4_addr::from_octets(198, 18, 0, 2), ipv4_addr::from_octets(198, 18, 0, 1), 80,
                5555};
    _c.state = tcp_state::established;
    _c.life = lifecycle::application;
    _c.iss = seq32{999};
    _c.snd_una = _c.snd_nxt = seq32{1000};
    _c.snd_max = seq32{1000};
    _c.snd.reset(seq32{1000});
    _c.irs = seq32{6999};
    _c.rcv_nxt = _c.rcv_adv = seq32{7000};
    _c.snd_wnd = _c.max_snd_wnd = 65535;
    _c.rcv_buffer = 64 * 1024;
    _c.snd_mss = 1460;
    // The wheel's nodes need a callback to be armed (tcp_layer installs the
    // real ones); no test here advances the wheel, so one firing is a bug.
    for (base::timer_node* n : {&_c.rto_timer(), &_c.delack_timer(), &_c.persist_timer(),
                                &_c.idle_timer()}) {
      n->set_callback(&timer_must_not_fire);
    }
  }
  static void timer_must_not_fire(base::timer_node&, base::instant, void*) noexcept {
    ADD_FAILURE() << "a timer fired: no test here advances the wheel";
  }
  ~Connection() override {
    conn().cancel_timers();
    rte_pktmbuf_free(_c.rx_head);
    _c.out_of_order.clear();
  }

  connection conn() { return connection(_c, _cx); }

  void fin_outstanding() {
    _c.fin_queued = true;
    _c.fin_seq = seq32{1000};
    _c.snd_nxt = _c.snd_max = seq32{1001};
  }
  // `n` bytes sent from SND.UNA = 1000 and not yet acknowledged.
  void data_outstanding(std::uint32_t n) {
    std::vector<std::byte> bytes(n, std::byte{'x'});
    ASSERT_EQ(_c.snd.append_copy(bytes, kbt::test::mbuf_pool(), 64), n);
    conn().account_snd(0);
    _c.snd_nxt = _c.snd_max = seq32{1000} + n;
  }

  // A segment from the peer at `seq` with `len` bytes of payload.
  static wire::tcp_repr from_peer(std::uint32_t seq, std::uint16_t len,
                                  std::uint8_t flags = flag::kAck) {
    wire::tcp_repr seg;
    seg.seq = seq32{seq};
    seg.ack = seq32{1000};
    seg.flags = flags;
    seg.payload_len = len;
    seg.window = 65535;  // what the fixture's SND.WND already is
    return seg;
  }
  static rte_mbuf* payload(std::uint16_t len) {
    if (len == 0) return nullptr;
    rte_mbuf* m = rte_pktmbuf_alloc(kbt::test::mbuf_pool());
    EXPECT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, len);
    EXPECT_NE(p, nullptr);
    for (std::uint16_t i = 0; i < len; ++i) p[i] = static_cast<char>('a' + i % 26);
    return m;
  }
  // RCV.NXT + RCV.WND as last advertised: text past it is trimmed.
  receive_outcome receive(std::uint32_t seq, std::uint16_t len,
                          std::uint8_t flags = flag::kAck) {
    _c.rcv_adv = _c.rcv_nxt + 65535;
    return conn().receive_text(from_peer(seq, len, flags), payload(len), kNow);
  }
  // The events posted for the connection (and it off the queue), or 0.
  std::uint8_t events() {
    tcb* c = _events.pop();
    if (c == nullptr) return 0;
    EXPECT_EQ(c, &_c);
    EXPECT_TRUE(_events.empty()) << "queued once";
    const std::uint8_t ev = c->events;
    c->events = 0;
    return ev;
  }

  std::vector<sent_segment> sent() { return sent_headers(); }

  tcp_config _config;
  ts_clock _ts;
  base::timer_wheel _wheel;
  mbuf_budget _snd_mem;
  mbuf_budget _rcv_mem;
  event_queue _events;
  syn_queue_lengths _syn_queues;
  challenge_budget _challenges;
  tcb_list<&tcb::blocked> _blocked;
  tcb_list<&tcb::deferred> _deferred;
  tcb_list<&tcb::syn_waiting> _syn_waiting;
  connection_context _cx;
  tcb _c;
};

}  // namespace kbt::tcp::test
