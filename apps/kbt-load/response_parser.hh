#pragma once
// A minimal, incremental HTTP/1.x response parser for a load generator: it
// reads the status line, Content-Length, Connection and Transfer-Encoding,
// skips every other header and the body (a chunked one decoded on the fly,
// RFC 9112 §7.1: chunk extensions and trailers skipped, a chunk size may be
// split across pieces), and says where one response ends,
// so a response may arrive in any number of pieces and several may share
// one piece. Fixed memory (one bounded line buffer), no allocation.
//
//   http_response_parser p;
//   for (auto piece : data) {
//     while (!piece.empty()) {
//       auto r = p.feed(piece);
//       piece = piece.subspan(r.consumed);
//       if (r.state == parse_state::complete) { use(p.status()); p.reset(); }
//       if (r.state == parse_state::error) { ...; break; }
//     }
//   }
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kbt::load {

enum class parse_state : std::uint8_t {
  need_more,  // everything given was used; the response goes on
  complete,   // a whole response ends `consumed` bytes in
  error,      // not an HTTP/1.x response we can follow (see error())
};

enum class parse_error : std::uint8_t {
  none,
  bad_status_line,     // not "HTTP/1.x NNN ..."
  bad_content_length,  // not a decimal number, or two that differ
  bad_chunk,           // RFC 9112 §7.1: a chunk size that is not hex, or data not followed by CRLF
  header_too_long,     // the status line longer than the line buffer
};

struct feed_result {
  parse_state state = parse_state::need_more;
  std::size_t consumed = 0;
};

class http_response_parser {
 public:
  // Ready for the next response (after complete or error). The line buffer
  // is left as it is: only `_line_len` of it is ever read.
  void reset() noexcept;

  // The requests are HEAD: no response has a body, whatever its headers say
  // (RFC 9112 §6.3 item 1). Kept across reset().
  void set_no_body(bool v) noexcept { _no_body = v; }

  feed_result feed(std::span<const std::byte> bytes) noexcept;
  // The peer closed its side: a body that runs until the close ends here
  // (returns true: complete); anything else in progress is cut short.
  bool finish_at_eof() noexcept;
  // Nothing of a response has arrived yet.
  bool idle() const noexcept { return _phase == phase::status_line && _line_len == 0 && !_seen; }

  int status() const noexcept { return _status; }
  // The server will close after this response (Connection: close, or
  // HTTP/1.0 without keep-alive).
  bool closes() const noexcept { return _close; }
  parse_error error() const noexcept { return _error; }
  std::uint64_t body_bytes() const noexcept { return _body_seen; }

 private:
  enum class phase : std::uint8_t {
    status_line,
    headers,
    body,
    body_until_close,
    chunk_size,  // hex digits of a chunk-size line
    chunk_ext,   // the rest of a chunk-size line (extensions, BWS, CR): skipped to LF
    chunk_data,  // _body_left bytes of chunk data
    chunk_end,   // the CRLF after a chunk's data
    trailers,    // trailer lines after the last chunk, up to the empty line
    done,
    failed,
  };
  // Reads chunked framing from p[i..n); returns where it stopped and, when
  // not need_more, the state to return.
  std::size_t feed_chunked(const char* p, std::size_t i, std::size_t n, parse_state& s) noexcept;
  static constexpr std::size_t kLineMax = 256;  // longer header lines are cut (and ignored)

  // A whole line (without its '\n') has arrived; `cut` says it was longer
  // than the line buffer. Returns the next state.
  parse_state end_of_line(std::string_view line, bool cut) noexcept;
  parse_state end_of_headers() noexcept;
  parse_state fail(parse_error e) noexcept;
  void header_line(std::string_view line) noexcept;

  phase _phase = phase::status_line;
  parse_error _error = parse_error::none;
  bool _seen = false;
  bool _close = false;
  bool _http10 = false;
  bool _keep_alive = false;  // HTTP/1.0 with Connection: keep-alive
  bool _chunked = false;
  bool _has_length = false;
  bool _line_cut = false;
  bool _no_body = false;
  bool _chunk_digits = false;  // chunk_size: a hex digit has been read
  bool _chunk_cr = false;      // chunk_end: the CR has been read
  int _status = 0;
  std::uint64_t _content_length = 0;
  std::uint64_t _body_left = 0;
  std::uint64_t _body_seen = 0;
  std::size_t _line_len = 0;
  char _line[kLineMax]{};
};

}  // namespace kbt::load
