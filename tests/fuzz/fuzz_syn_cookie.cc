// syn_cookie_jar on arbitrary keys, tuples, ISNs, MSS values and times.
// Asserted: a cookie from make() passes check() for the same tuple and ISN
// during the period it was made in and the next (syn_cookie.hh), with the
// table MSS make() chose; the timestamp encoding round-trips and never runs
// ahead of the clock. Counted, not asserted (a 29-bit hash can collide, and
// libFuzzer's comparison tracing can even solve for it): stale, tampered,
// other-tuple and random cookies that pass. The counts are printed at exit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fuzz_check.hh"
#include "tcp/syn_cookie.hh"

namespace {

using kbt::base::instant_from_ns;
using kbt::tcp::four_tuple;
using kbt::tcp::siphash_key;
using kbt::tcp::syn_cookie_jar;
using kbt::wire::seq32;

// Reads fixed-size fields off the front; zeros once the input runs out, so
// every input length means something.
class reader {
 public:
  reader(const std::uint8_t* d, std::size_t n) : _d(d), _n(n) {}
  template <class T>
  T get() {
    T v{};
    const std::size_t k = _n < sizeof(T) ? _n : sizeof(T);
    std::memcpy(&v, _d, k);
    _d += k;
    _n -= k;
    return v;
  }

