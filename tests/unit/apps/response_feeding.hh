// Feeding kbt-load's response parser as segments would: the wire in pieces,
// each piece fed until consumed, every complete response handed on. Shared by
// the response parser's tests (fixed pieces) and the chunked tests (random
// pieces).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "kbt-load/response_parser.hh"

namespace kbt::load::test_support {

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Feeds `wire` to `p` in pieces of next_size() bytes; on_complete(p) sees each
// complete response before `p` is reset for the next. Returns false at the
// first parse error, where feeding stops.
template <class NextSize, class OnComplete>
bool feed_in_pieces(http_response_parser& p, std::string_view wire, NextSize next_size,
                    OnComplete on_complete) {
  while (!wire.empty()) {
    auto piece = bytes(wire.substr(0, next_size()));
    wire.remove_prefix(piece.size());
    while (!piece.empty()) {
      const feed_result r = p.feed(piece);
      piece = piece.subspan(r.consumed);
      if (r.state == parse_state::error) return false;
      if (r.state == parse_state::complete) {
        on_complete(p);
        p.reset();
      }
    }
  }
  return true;
}

}  // namespace kbt::load::test_support
