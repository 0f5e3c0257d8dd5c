#include "http_session.hh"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string_view>

namespace kbt::httpd {

const http_parser_settings http_session::kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &http_session::on_message_begin;
  s.on_url = &http_session::on_url;
  s.on_header_field = &http_session::on_header_field;
  s.on_header_value = &http_session::on_header_value;
  s.on_headers_complete = &http_session::on_headers_complete;
  s.on_body = &http_session::on_body;
  s.on_message_complete = &http_session::on_message_complete;
  return s;
}();

void http_session::start(api::connection c, const session_env& env,
                         session_timers& timers) noexcept {
  _conn = c;
  _env = &env;
  _timers = &timers;
  // nginx's client_header_timeout also bounds the wait for the first byte.
  _timers->arm(*this, wait_kind::header);
  http_parser_init(&_parser, HTTP_REQUEST);
  _parser.data = this;
  _pending = {};
  _pending_body = {};
  begin_request();
  _closing = false;
  _shut = false;
  _peer_fin = false;
}

void http_session::finish() noexcept {
  if (_timers != nullptr) _timers->cancel(*this);
  _pending = {};
  _pending_body = {};
  _conn = {};
}

void http_session::on_data(api::rx_data& d) noexcept {
  if (_closing) return;  // the last response said "close": the rest is dropped
  std::size_t offset = 0;
  for (std::span<const std::byte> seg : d) {
    if (seg.empty()) continue;  // the parser reads a zero length as end of input
    const std::size_t n = reading() ? parse(seg) : 0;
    offset += n;
    if (n < seg.size()) {
      // A response waits for room: what the parser has not reached stays
      // in the stack until then (reading paused in send_pending). Closing:
      // the rest is dropped.
      if (!_closing) d.put_back_from(offset);
      return;
    }
  }
}

void http_session::on_writable() noexcept {
  if (!pending()) return;
  send_pending();
  // The input put back comes again with the next on_data.
  if (reading()) _conn.resume_reading();
}

