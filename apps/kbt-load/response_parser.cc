#include "response_parser.hh"

#include <algorithm>
#include <cstring>

namespace kbt::load {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// Does the comma-separated list `value` hold `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

void http_response_parser::reset() noexcept {
  _phase = phase::status_line;
  _error = parse_error::none;
  _seen = false;
  _close = false;
  _http10 = false;
  _keep_alive = false;
  _chunked = false;
  _has_length = false;
  _line_cut = false;
  _chunk_digits = false;
  _chunk_cr = false;
  _status = 0;
  _content_length = 0;
  _body_left = 0;
  _body_seen = 0;
  _line_len = 0;
}

feed_result http_response_parser::feed(std::span<const std::byte> bytes) noexcept {
  const char* p = reinterpret_cast<const char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  if (n > 0) _seen = true;
  while (i < n) {
    switch (_phase) {
      case phase::status_line:
      case phase::headers:
      case phase::trailers: {
        const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
        const std::size_t end = nl == nullptr ? n : static_cast<std::size_t>(nl - p);
        parse_state s = parse_state::need_more;
        if (_line_len == 0 && !_line_cut && nl != nullptr) {
          // The whole line is in this piece (the usual case): read it where
          // it lies instead of copying it into the line buffer.
          s = end_of_line(std::string_view(p + i, std::min(end - i, kLineMax)), end - i > kLineMax);
        } else {
          const std::size_t take = std::min(end - i, kLineMax - _line_len);
          std::copy_n(p + i, take, _line + _line_len);
          _line_len += take;
          if (take < end - i) _line_cut = true;
          if (nl != nullptr) {
            const bool cut = _line_cut;
            const std::size_t len = _line_len;
            _line_len = 0;
            _line_cut = false;
            s = end_of_line(std::string_view(_line, len), cut);
          }
        }
        i = nl == nullptr ? n : end + 1;
        if (s != parse_state::need_more) return {s, i};
        break;
      }
      case phase::body: {
        const std::uint64_t take = std::min<std::uint64_t>(_body_left, n - i);
        _body_left -= take;
        _body_seen += take;
        i += static_cast<std::size_t>(take);
        if (_body_left == 0) {
          _phase = phase::done;
          return {parse_state::complete, i};
        }
        break;
      }
      case phase::body_until_close:
        _body_seen += n - i;
        i = n;
        break;
      case phase::chunk_size:
      case phase::chunk_ext:
      case phase::chunk_data:
      case phase::chunk_end: {
        parse_state s = parse_state::need_more;
        i = feed_chunked(p, i, n, s);
        if (s != parse_state::need_more) return {s, i};
        break;
      }
      case phase::done:
        return {parse_state::complete, i};
      case phase::failed:
        return {parse_state::error, i};
    }
  }
  return {parse_state::need_more, i};
}

static int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::size_t http_response_parser::feed_chunked(const char* p, std::size_t i, std::size_t n,
                                               parse_state& s) noexcept {
  // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;
  // last-chunk = 1*"0" [ chunk-ext ] CRLF, then trailer lines and CRLF.
  // Byte by byte, so a size line may stop anywhere; the data is skipped whole.
  while (i < n) {
    const char c = p[i];
    switch (_phase) {
      case phase::chunk_size: {
        const int v = hex_value(c);
        if (v >= 0) {
          // More than 15 hex digits would not fit: no server sends 2^60 bytes.
          if (_body_left >> 56 != 0) {
            s = fail(parse_error::bad_chunk);
            return i;
          }
          _body_left = _body_left * 16 + static_cast<std::uint64_t>(v);
          _chunk_digits = true;
          ++i;
          break;
        }
        if (!_chunk_digits || (c != ';' && c != ' ' && c != '\t' && c != '\r' && c != '\n')) {
          s = fail(parse_error::bad_chunk);
          return i;
        }
        _phase = phase::chunk_ext;
        break;  // the same byte again, as part of the rest of the line
      }
      case phase::chunk_ext: {
        const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
        if (nl == nullptr) return n;
        i = static_cast<std::size_t>(nl - p) + 1;
        _chunk_digits = false;
        if (_body_left == 0) {
          _phase = phase::trailers;  // the last chunk: trailer lines, read as header lines
          return i;
        }
        _phase = phase::chunk_data;
        break;
      }
      case phase::chunk_data: {
        const std::uint64_t take = std::min<std::uint64_t>(_body_left, n - i);
        _body_left -= take;
        _body_seen += take;
        i += static_cast<std::size_t>(take);
        if (_body_left == 0) {
          _phase = phase::chunk_end;
          _chunk_cr = false;
        }
        break;
      }
      case phase::chunk_end:
        if (c == '\r' && !_chunk_cr) {
          _chunk_cr = true;
          ++i;
          break;
        }
        if (c != '\n') {
          s = fail(parse_error::bad_chunk);
          return i;
        }
        ++i;
        _phase = phase::chunk_size;
        break;
      default:
        return i;
    }
  }
  return i;
}

bool http_response_parser::finish_at_eof() noexcept {
  if (_phase == phase::body_until_close) {
    _phase = phase::done;
    return true;
  }
  return _phase == phase::done;
}

parse_state http_response_parser::fail(parse_error e) noexcept {
  _phase = phase::failed;
  _error = e;
  return parse_state::error;
}

parse_state http_response_parser::end_of_line(std::string_view line, bool cut) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (_phase == phase::status_line) {
    // "HTTP/1.1 200 OK": the version, one space, three digits, then a space or the end.
    if (cut) return fail(parse_error::header_too_long);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) || line[8] != ' ' ||
        !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
        (line.size() > 12 && line[12] != ' ')) {
      return fail(parse_error::bad_status_line);
    }
    _http10 = line[7] == '0';
    _status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    _phase = phase::headers;
    return parse_state::need_more;
  }
  if (_phase == phase::trailers) {
    // RFC 9112 §7.1.2: trailer fields are read and ignored; the empty line ends the message.
    if (!line.empty()) return parse_state::need_more;
    _phase = phase::done;
    return parse_state::complete;
  }
  if (line.empty()) return end_of_headers();
  if (!cut) header_line(line);  // a cut line is not one of the short ones we read
  return _phase == phase::failed ? parse_state::error : parse_state::need_more;
}

