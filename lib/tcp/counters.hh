#pragma once
// TCP counters of one core: the owner writes, others read relaxed.
#include <array>
#include <cstdint>

#include "base/counter.hh"
#include "tcp/state.hh"

namespace kbt::tcp {

struct alignas(64) tcp_counters {
  base::counter segs_in;
  base::counter segs_out;
  base::counter data_segs_out;
  base::counter retransmits;         // segments sent again (RTO, fast, SACK)
  base::counter fast_retransmits;    // recoveries entered
  base::counter rto_expiries;
  // RFC 3522: expiries whose original segment was acknowledged after all
  // (the peer or a queue was late, nothing was lost), each backoff of such
  // a timeout counted, so that rto_expiries - spurious_rtos are the real ones.
  base::counter spurious_rtos;
  base::counter syn_retransmits;     // SYN or SYN-ACK sent again (its timer ran out)
  base::counter rst_in;
  base::counter rst_out;
  base::counter challenge_acks;      // RFC 5961 §3/§4/§5: sent
  // RFC 5961 §7: not sent, the core's budget for this second spent.
  base::counter challenge_acks_suppressed;
  // RFC 5961 §7: not sent, the connection had an ACK for an invalid segment
  // (or a challenge ACK) within invalid_ack_interval.
  base::counter challenge_acks_conn_limited;
  // RFC 5961 §7: ACKs not sent to out-of-window, PAWS-rejected (RFC 7323
  // §5.3) or beyond-SND.NXT (RFC 5961 §5.2) segments, connections and
  // TIME_WAIT records alike, within invalid_ack_interval of the last.
  base::counter invalid_acks_suppressed;
  base::counter dup_acks_in;
  base::counter out_of_window;       // unacceptable segments (ACKed, within the limit above)
  base::counter paws_rejected;       // RFC 7323 §5
  base::counter timestamp_missing;   // RFC 7323 §3.2: no TSopt on a timestamped connection
  base::counter ooo_queued;          // segments held for reassembly
  base::counter ooo_dropped;         // over the reassembly bound
  base::counter rcv_window_trimmed;  // data beyond the window, cut off
  base::counter active_opens;
  base::counter passive_opens;
  base::counter resets;              // connections closed by a peer's RST
  base::counter timeouts;            // connections closed by retransmission timeout
  base::counter refused;             // active opens answered with RST
  base::counter time_wait_rst_ignored;   // RFC 1337
  base::counter time_wait_rst_honoured;
  base::counter no_tcb;              // pool empty: SYN or connect refused
  base::counter no_mbuf;             // could not build a segment
  base::counter tx_dropped;          // out queue full
  base::counter tx_deferred;         // a connection's output waited for tx room
  base::counter syn_queue_overflow;  // SYN dropped: SYN queue full and no cookies
  base::counter accept_queue_overflow;  // handshake ACK dropped: accept queue full
  base::counter syncookies_sent;     // SYN-ACKs carrying a cookie instead of a TCB
  base::counter syncookies_valid;    // ACKs whose cookie made a connection
  base::counter syncookies_invalid;  // ACKs to a listener with a bad or stale cookie
  base::counter syncookies_self_check_failed;  // debug builds: cookie ISS of a SYN-queue entry
  base::counter syn_rcvd_evicted;   // SYN-queue entries dropped to free a TCB (pool empty)
  base::counter orphans_evicted;    // released, closing connections reset to free a TCB (pool empty)
  base::counter time_wait_overflow;  // TIME_WAIT table full: went straight to CLOSED
  base::counter time_wait_reused;    // RFC 6191: a new SYN took a TIME_WAIT tuple
  base::counter time_wait_syn_dropped;  // RFC 6191: a SYN too old for a TIME_WAIT tuple
  base::counter time_wait_recycled;  // connect() took a TIME_WAIT tuple (reuse_time_wait)
  base::counter ports_exhausted;     // connect() found no source port for this core
  base::counter bulk_lookup_fallbacks;  // burst entries looked up again after a table change
  base::counter keepalive_probes;
  base::counter zero_window_probes;
  base::counter orphan_fin_wait_2_timeouts;  // released, no FIN from the peer in time
  base::counter reset_data_lost;     // RFC 1122 §4.2.2.13: data unread at release or after it
  base::counter snd_mem_refused;     // sends refused (or cut short) by the mbuf budget
  base::counter rcv_mem_dropped;     // data segments dropped: the receive mbuf budget was spent
  base::counter orphan_probe_timeouts;  // released, the peer's window shut through orphan_probes
  // Gauges: mbufs the send buffers and the receive queues of this core hold now.
  base::counter snd_mbufs;
  base::counter rcv_mbufs;
  std::array<base::counter, kStateCount> states;  // connections in each state now
};

// Calls f(name, value) for every counter except the state gauges, in
// declaration order: for stats lines and telemetry.
void for_each_counter(const tcp_counters& c,
                      void (*f)(void* ctx, const char* name, std::uint64_t value),
                      void* ctx);

}  // namespace kbt::tcp
