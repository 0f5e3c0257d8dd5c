#include "tcp/counters.hh"

namespace kbt::tcp {

void for_each_counter(const tcp_counters& c,
                      void (*f)(void* ctx, const char* name, std::uint64_t value),
                      void* ctx) {
  f(ctx, "segs_in", c.segs_in.get());
  f(ctx, "segs_out", c.segs_out.get());
  f(ctx, "data_segs_out", c.data_segs_out.get());
  f(ctx, "retransmits", c.retransmits.get());
  f(ctx, "fast_retransmits", c.fast_retransmits.get());
  f(ctx, "rto_expiries", c.rto_expiries.get());
  f(ctx, "spurious_rtos", c.spurious_rtos.get());
  f(ctx, "syn_retransmits", c.syn_retransmits.get());
  f(ctx, "rst_in", c.rst_in.get());
  f(ctx, "rst_out", c.rst_out.get());
  f(ctx, "challenge_acks", c.challenge_acks.get());
  f(ctx, "challenge_acks_suppressed", c.challenge_acks_suppressed.get());
  f(ctx, "challenge_acks_conn_limited", c.challenge_acks_conn_limited.get());
  f(ctx, "invalid_acks_suppressed", c.invalid_acks_suppressed.get());
  f(ctx, "dup_acks_in", c.dup_acks_in.get());
  f(ctx, "out_of_window", c.out_of_window.get());
  f(ctx, "paws_rejected", c.paws_rejected.get());
  f(ctx, "timestamp_missing", c.timestamp_missing.get());
  f(ctx, "ooo_queued", c.ooo_queued.get());
  f(ctx, "ooo_dropped", c.ooo_dropped.get());
  f(ctx, "rcv_window_trimmed", c.rcv_window_trimmed.get());
  f(ctx, "active_opens", c.active_opens.get());
  f(ctx, "passive_opens", c.passive_opens.get());
  f(ctx, "resets", c.resets.get());
  f(ctx, "timeouts", c.timeouts.get());
  f(ctx, "refused", c.refused.get());
  f(ctx, "time_wait_rst_ignored", c.time_wait_rst_ignored.get());
  f(ctx, "time_wait_rst_honoured", c.time_wait_rst_honoured.get());
  f(ctx, "no_tcb", c.no_tcb.get());
  f(ctx, "no_mbuf", c.no_mbuf.get());
  f(ctx, "tx_dropped", c.tx_dropped.get());
  f(ctx, "tx_deferred", c.tx_deferred.get());
  f(ctx, "syn_queue_overflow", c.syn_queue_overflow.get());
  f(ctx, "accept_queue_overflow", c.accept_queue_overflow.get());
  f(ctx, "syncookies_sent", c.syncookies_sent.get());
  f(ctx, "syncookies_valid", c.syncookies_valid.get());
  f(ctx, "syncookies_invalid", c.syncookies_invalid.get());
  f(ctx, "syncookies_self_check_failed", c.syncookies_self_check_failed.get());
  f(ctx, "syn_rcvd_evicted", c.syn_rcvd_evicted.get());
  f(ctx, "orphans_evicted", c.orphans_evicted.get());
  f(ctx, "time_wait_overflow", c.time_wait_overflow.get());
  f(ctx, "time_wait_reused", c.time_wait_reused.get());
  f(ctx, "time_wait_syn_dropped", c.time_wait_syn_dropped.get());
  f(ctx, "time_wait_recycled", c.time_wait_recycled.get());
  f(ctx, "ports_exhausted", c.ports_exhausted.get());
  f(ctx, "bulk_lookup_fallbacks", c.bulk_lookup_fallbacks.get());
  f(ctx, "keepalive_probes", c.keepalive_probes.get());
  f(ctx, "zero_window_probes", c.zero_window_probes.get());
  f(ctx, "orphan_fin_wait_2_timeouts", c.orphan_fin_wait_2_timeouts.get());
  f(ctx, "reset_data_lost", c.reset_data_lost.get());
  f(ctx, "snd_mem_refused", c.snd_mem_refused.get());
  f(ctx, "rcv_mem_dropped", c.rcv_mem_dropped.get());
  f(ctx, "orphan_probe_timeouts", c.orphan_probe_timeouts.get());
  f(ctx, "snd_mbufs", c.snd_mbufs.get());
  f(ctx, "rcv_mbufs", c.rcv_mbufs.get());
}

}  // namespace kbt::tcp
