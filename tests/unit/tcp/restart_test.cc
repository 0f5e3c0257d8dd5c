// A 4-tuple reused by the next process (RFC 6191 §2 from the peer's side):
// with the same boot key, a new tcp_layer whose clock origin is later
// (set_clock_origin: CLOCK_MONOTONIC at its now of 0) sends ISNs (RFC 6528
// §3) and TSvals (RFC 7323 §5.4) above the earlier layer's, so a peer still
// in TIME_WAIT takes its SYN. Each test makes two layers, one per
// "process", with the fixture's fixed key, and compares what they send.
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

constexpr std::uint64_t kSec = 1'000'000'000;
constexpr std::uint16_t kLocalPort = 40'000;

class Restart : public TcpFixture {
 protected:
  // A new layer ("process") whose now of 0 was `origin_ns` after boot; it
  // runs `run_ns` of its own time, then sends what `act` makes it send.
  template <class F>
  seg_out in_process(std::uint64_t origin_ns, std::uint64_t run_ns, F&& act) {
    tcp_config c;
    c.max_time_wait = 1024;
    // A full SYN-ACK with the ISN of RFC 6528: cookies have their own clock.
    c.syncookies = syncookies_mode::never;
    make_layer(c);
    _layer->set_clock_origin(origin_ns);
    _now += base::nanos{run_ns};
    act();
    return sent_one();
  }
  seg_out syn_in_process(std::uint64_t origin_ns, std::uint64_t run_ns) {
    return in_process(origin_ns, run_ns, [&] {
      EXPECT_NE(_layer->connect(kPeerIp, kServerPort, _now, kLocalPort), nullptr);
    });
  }
  seg_out synack_in_process(std::uint64_t origin_ns, std::uint64_t run_ns) {
    return in_process(origin_ns, run_ns, [&] {
      wire::tcp_options o;
      o.timestamps = wire::tcp_timestamps{7, 0};
      ASSERT_TRUE(_layer->listen(kServerPort));
      input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o});
    });
  }
  static std::int64_t ahead(std::uint32_t later, std::uint32_t earlier) {
    return static_cast<std::int32_t>(later - earlier);
  }
};

TEST_F(Restart, TheNextProcessesSynHasAHigherIsnAndTsval) {
  // The first process starts 10 s after boot and connects 20 s later; the
  // second starts 1 s after that and connects at once (its own clock is
  // back near the fixture's start, as a new process's is).
  const base::instant start = _now;
  const seg_out first = syn_in_process(10 * kSec, 20 * kSec);
  _now = start;
  const seg_out second = syn_in_process(31 * kSec, 1'000'000);
  ASSERT_TRUE(first.h.options.timestamps && second.h.options.timestamps);
  // Same key, same tuple: F is the same, M moved by 1.001 s of 4 us ticks.
  EXPECT_EQ(ahead(second.h.seq.value, first.h.seq.value), 1'001'000'000 / 4'000);
  EXPECT_EQ(ahead(second.h.options.timestamps->tsval, first.h.options.timestamps->tsval), 1001);
}

TEST_F(Restart, TheNextProcessesSynAckHasAHigherIsnAndTsval) {
  const base::instant start = _now;
  const seg_out first = synack_in_process(5 * kSec, 3 * kSec);
  _now = start;
  const seg_out second = synack_in_process(10 * kSec, 0);
  ASSERT_TRUE(first.h.options.timestamps && second.h.options.timestamps);
  EXPECT_EQ(ahead(second.h.seq.value, first.h.seq.value), 2 * kSec / 4'000);
  EXPECT_EQ(ahead(second.h.options.timestamps->tsval, first.h.options.timestamps->tsval), 2000);
}

TEST_F(Restart, WithoutAClockOriginTheNextProcessStartsBelow) {
  // What set_clock_origin() is for: each clock restarts at the fixture's
  // start, so the second process's SYN repeats the past and a peer's
  // TIME_WAIT (which remembers the first's) would not take it.
  const base::instant start = _now;
  const seg_out first = syn_in_process(0, 20 * kSec);
  _now = start;
  const seg_out second = syn_in_process(0, 1'000'000);
  EXPECT_LT(ahead(second.h.seq.value, first.h.seq.value), 0);
  EXPECT_LT(ahead(second.h.options.timestamps->tsval, first.h.options.timestamps->tsval), 0);
}

}  // namespace
}  // namespace kbt::tcp::test