std::size_t http_session::parse(std::span<const std::byte> bytes) noexcept {
  const std::size_t n = http_parser_execute(
      &_parser, &kSettings, reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const auto err = static_cast<http_errno>(_parser.http_errno);
  if (err == HPE_PAUSED) {
    // Paused by on_message_complete: a response waits or we are closing.
    // Unpause now; reading() says when to call again.
    http_parser_pause(&_parser, 0);
    return n;
  }
  if (err != HPE_OK) {
    // RFC 9112 §6.3: a body whose length cannot be trusted (Content-Length
    // with Transfer-Encoding, a bad length or chunk size, a final coding
    // other than chunked) is refused and the connection closed; so is
    // everything else the parser or our callbacks reject.
    respond(_reject != status::ok ? _reject : status::bad_request, false, false);
    return bytes.size();
  }
  // http_parser reads "GET /path" CRLF as HTTP/0.9 (version 0.9) and then
  // waits for header fields that such a client never sends.
  if (_parser.http_major == 0 && _parser.http_minor == 9 && reading()) {
    respond_http09();
    return bytes.size();
  }
  // Stopping early without a pause is an upgrade (CONNECT, Upgrade:), which
  // on_message_complete has answered with "close"; keep that true.
  if (n < bytes.size() && reading()) respond(status::bad_request, false, false);
  return n;
}

void http_session::respond(status s, bool head, bool keep_alive) noexcept {
  if (s != status::ok && s != status::not_found && s != status::not_allowed &&
      s != status::forbidden) {
    keep_alive = false;  // a malformed or refused request: close after it
  }
  if (s == status::ok && _file != nullptr) {
    _pending = _env->files->head(*_file, _not_modified, keep_alive);
    if (!head && !_not_modified) _pending_body = std::as_bytes(std::span(_file->body));
  } else {
    _pending = _env->responses->get(s, head, keep_alive);
  }
  if (!keep_alive) _closing = true;
  send_pending();
}

void http_session::respond_http09() noexcept {
  const status st = static_cast<http_method>(_parser.method) == HTTP_GET ? resolve()
                                                                        : status::bad_request;
  if (st == status::ok && _file != nullptr) {
    _pending_body = std::as_bytes(std::span(_file->body));
  } else {
    _pending = _env->responses->body(st);
  }
  _closing = true;
  send_pending();
}

int http_session::reject(status s) noexcept {
  _reject = s;
  return -1;
}

void http_session::send_pending() noexcept {
  std::size_t taken = _pending.empty() ? 0 : _conn.send_copy(_pending);
  _pending = _pending.subspan(taken);
  if (_pending.empty() && !_pending_body.empty()) {
    const std::size_t n = _conn.send_copy(_pending_body);
    _pending_body = _pending_body.subspan(n);
    taken += n;
  }
  if (pending()) {
    // Backpressure: no more requests are read while this response waits,
    // and the peer must take some of it every send timeout.
    _conn.pause_reading();
    if (taken > 0 || _hook.kind != wait_kind::send) _timers->arm(*this, wait_kind::send);
  } else if (_closing) {
    _timers->cancel(*this);
  } else {
    _timers->arm(*this, wait_kind::idle);  // until the next request begins
  }
  if (!pending() && _closing && !_shut) {
    // The response is all queued: our FIN follows it. The connection stays
    // open for reading until the peer's FIN (done()), so that a request the
    // peer sent meanwhile does not turn our close into a reset; what comes
    // is read and dropped (on_data).
    _conn.shutdown();
    _shut = true;
    _conn.resume_reading();
  }
}

void http_session::begin_request() noexcept {
  _target.reset();
  _url_len = 0;
  _header_bytes = 0;
  _name_len = 0;
  _name_bad = false;
  _in_value = true;
  _kind = field_kind::other;
  _hosts = 0;
  _expect_len = 0;
  _inm_len = 0;
  _reject = status::ok;
  _status = status::ok;
  _file = nullptr;
  _not_modified = false;
}

status http_session::resolve() noexcept {
  _file = nullptr;
  _not_modified = false;
  switch (_target.decode()) {
    case request_target::verdict::invalid: return status::bad_request;
    case request_target::verdict::escapes: return status::forbidden;
    case request_target::verdict::too_long: return status::not_found;
    case request_target::verdict::ok: break;
  }
  if (_env->files == nullptr) return _target.path() == "/" ? status::ok : status::not_found;
  // A directory's index, as nginx's default "index index.html".
  if (_target.path().back() == '/' && !_target.append_decoded("index.html")) {
    return status::not_found;
  }
  const static_file* f = _env->files->files().find(_target.path());
  if (f == nullptr) return status::not_found;
  if (f->forbidden) return status::forbidden;
  _file = f;
  _not_modified = if_none_match(*f);
  return status::ok;
}

// RFC 9110 §13.1.2: "*" or a list of entity tags, compared weakly.
bool http_session::if_none_match(const static_file& f) const noexcept {
  if (_inm_len == 0 || _inm_len > kInmKeep) return false;
  std::string_view v(_inm, _inm_len);
  const auto trim = [](std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    return t;
  };
  if (trim(v) == "*") return true;
  while (!v.empty()) {
    const std::size_t comma = v.find(',');
    std::string_view tag = trim(v.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == f.etag) return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

int http_session::on_message_begin(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  s.begin_request();
  // A keep-alive connection's next request: its header has a timeout of
  // its own from its first byte (the first request's runs from the accept).
  if (s._hook.kind == wait_kind::idle) s._timers->arm(s, wait_kind::header);
  return 0;
}

// The header is in. A body, if one follows, must keep coming: each piece
// within the same timeout (nginx's client_body_timeout, between reads).
int http_session::on_headers_complete(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  // RFC 9110 §2.5: a 1.x message is read as the 1.1 we speak; another
  // major version is refused (§15.6.6).
  if (p->http_major != 1) return s.reject(status::version_not_supported);
  // RFC 9112 §3.2: a 1.1 request without Host is refused (more than one
  // was refused at the second).
  if (p->http_minor >= 1 && s._hosts == 0) return s.reject(status::bad_request);
  const auto method = static_cast<http_method>(p->method);
  status st = status::not_allowed;
  if (method == HTTP_GET || method == HTTP_HEAD) {
    st = s.resolve();
  } else if (s._target.decode() == request_target::verdict::invalid) {
    st = status::bad_request;
  }
  if (st == status::bad_request) return s.reject(st);
  s._status = st;
  s._timers->arm(s, wait_kind::header);
  // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for
  // an interim 100 before its body; answer at once, with 100 when the
  // request will be served, or with the final status (and a close, since
  // the body may or may not follow) when it will not.
  const bool has_body = (p->flags & F_CHUNKED) != 0 ||
                        (p->content_length != ULLONG_MAX && p->content_length > 0);
  const bool expects = s._expect_len == 12 && std::string_view(s._expect, 12) == "100-continue";
  if (expects && has_body && p->http_minor >= 1) {
    if (st != status::ok) {
      s.respond(st, method == HTTP_HEAD, false);
      http_parser_pause(p, 1);  // closing: the body is not read
      return 0;
    }
    // With no room for the interim answer, the client's own timeout
    // (curl: 1 s) sends the body anyway; the final answer is unchanged.
    if (s._conn.send_space() >= kContinue.size()) {
      s._conn.send_copy(std::as_bytes(std::span(kContinue.data(), kContinue.size())));
    }
  }
  return 0;
}

int http_session::on_body(http_parser* p, const char*, std::size_t) {
  auto& s = *static_cast<http_session*>(p->data);
  s._timers->arm(s, wait_kind::header);
  return 0;
}

int http_session::on_url(http_parser* p, const char* at, std::size_t len) {
  // The target may come in pieces (split across segments).
  auto& s = *static_cast<http_session*>(p->data);
  s._url_len += len;
  // nginx answers 414 for a request line past large_client_header_buffers.
  if (s._url_len > s._env->max_uri_bytes) return s.reject(status::uri_too_long);
  if (!s.count_header(len)) return s.reject(status::header_too_large);
  s._target.append(std::string_view(at, len));
  return 0;
}

namespace {

// RFC 9110 §5.6.2: tchar.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

// A name may come in pieces; a value callback (http_parser makes one even
// for an empty value) ends it.
int http_session::on_header_field(http_parser* p, const char* at, std::size_t len) {
  auto& s = *static_cast<http_session*>(p->data);
  if (s._in_value) {
    s._in_value = false;
    s._name_len = 0;
    s._name_bad = false;
    if (!s.count_header(4)) return s.reject(status::header_too_large);  // ": " CRLF
  }
  if (!s.count_header(len)) return s.reject(status::header_too_large);
  for (std::size_t i = 0; i < len; ++i) {
    // RFC 9112 §5.1: no whitespace between name and colon; http_parser
    // lets it into the name, so the name is checked here.
    if (!is_tchar(at[i])) s._name_bad = true;
    if (s._name_len < kNameKeep) s._name[s._name_len] = lower(at[i]);
    ++s._name_len;
  }
  return 0;
}

int http_session::on_header_value(http_parser* p, const char* at, std::size_t len) {
  auto& s = *static_cast<http_session*>(p->data);
  if (!s._in_value) {
    s._in_value = true;
    if (s._name_bad) return s.reject(status::bad_request);
    const std::string_view name(s._name, std::min(s._name_len, kNameKeep));
    s._kind = field_kind::other;
    if (s._name_len == name.size()) {
      if (name == "host") {
        s._kind = field_kind::host;
        // RFC 9112 §3.2: more than one Host is refused.
        if (++s._hosts > 1) return s.reject(status::bad_request);
      } else if (name == "expect") {
        s._kind = field_kind::expect;
      } else if (name == "if-none-match") {
        s._kind = field_kind::if_none_match;
      }
    }
  }
  if (!s.count_header(len)) return s.reject(status::header_too_large);
  const auto keep = [at, len](char* buf, std::size_t cap, std::size_t& n, bool fold) {
    for (std::size_t i = 0; i < len && n <= cap; ++i, ++n) {
      if (n < cap) buf[n] = fold ? lower(at[i]) : at[i];
    }
  };
  if (s._kind == field_kind::expect) keep(s._expect, kExpectKeep, s._expect_len, true);
  if (s._kind == field_kind::if_none_match) keep(s._inm, kInmKeep, s._inm_len, false);
  return 0;
}

int http_session::on_message_complete(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  // RFC 9112 §9.3: HTTP/1.1 persists unless "Connection: close"; HTTP/1.0
  // only with "Connection: keep-alive". http_should_keep_alive() reads both
  // from the Connection tokens the parser has already matched.
  const bool keep_alive = http_should_keep_alive(p) != 0 && p->upgrade == 0;
  s.respond(s._status, static_cast<http_method>(p->method) == HTTP_HEAD, keep_alive);
  if (!s.reading()) http_parser_pause(p, 1);  // the next request waits its turn
  return 0;
}

}  // namespace kbt::httpd
