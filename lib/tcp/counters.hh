#pragma once
// TCP counters of one core: the owner writes, others read relaxed.
#include <array>
#include <cstdint>

#include "core/counters.hh"
#include "tcp/state.hh"

namespace kbt::tcp {

struct alignas(64) tcp_counters {
  core::counter segs_in;
  core::counter segs_out;
  core::counter data_segs_out;
  core::counter retransmits;         // segments sent again (RTO, fast, SACK)
  core::counter fast_retransmits;    // recoveries entered
  core::counter rto_expiries;
  core::counter syn_retransmits;     // SYN or SYN-ACK sent again (its timer ran out)
  core::counter rst_in;
  core::counter rst_out;
  core::counter challenge_acks;      // RFC 5961 §3/§4/§5: sent
  // RFC 5961 §7: not sent, the core's budget for this second spent.
  core::counter challenge_acks_suppressed;
  // RFC 5961 §7: not sent, the connection had an ACK for an invalid segment
  // (or a challenge ACK) within invalid_ack_interval_ns.
  core::counter challenge_acks_conn_limited;
  // RFC 5961 §7: ACKs not sent to out-of-window, PAWS-rejected (RFC 7323
  // §5.3) or beyond-SND.NXT (RFC 5961 §5.2) segments, connections and
  // TIME_WAIT records alike, within invalid_ack_interval_ns of the last.
  core::counter invalid_acks_suppressed;
  core::counter dup_acks_in;
  core::counter out_of_window;       // unacceptable segments (ACKed, within the limit above)
  core::counter paws_rejected;       // RFC 7323 §5
  core::counter timestamp_missing;   // RFC 7323 §3.2: no TSopt on a timestamped connection
  core::counter ooo_queued;          // segments held for reassembly
  core::counter ooo_dropped;         // over the reassembly bound
  core::counter rcv_window_trimmed;  // data beyond the window, cut off
  core::counter active_opens;
  core::counter passive_opens;
  core::counter resets;              // connections closed by a peer's RST
  core::counter timeouts;            // connections closed by retransmission timeout
  core::counter refused;             // active opens answered with RST
  core::counter time_wait_rst_ignored;   // RFC 1337
  core::counter time_wait_rst_honoured;
  core::counter no_tcb;              // pool empty: SYN or connect refused
  core::counter no_mbuf;             // could not build a segment
  core::counter tx_dropped;          // out queue full
  core::counter tx_deferred;         // a connection's output waited for tx room
  core::counter syn_queue_overflow;  // SYN dropped: SYN queue full and no cookies
  core::counter accept_queue_overflow;  // handshake ACK dropped: accept queue full
  core::counter syncookies_sent;     // SYN-ACKs carrying a cookie instead of a TCB
  core::counter syncookies_valid;    // ACKs whose cookie made a connection
  core::counter syncookies_invalid;  // ACKs to a listener with a bad or stale cookie
  core::counter syncookies_self_check_failed;  // debug builds: cookie ISS of a SYN-queue entry
  core::counter syn_rcvd_evicted;   // SYN-queue entries dropped to free a TCB (pool empty)
  core::counter orphans_evicted;    // released, closing connections reset to free a TCB (pool empty)
  core::counter time_wait_overflow;  // TIME_WAIT table full: went straight to CLOSED
  core::counter time_wait_reused;    // RFC 6191: a new SYN took a TIME_WAIT tuple
  core::counter time_wait_syn_dropped;  // RFC 6191: a SYN too old for a TIME_WAIT tuple
  core::counter time_wait_recycled;  // connect() took a TIME_WAIT tuple (reuse_time_wait)
  core::counter ports_exhausted;     // connect() found no source port for this core
  core::counter bulk_lookup_fallbacks;  // burst entries looked up again after a table change
  core::counter keepalive_probes;
  core::counter zero_window_probes;
  core::counter orphan_fin_wait_2_timeouts;  // released, no FIN from the peer in time
  core::counter reset_data_lost;     // RFC 1122 §4.2.2.13: data unread at release or after it
  core::counter snd_mem_refused;     // sends refused (or cut short) by the mbuf budget
  core::counter rcv_mem_dropped;     // data segments dropped: the receive mbuf budget was spent
  core::counter orphan_probe_timeouts;  // released, the peer's window shut through orphan_probes
  // Gauges: mbufs the send buffers and the receive queues of this core hold now.
  core::counter snd_mbufs;
  core::counter rcv_mbufs;
  std::array<core::counter, kStateCount> states;  // connections in each state now
};

// Calls f(name, value) for every counter except the state gauges, in
// declaration order: for stats lines and telemetry.
void for_each_counter(const tcp_counters& c,
                      void (*f)(void* ctx, const char* name, std::uint64_t value),
                      void* ctx);

}  // namespace kbt::tcp