 private:
  const std::uint8_t* _d;
  std::size_t _n;
};

// "Arbitrary" values are the fuzzer's own: with comparison tracing it can
// copy the hash check() wants into the ACK, so passes there say nothing
// about forgery. The other rows derive their cookie from a real one, which
// the fuzzer cannot steer: there a pass is a 2^-29 hash collision.
struct tallies {
  std::uint64_t made_ok = 0;
  std::uint64_t tampered_tries = 0, tampered_passed = 0;  // one bit flipped, tuple, ISN
  std::uint64_t any_tries = 0, any_passed = 0;
  std::uint64_t stale_tries = 0, stale_passed = 0;
  ~tallies() {
    std::fprintf(stderr,
                 "fuzz_syn_cookie: %llu fresh cookies checked ok; passed anyway: %llu of %llu "
                 "tampered, %llu of %llu stale or from the future, %llu of %llu arbitrary\n",
                 static_cast<unsigned long long>(made_ok),
                 static_cast<unsigned long long>(tampered_passed),
                 static_cast<unsigned long long>(tampered_tries),
                 static_cast<unsigned long long>(stale_passed),
                 static_cast<unsigned long long>(stale_tries),
                 static_cast<unsigned long long>(any_passed),
                 static_cast<unsigned long long>(any_tries));
  }
} g_tallies;

void count(bool passed, std::uint64_t& tries, std::uint64_t& passes) {
  ++tries;
  if (passed) ++passes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  siphash_key key{};
  for (auto& b : key) b = in.get<std::uint8_t>();
  four_tuple t;
  t.local_ip.value = in.get<std::uint32_t>();
  t.remote_ip.value = in.get<std::uint32_t>();
  t.local_port = in.get<std::uint16_t>();
  t.remote_port = in.get<std::uint16_t>();
  const seq32 isn{in.get<std::uint32_t>()};
  const auto peer_mss = in.get<std::uint16_t>();
  // Below 2^62 so that now + two periods cannot overflow.
  const std::uint64_t now = in.get<std::uint64_t>() >> 2;
  const std::uint64_t later = in.get<std::uint64_t>();
  const seq32 any_seq{in.get<std::uint32_t>()};
  const seq32 any_ack{in.get<std::uint32_t>()};
  const auto flip = in.get<std::uint8_t>();
  const auto ts_now = in.get<std::uint32_t>();
  const auto ws = in.get<std::uint8_t>();
  const auto ts_flags = in.get<std::uint8_t>();

  // The MSS index: the largest table entry not above the offer.
  const std::uint8_t idx = syn_cookie_jar::mss_index(peer_mss);
  const auto& table = syn_cookie_jar::kMssTable;
  FUZZ_CHECK(idx < table.size(), "mss_index %u", idx);
  FUZZ_CHECK((idx == 0 || table[idx] <= peer_mss) &&
                 (idx + 1 == table.size() || table[idx + 1] > peer_mss),
             "mss_index(%u) = %u is not the largest table MSS <= the offer", peer_mss, idx);

  const syn_cookie_jar jar(key);
  const seq32 cookie = jar.make(t, isn, peer_mss, instant_from_ns(now));
  FUZZ_CHECK((cookie.value & syn_cookie_jar::kMssIndexMask) == idx,
             "cookie %08x does not carry MSS index %u", cookie.value, idx);

  // Fresh: same period or the next one.
  const std::uint64_t period = syn_cookie_jar::kPeriodNs;
  const std::uint64_t fresh_at = now + later % period;
  const auto ok = jar.check(t, isn + 1, cookie + 1, instant_from_ns(fresh_at));
  FUZZ_CHECK(ok && *ok == table[idx],
             "a cookie made at %llu ns fails check() at %llu ns (tuple %08x:%u -> %08x:%u, isn "
             "%u, mss %u)",
             static_cast<unsigned long long>(now), static_cast<unsigned long long>(fresh_at),
             t.remote_ip.value, t.remote_port, t.local_ip.value, t.local_port, isn.value,
             peer_mss);
  ++g_tallies.made_ok;
  // The same ACK again a period later is still within the two periods
  // exactly when the cookie's counter is the previous one.
  const std::uint64_t counter_made = now / period;
  const std::uint64_t edge = (counter_made + 1) * period + later % period;
  const auto ok_next = jar.check(t, isn + 1, cookie + 1, instant_from_ns(edge));
  FUZZ_CHECK(ok_next && *ok_next == table[idx], "a cookie fails in the period after it was made");

  // Stale (two periods on) or from the future: rejected unless the hash collides.
  count(jar.check(t, isn + 1, cookie + 1,
                  instant_from_ns((counter_made + 2) * period + later % period))
            .has_value(),
        g_tallies.stale_tries, g_tallies.stale_passed);
  if (counter_made > 0) {
    count(jar.check(t, isn + 1, cookie + 1, instant_from_ns(now - period - now % period))
              .has_value(),
          g_tallies.stale_tries, g_tallies.stale_passed);
  }

  // Tampered: one bit of the cookie, another tuple, another ISN, any values.
  const seq32 tampered{cookie.value ^ (1U << (flip % 32))};
  count(jar.check(t, isn + 1, tampered + 1, instant_from_ns(fresh_at)).has_value(),
        g_tallies.tampered_tries, g_tallies.tampered_passed);
  four_tuple other = t;
  other.remote_port = static_cast<std::uint16_t>(other.remote_port ^ (1U << (flip % 16)));
  count(jar.check(other, isn + 1, cookie + 1, instant_from_ns(fresh_at)).has_value(),
        g_tallies.tampered_tries, g_tallies.tampered_passed);
  count(jar.check(t, isn + 2, cookie + 1, instant_from_ns(fresh_at)).has_value(),
        g_tallies.tampered_tries, g_tallies.tampered_passed);
  const auto any = jar.check(t, any_seq, any_ack, instant_from_ns(fresh_at));
  if (any) {
    FUZZ_CHECK(*any == table[(any_ack - 1).value & syn_cookie_jar::kMssIndexMask],
               "check() returned an MSS other than the table entry the cookie names");
  }
  if (any_seq != isn + 1 || any_ack != cookie + 1) {
    count(any.has_value(), g_tallies.any_tries, g_tallies.any_passed);
  }

  // Timestamp encoding (Linux's cookie_init_timestamp layout).
  const bool sack = (ts_flags & 1) != 0;
  const std::optional<std::uint8_t> wscale =
      (ts_flags & 2) != 0 ? std::optional<std::uint8_t>(ws) : std::nullopt;
  const std::uint32_t tsval = syn_cookie_jar::encode_ts(ts_now, wscale, sack);
  FUZZ_CHECK(ts_now - tsval <= syn_cookie_jar::kTsOptionMask,
             "encode_ts(%u) = %u is ahead of the clock or more than 63 behind", ts_now, tsval);
  const auto decoded = syn_cookie_jar::decode_ts(tsval);
  FUZZ_CHECK(decoded, "decode_ts rejects what encode_ts made (%08x)", tsval);
  FUZZ_CHECK(decoded->sack_permitted == sack, "SACK-permitted lost in the timestamp");
  FUZZ_CHECK(decoded->wscale.has_value() == wscale.has_value() &&
                 (!wscale || *decoded->wscale == (*wscale > 14 ? 14 : *wscale)),
             "window scale %d came back as %d", wscale ? *wscale : -1,
             decoded->wscale ? *decoded->wscale : -1);
  // Any echoed TSecr: rejected, or a shift of at most 14.
  const auto echoed = syn_cookie_jar::decode_ts(any_seq.value);
  FUZZ_CHECK(echoed.has_value() == ((any_seq.value & syn_cookie_jar::kTsReservedBit) == 0),
             "decode_ts(%08x) accepts the reserved bit or rejects a valid encoding",
             any_seq.value);
  FUZZ_CHECK(!echoed || !echoed->wscale || *echoed->wscale <= 14,
             "decode_ts gives window scale %u", echoed && echoed->wscale ? *echoed->wscale : 0);
  return 0;
}
