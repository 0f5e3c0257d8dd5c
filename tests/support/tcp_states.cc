#include "tcp_states.hh"

#include <string>
#include <vector>

namespace kbt::support {
namespace {

namespace flag = wire::tcp_flag;
using tcp::tcp_state;

void fail(tcp_rig& rig, const std::string& what) { rig.fail(what.c_str()); }

// Exactly one segment sent, with `flags`, `seq` and `ack` (ack checked when
// `flags` has ACK); returns it.
captured_segment expect_one(tcp_rig& rig, std::uint8_t flags, std::uint32_t seq,
                            std::uint32_t ack, const char* step) {
  auto v = rig.sent();
  if (v.size() != 1) {
    fail(rig, std::string(step) + ": " + std::to_string(v.size()) + " segments sent, not one");
    return {};
  }
  const auto& s = v.front();
  if (s.h.flags != flags || s.h.seq.value != seq ||
      ((flags & flag::kAck) != 0 && s.h.ack.value != ack)) {
    fail(rig, std::string(step) + ": sent flags " + std::to_string(s.h.flags) + " seq " +
                  std::to_string(s.h.seq.value) + " ack " + std::to_string(s.h.ack.value) +
                  ", expected flags " + std::to_string(flags) + " seq " + std::to_string(seq) +
                  " ack " + std::to_string(ack));
  }
  return s;
}

void expect_none(tcp_rig& rig, const char* step) {
  const auto v = rig.sent();
  if (!v.empty()) fail(rig, std::string(step) + ": the stack sent " + std::to_string(v.size()));
}

rig_conn open_active(tcp_rig& rig) {
  rig_conn k;
  k.c = rig.layer().connect(kPeerIp, kServerPort, rig.now(), kActivePort);
  k.tuple = {kStackIp, kPeerIp, kActivePort, kServerPort};
  if (k.c == nullptr) {
    fail(rig, "connect() failed");
    return k;
  }
  const auto v = rig.sent();
  if (v.size() != 1 || v.front().h.flags != flag::kSyn) {
    fail(rig, "connect(): no lone SYN sent");
    return k;
  }
  k.iss = v.front().h.seq.value;
  k.stack_nxt = k.iss + 1;
  k.peer_nxt = kPeerIsn;
  return k;
}

}  // namespace

bool expect_state(tcp_rig& rig, const tcp::four_tuple& tuple, tcp_state want) {
  const tcp_state got = rig.layer().state_of(tuple);
  if (got == want) return true;
  fail(rig, "state " + std::string(tcp::to_string(got)) + ", expected " +
                std::string(tcp::to_string(want)));
  return false;
}

rig_conn listen_state(tcp_rig& rig, std::uint16_t peer_port) {
  rig_conn k;
  k.tuple = {kStackIp, kPeerIp, kServerPort, peer_port};
  if (rig.layer().find_listener(kServerPort) == nullptr && !rig.layer().listen(kServerPort)) {
    fail(rig, "listen() failed");
  }
  k.peer_nxt = kPeerIsn;
  expect_state(rig, k.tuple, tcp_state::closed);
  return k;
}

rig_conn syn_sent(tcp_rig& rig) {
  rig_conn k = open_active(rig);
  expect_state(rig, k.tuple, tcp_state::syn_sent);
  return k;
}

rig_conn syn_rcvd(tcp_rig& rig, side s, const wire::tcp_options& syn_options,
                  std::uint16_t peer_port) {
  rig_conn k;
  if (s == side::active) {
    k = open_active(rig);
    rig.input(k.on(syn(kPeerIsn, syn_options)));
    k.peer_nxt = kPeerIsn + 1;
    expect_one(rig, flag::kSyn | flag::kAck, k.iss, k.peer_nxt, "simultaneous open");
  } else {
    k = listen_state(rig, peer_port);
    const std::size_t before = rig.layer().connections();
    // A peer on Ethernet: MSS 1460 unless the caller says otherwise.
    wire::tcp_options o = syn_options;
    if (!o.mss) o.mss = 1460;
    rig.input(k.on(syn(kPeerIsn, o)));
    k.peer_nxt = kPeerIsn + 1;
    const auto v = rig.sent();
    if (v.size() != 1 || v.front().h.flags != (flag::kSyn | flag::kAck) ||
        v.front().h.ack.value != k.peer_nxt) {
      fail(rig, "SYN in: no lone SYN-ACK <ACK=ISN+1> sent");
    } else {
      k.iss = v.front().h.seq.value;
    }
    k.stack_nxt = k.iss + 1;
    if (rig.layer().connections() != before + 1) fail(rig, "SYN in: no new TCB");
    k.c = rig.layer().find(k.tuple);
  }
  expect_state(rig, k.tuple, tcp_state::syn_rcvd);
  return k;
}

rig_conn established(tcp_rig& rig, side s, const wire::tcp_options& syn_options,
                     std::uint16_t peer_port) {
  rig_conn k;
  if (s == side::active) {
    k = open_active(rig);
    rig.input(k.on(syn_ack(kPeerIsn, k.stack_nxt, syn_options)));
    k.peer_nxt = kPeerIsn + 1;
    expect_one(rig, flag::kAck, k.stack_nxt, k.peer_nxt, "SYN-ACK in");
  } else {
    k = syn_rcvd(rig, side::passive, syn_options, peer_port);
    // RFC 7323 §3.2: timestamps agreed, every segment from now on has them.
    wire::tcp_options o;
    if (syn_options.timestamps) o.timestamps = wire::tcp_timestamps{syn_options.timestamps->tsval, 0};
    rig.input(k.on(ack(k.peer_nxt, k.stack_nxt, o)));
    expect_none(rig, "final ACK in");
  }
  if (k.c != nullptr && (rig.take_events(k.c) & tcp::event::kConnected) == 0) {
    fail(rig, "no kConnected event");
  }
  expect_state(rig, k.tuple, tcp_state::established);
  return k;
}

rig_conn fin_wait_1(tcp_rig& rig, side s) {
  rig_conn k = established(rig, s);
  if (k.c == nullptr) return k;
  rig.layer().shutdown(*k.c, rig.now());
  expect_one(rig, flag::kFin | flag::kAck, k.stack_nxt, k.peer_nxt, "shutdown()");
  ++k.stack_nxt;
  expect_state(rig, k.tuple, tcp_state::fin_wait_1);
  return k;
}

rig_conn fin_wait_2(tcp_rig& rig, side s) {
  rig_conn k = fin_wait_1(rig, s);
  rig.input(k.on(ack(k.peer_nxt, k.stack_nxt)));
  expect_none(rig, "ACK of our FIN in");
  expect_state(rig, k.tuple, tcp_state::fin_wait_2);
  return k;
}

rig_conn close_wait(tcp_rig& rig, side s) {
  rig_conn k = established(rig, s);
  rig.input(k.on(fin(k.peer_nxt, k.stack_nxt)));
  ++k.peer_nxt;
  expect_one(rig, flag::kAck, k.stack_nxt, k.peer_nxt, "FIN in");
  expect_state(rig, k.tuple, tcp_state::close_wait);
  return k;
}

rig_conn closing(tcp_rig& rig, side s) {
  rig_conn k = fin_wait_1(rig, s);
  rig.input(k.on(fin(k.peer_nxt, k.stack_nxt - 1)));  // crossed our FIN
  ++k.peer_nxt;
  expect_one(rig, flag::kAck, k.stack_nxt, k.peer_nxt, "FIN in (ours not acknowledged)");
  expect_state(rig, k.tuple, tcp_state::closing);
  return k;
}

rig_conn last_ack(tcp_rig& rig, side s) {
  rig_conn k = close_wait(rig, s);
  if (k.c == nullptr) return k;
  rig.layer().shutdown(*k.c, rig.now());
  expect_one(rig, flag::kFin | flag::kAck, k.stack_nxt, k.peer_nxt, "shutdown()");
  ++k.stack_nxt;
  expect_state(rig, k.tuple, tcp_state::last_ack);
  return k;
}

rig_conn time_wait(tcp_rig& rig, side s) {
  rig_conn k = fin_wait_2(rig, s);
  rig.input(k.on(fin(k.peer_nxt, k.stack_nxt)));
  ++k.peer_nxt;
  expect_one(rig, flag::kAck, k.stack_nxt, k.peer_nxt, "FIN in");
  expect_state(rig, k.tuple, tcp_state::time_wait);
  return k;
}

rig_conn closed(tcp_rig& rig, side s) {
  rig_conn k = last_ack(rig, s);
  rig.input(k.on(ack(k.peer_nxt, k.stack_nxt)));
  expect_none(rig, "ACK of our FIN in");
  expect_state(rig, k.tuple, tcp_state::closed);
  if (k.c != nullptr && k.c->state != tcp_state::closed) fail(rig, "the TCB is not CLOSED");
  return k;
}

}  // namespace kbt::support
