#include "request_target.hh"

#include <cstring>

namespace kbt::httpd {

namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void request_target::push(char c) noexcept {
  if (_len == kMaxPath) {
    _too_long = true;
    return;
  }
  _path[_len++] = c;
}

void request_target::append(std::string_view piece) noexcept {
  for (const char c : piece) {
    switch (_state) {
      case state::start:
        if (c == '/') {
          _state = state::path;
          push(c);
        } else if (is_alpha(c)) {
          _state = state::scheme;
        } else {
          _state = state::invalid;
        }
        break;
      case state::scheme:
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        if (c == ':') {
          _state = state::slash1;
        } else if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
          _state = state::invalid;
        }
        break;
      case state::slash1: _state = c == '/' ? state::slash2 : state::invalid; break;
      case state::slash2: _state = c == '/' ? state::authority : state::invalid; break;
      case state::authority:
        if (c == '/') {
          _state = state::path;
          push(c);
        } else if (c == '?' || c == '#') {
          _state = state::query;
          push('/');
        }
        break;
      case state::path:
        if (c == '?' || c == '#') {
          _state = state::query;
        } else {
          push(c);
        }
        break;
      case state::query:
      case state::invalid: return;
    }
  }
}

bool request_target::append_decoded(std::string_view s) noexcept {
  if (_len + s.size() > kMaxPath) return false;
  std::memcpy(_path + _len, s.data(), s.size());
  _len += s.size();
  return true;
}

request_target::verdict request_target::decode() noexcept {
  if (_state == state::authority) {
    push('/');  // "http://host" names the root
    _state = state::path;
  }
  if (_state != state::path && _state != state::query) return verdict::invalid;
  if (_too_long) return verdict::too_long;
  if (_decoded) return verdict::ok;
  // RFC 3986 §2.1: %XX; decoding never lengthens the path, so in place.
  std::size_t out = 0;
  for (std::size_t i = 0; i < _len; ++i) {
    char c = _path[i];
    if (c == '%') {
      if (i + 2 >= _len) return verdict::invalid;
      const int hi = hex_value(_path[i + 1]);
      const int lo = hex_value(_path[i + 2]);
      if (hi < 0 || lo < 0) return verdict::invalid;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return verdict::invalid;
      i += 2;
    }
    _path[out++] = c;
  }
  _len = out;
  _decoded = true;
  // A ".." segment is refused rather than resolved (RFC 3986 §5.2.4
  // would clamp it at the root): the client asked for something outside
  // or around what is served, and nginx refuses such paths too.
  std::size_t seg = 1;  // _path[0] is '/'
  for (std::size_t i = 1; i <= _len; ++i) {
    if (i < _len && _path[i] != '/') continue;
    if (std::string_view(_path + seg, i - seg) == "..") return verdict::escapes;
    seg = i + 1;
  }
  return verdict::ok;
}

}  // namespace kbt::httpd
