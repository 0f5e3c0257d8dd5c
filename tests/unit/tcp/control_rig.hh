#pragma once
// What a test needs to drive a part of lib/tcp by itself, with no tcp_layer:
// the counters, the one segment builder, a segment queue flushed into the
// rig's capture (tests/support/segment_capture.hh: every segment parsed, its
// checksums checked, a wrong one a failure of the test that sent it) and the
// control sender of segments with no TCB behind them. A base of the
// Connection, TimeWaitKeeper and ListenerAlone fixtures.
#include <gtest/gtest.h>

#include <vector>

#include "segment_capture.hh"
#include "tcp/control_sender.hh"
#include "tcp/counters.hh"
#include "tcp/segment_builder.hh"
#include "tcp/segment_queue.hh"
#include "test_env.hh"

namespace kbt::tcp::test {

// A segment the checksums of which were wrong fails the test that sent it.
inline void fail_the_test(void*, const char* what) { ADD_FAILURE() << what; }

class control_rig {
 protected:
  // Everything queued since the last call, parsed and checked.
  std::vector<support::captured_segment> sent_segments() {
    _out.flush();
    return _cap.segments();
  }
  // The same, reduced to flags, SEQ and ACK.
  std::vector<support::segment_header> sent_headers() {
    _out.flush();
    return _cap.headers();
  }

  tcp_counters _counters;
  support::segment_capture _cap{&fail_the_test};
  segment_queue _out{&support::segment_capture::take, &_cap};
  segment_builder _builder{kbt::test::mbuf_pool(), false};
  control_sender _control{_builder, _out, _counters};
};

}  // namespace kbt::tcp::test
