#include "http_session.hh"

#include <algorithm>
#include <cstring>

namespace kbt::httpd {

const http_parser_settings http_session::kSettings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &http_session::on_message_begin;
  s.on_url = &http_session::on_url;
  s.on_headers_complete = &http_session::on_headers_complete;
  s.on_body = &http_session::on_body;
  s.on_message_complete = &http_session::on_message_complete;
  return s;
}();

void http_session::start(api::connection c, const response_table& responses,
                         session_timers& timers) noexcept {
  _conn = c;
  _responses = &responses;
  _timers = &timers;
  // nginx's client_header_timeout also bounds the wait for the first byte.
  _timers->arm(*this, wait_kind::header);
  http_parser_init(&_parser, HTTP_REQUEST);
  _parser.data = this;
  _pending = {};
  _url_len = 0;
  _closing = false;
  _shut = false;
  _peer_fin = false;
}

void http_session::finish() noexcept {
  if (_timers != nullptr) _timers->cancel(*this);
  _pending = {};
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
  if (_pending.empty()) return;
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
    respond(status::bad_request, false, false);
    return bytes.size();
  }
  // Stopping early without a pause is an upgrade (CONNECT, Upgrade:), which
  // on_message_complete has answered with "close"; keep that true.
  if (n < bytes.size() && reading()) respond(status::bad_request, false, false);
  return n;
}

void http_session::respond(status s, bool head, bool keep_alive) noexcept {
  if (s == status::bad_request) keep_alive = false;
  _pending = _responses->get(s, head, keep_alive);
  if (!keep_alive) _closing = true;
  send_pending();
}

void http_session::send_pending() noexcept {
  const std::size_t taken = _pending.empty() ? 0 : _conn.send_copy(_pending);
  _pending = _pending.subspan(taken);
  if (!_pending.empty()) {
    // Backpressure: no more requests are read while this response waits,
    // and the peer must take some of it every send timeout.
    _conn.pause_reading();
    if (taken > 0 || _hook.kind != wait_kind::send) _timers->arm(*this, wait_kind::send);
  } else if (_closing) {
    _timers->cancel(*this);
  } else {
    _timers->arm(*this, wait_kind::idle);  // until the next request begins
  }
  if (_pending.empty() && _closing && !_shut) {
    // The response is all queued: our FIN follows it. The connection stays
    // open for reading until the peer's FIN (done()), so that a request the
    // peer sent meanwhile does not turn our close into a reset; what comes
    // is read and dropped (on_data).
    _conn.shutdown();
    _shut = true;
    _conn.resume_reading();
  }
}

bool http_session::request_is_root() const noexcept {
  // "/" or "/?query"; anything longer than kUrlKeep is not "/" anyway.
  return _url_len >= 1 && _url[0] == '/' && (_url_len == 1 || _url[1] == '?');
}

int http_session::on_message_begin(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  s._url_len = 0;
  // A keep-alive connection's next request: its header has a timeout of
  // its own from its first byte (the first request's runs from the accept).
  if (s._hook.kind == wait_kind::idle) s._timers->arm(s, wait_kind::header);
  return 0;
}

// The header is in. A body, if one follows, must keep coming: each piece
// within the same timeout (nginx's client_body_timeout, between reads).
int http_session::on_headers_complete(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  s._timers->arm(s, wait_kind::header);
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
  if (s._url_len < kUrlKeep) {
    std::memcpy(s._url + s._url_len, at, std::min(len, kUrlKeep - s._url_len));
  }
  s._url_len += len;
  return 0;
}

int http_session::on_message_complete(http_parser* p) {
  auto& s = *static_cast<http_session*>(p->data);
  // RFC 9112 §9.3: HTTP/1.1 persists unless "Connection: close"; HTTP/1.0
  // only with "Connection: keep-alive". http_should_keep_alive() reads both
  // from the Connection tokens the parser has already matched.
  const bool keep_alive = http_should_keep_alive(p) != 0 && p->upgrade == 0;
  const auto method = static_cast<http_method>(p->method);
  const bool head = method == HTTP_HEAD;
  status st = status::not_allowed;
  if (method == HTTP_GET || head) st = s.request_is_root() ? status::ok : status::not_found;
  s.respond(st, head, keep_alive);
  if (!s.reading()) http_parser_pause(p, 1);  // the next request waits its turn
  return 0;
}

}  // namespace kbt::httpd
