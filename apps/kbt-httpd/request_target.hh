#pragma once
// The path of a request target, gathered as http_parser hands the target
// over in pieces, into a fixed buffer (no allocation per request):
// - origin-form "/p?q" (RFC 9112 §3.2.1) keeps "/p";
// - absolute-form "http://host/p?q" (RFC 9112 §3.2.2: a server MUST accept
//   it) keeps "/p", and "/" when the authority has no path after it;
// - anything else (asterisk-form "*", authority-form, garbage) is invalid.
// The query is dropped; a path longer than the buffer is remembered as too
// long (no served file has such a name). decode() then percent-decodes the
// path in place and says whether a ".." segment would leave the root.
#include <cstddef>
#include <string_view>

namespace kbt::httpd {

class request_target {
 public:
  static constexpr std::size_t kMaxPath = 512;

  void reset() noexcept {
    _state = state::start;
    _len = 0;
    _too_long = false;
    _decoded = false;
  }
  // The next piece of the target, in order.
  void append(std::string_view piece) noexcept;

  enum class verdict : unsigned char {
    ok,         // path() is the decoded path
    invalid,    // not origin- or absolute-form, or a bad %-escape: 400
    escapes,    // a ".." segment climbs above "/": 403
    too_long,   // longer than kMaxPath: no such file
  };
  // Once the whole target is in: finishes, decodes and checks it.
  verdict decode() noexcept;
  std::string_view path() const noexcept { return {_path, _len}; }
  // Appends `s` to the decoded path if it fits (e.g. "index.html").
  bool append_decoded(std::string_view s) noexcept;

 private:
  enum class state : unsigned char {
    start,      // nothing yet
    scheme,     // absolute-form: letters before ':'
    slash1,     // after "scheme:"
    slash2,     // after "scheme:/"
    authority,  // after "scheme://", until '/', '?' or '#'
    path,       // gathering the path
    query,      // after '?' or '#': ignored
    invalid,
  };
  void push(char c) noexcept;

  state _state = state::start;
  std::size_t _len = 0;
  bool _too_long = false;
  bool _decoded = false;
  char _path[kMaxPath];
};

}  // namespace kbt::httpd
