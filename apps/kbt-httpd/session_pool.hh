#pragma once
// One core's HTTP sessions, all made at start-up (one per connection the
// core may hold, --max-conns), handed out and taken back through a free
// list: no heap allocation per connection.
#include <cstdint>
#include <memory>
#include <vector>

#include "http_session.hh"

namespace kbt::httpd {

class session_pool {
 public:
  explicit session_pool(std::uint32_t size)
      : _sessions(std::make_unique<http_session[]>(size)), _size(size) {
    _free.reserve(size);
    for (std::uint32_t i = size; i > 0; --i) _free.push_back(i - 1);
  }

  // A session, or nullptr when every one is in use.
  http_session* acquire() noexcept {
    if (_free.empty()) return nullptr;
    http_session* s = &_sessions[_free.back()];
    _free.pop_back();
    return s;
  }
  void release(http_session* s) noexcept {
    _free.push_back(static_cast<std::uint32_t>(s - _sessions.get()));  // within reserve()
  }
  std::uint32_t in_use() const noexcept { return _size - static_cast<std::uint32_t>(_free.size()); }

 private:
  std::unique_ptr<http_session[]> _sessions;
  std::uint32_t _size;
  std::vector<std::uint32_t> _free;
};

}  // namespace kbt::httpd