void http_response_parser::header_line(std::string_view line) noexcept {
  // Only Content-Length, Connection and Transfer-Encoding matter; most
  // lines (Server, Date, ...) stop at their first letter or name length.
  const char first = line.empty() ? '\0' : lower(line.front());
  if (first != 'c' && first != 't') return;
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;  // not a header: ignored, as browsers do
  const std::string_view name = line.substr(0, colon);
  if (name.size() != 14 && name.size() != 10 && name.size() != 17) return;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (iequals(name, "content-length")) {
    std::uint64_t v = 0;
    if (value.empty() || value.size() > 18) {
      fail(parse_error::bad_content_length);
      return;
    }
    for (char c : value) {
      if (!is_digit(c)) {
        fail(parse_error::bad_content_length);
        return;
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (_has_length && v != _content_length) {
      fail(parse_error::bad_content_length);  // RFC 9112 §6.3: differing lengths are an error
      return;
    }
    _has_length = true;
    _content_length = v;
  } else if (iequals(name, "connection")) {
    if (has_token(value, "close")) _close = true;
    if (has_token(value, "keep-alive")) _keep_alive = true;
  } else if (iequals(name, "transfer-encoding")) {
    if (has_token(value, "chunked")) _chunked = true;
  }
}

parse_state http_response_parser::end_of_headers() noexcept {
  if (_status >= 100 && _status < 200) {
    // An interim response (100 Continue): the real one follows.
    const bool seen = _seen;
    reset();
    _seen = seen;
    return parse_state::need_more;
  }
  if (_http10 && !_keep_alive) _close = true;
  // RFC 9112 §6.3: 204 and 304 have no body, whatever the headers say.
  if (_status == 204 || _status == 304 || _no_body) {
    _phase = phase::done;
    return parse_state::complete;
  }
  // RFC 9112 §6.3: chunked framing wins over any Content-Length.
  if (_chunked) {
    _body_left = 0;
    _chunk_digits = false;
    _phase = phase::chunk_size;
    return parse_state::need_more;
  }
  if (_has_length) {
    if (_content_length == 0) {
      _phase = phase::done;
      return parse_state::complete;
    }
    _body_left = _content_length;
    _phase = phase::body;
    return parse_state::need_more;
  }
  // No length: the body runs until the server closes (RFC 9112 §6.3 item 8).
  _close = true;
  _phase = phase::body_until_close;
  return parse_state::need_more;
}

}  // namespace kbt::load
