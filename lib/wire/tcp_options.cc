#include "wire/tcp_options.hh"

#include <algorithm>

#include "wire/endian.hh"

namespace kbt::wire {
namespace {

constexpr std::size_t kWord = 4;
constexpr std::size_t kSackWord = 4;  // NOP NOP kind length

std::uint8_t byte_at(std::span<const std::byte> b, std::size_t off) noexcept {
  return std::to_integer<std::uint8_t>(b[off]);
}

// How many of the wanted SACK blocks fit after `used` bytes of other options.
std::size_t sack_blocks_that_fit(const tcp_options& opts, std::size_t used) noexcept {
  if (opts.sack_count == 0 || used + kSackWord + kTcpOptLenSackBlock > kTcpMaxOptionsLen) return 0;
  const std::size_t room = (kTcpMaxOptionsLen - used - kSackWord) / kTcpOptLenSackBlock;
  return std::min<std::size_t>({opts.sack_count, room, kTcpMaxSackBlocks});
}

std::size_t len_without_sack(const tcp_options& opts) noexcept {
  std::size_t len = 0;
  if (opts.mss) len += kWord;
  if (opts.timestamps) len += 3 * kWord;  // SACK-perm rides in the padding
  if (opts.sack_permitted && !opts.timestamps) len += kWord;
  if (opts.window_scale) len += kWord;
  return len;
}

// Reads one known option's value into `opts`; `len` is already bounded.
result<void, tcp_option_error> read_option(std::uint8_t kind, std::span<const std::byte> opt,
                                           tcp_options& opts) noexcept {
  const std::size_t len = opt.size();
  const std::byte* v = opt.data() + 2;
  switch (kind) {
    case kTcpOptMss:
      if (len != kTcpOptLenMss) return unexpected{tcp_option_error::wrong_length};
      opts.mss = load_be<std::uint16_t>(v);
      break;
    case kTcpOptWindowScale:
      if (len != kTcpOptLenWindowScale) return unexpected{tcp_option_error::wrong_length};
      opts.window_scale = std::to_integer<std::uint8_t>(v[0]);
      break;
    case kTcpOptSackPermitted:
      if (len != kTcpOptLenSackPermitted) return unexpected{tcp_option_error::wrong_length};
      opts.sack_permitted = true;
      break;
    case kTcpOptTimestamps:
      if (len != kTcpOptLenTimestamps) return unexpected{tcp_option_error::wrong_length};
      opts.timestamps = tcp_timestamps{load_be<std::uint32_t>(v), load_be<std::uint32_t>(v + 4)};
      break;
    case kTcpOptSack: {
      const std::size_t body = len - kTcpOptLenSackBase;
      if (body == 0 || body % kTcpOptLenSackBlock != 0 ||
          body / kTcpOptLenSackBlock > kTcpMaxSackBlocks) {
        return unexpected{tcp_option_error::wrong_length};
      }
      opts.sack_count = static_cast<std::uint8_t>(body / kTcpOptLenSackBlock);
      for (std::size_t i = 0; i < opts.sack_count; ++i) {
        const std::byte* b = v + i * kTcpOptLenSackBlock;
        opts.sack_blocks[i] = {seq32{load_be<std::uint32_t>(b)},
                               seq32{load_be<std::uint32_t>(b + 4)}};
      }
      break;
    }
    default:
      break;  // RFC 9293 §3.1: skip unknown options by their length
  }
  return {};
}

std::byte* put_word(std::byte* p, std::uint8_t a, std::uint8_t b, std::uint8_t c,
                    std::uint8_t d) noexcept {
  p[0] = std::byte{a};
  p[1] = std::byte{b};
  p[2] = std::byte{c};
  p[3] = std::byte{d};
  return p + kWord;
}

}  // namespace

result<tcp_options, tcp_option_error> parse_tcp_options(
    std::span<const std::byte> options) noexcept {
  tcp_options opts;
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t kind = byte_at(options, i);
    if (kind == kTcpOptEol) break;
    if (kind == kTcpOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return unexpected{tcp_option_error::runs_past_end};
    const std::size_t len = byte_at(options, i + 1);
    if (len < 2) return unexpected{tcp_option_error::bad_length};
    if (len > options.size() - i) return unexpected{tcp_option_error::runs_past_end};
    if (const auto r = read_option(kind, options.subspan(i, len), opts); !r) {
      return unexpected{r.error()};
    }
    i += len;
  }
  return opts;
}

std::size_t tcp_options_len(const tcp_options& opts) noexcept {
  const std::size_t used = len_without_sack(opts);
  const std::size_t blocks = sack_blocks_that_fit(opts, used);
  return used + (blocks == 0 ? 0 : kSackWord + blocks * kTcpOptLenSackBlock);
}

result<std::size_t, tcp_option_error> emit_tcp_options(const tcp_options& opts,
                                                       std::span<std::byte> out) noexcept {
  const std::size_t total = tcp_options_len(opts);
  if (out.size() < total) return unexpected{tcp_option_error::runs_past_end};
  std::byte* p = out.data();
  if (opts.mss) {
    p = put_word(p, kTcpOptMss, kTcpOptLenMss, 0, 0);
    store_be<std::uint16_t>(p - 2, *opts.mss);
  }
  if (opts.timestamps) {
    // Linux puts SACK-permitted in the two bytes that would otherwise be NOPs.
    p = opts.sack_permitted
            ? put_word(p, kTcpOptSackPermitted, kTcpOptLenSackPermitted, kTcpOptTimestamps,
                       kTcpOptLenTimestamps)
            : put_word(p, kTcpOptNop, kTcpOptNop, kTcpOptTimestamps, kTcpOptLenTimestamps);
    store_be<std::uint32_t>(p, opts.timestamps->tsval);
    store_be<std::uint32_t>(p + 4, opts.timestamps->tsecr);
    p += 2 * kWord;
  } else if (opts.sack_permitted) {
    p = put_word(p, kTcpOptNop, kTcpOptNop, kTcpOptSackPermitted, kTcpOptLenSackPermitted);
  }
  if (opts.window_scale) {
    p = put_word(p, kTcpOptNop, kTcpOptWindowScale, kTcpOptLenWindowScale, *opts.window_scale);
  }
  const std::size_t blocks = sack_blocks_that_fit(opts, len_without_sack(opts));
  if (blocks != 0) {
    p = put_word(p, kTcpOptNop, kTcpOptNop, kTcpOptSack,
                 static_cast<std::uint8_t>(kTcpOptLenSackBase + blocks * kTcpOptLenSackBlock));
    for (std::size_t i = 0; i < blocks; ++i) {
      store_be<std::uint32_t>(p, opts.sack_blocks[i].left.value);
      store_be<std::uint32_t>(p + 4, opts.sack_blocks[i].right.value);
      p += kTcpOptLenSackBlock;
    }
  }
  return total;
}

}  // namespace kbt::wire
