#pragma once
// The RFC 6528 secret that lasts one boot, shared by every kbt process on
// the machine, as Linux's net_secret is shared by all its sockets.
//
// Why: ISN = M + F(4-tuple, key) and the per-tuple TSval offset (RFC 7323
// §5.4) grow with time for one tuple only while the key stays the same. A
// key drawn anew in each process makes the next process's SYN on a reused
// 4-tuple land anywhere below what the peer's TIME_WAIT remembers, and the
// peer then refuses it (RFC 6191 §2: it takes a SYN only with a higher
// TSval, or without timestamps a higher sequence number). A load generator
// run twice within 2 MSL lost 99.9% of its rate that way.
//
// The key lives in a file on /run, a tmpfs: it is gone at the next boot,
// like the CLOCK_MONOTONIC time base that M and TSval add (base/clock.hh).
#include <string>

#include "tcp/isn.hh"

namespace kbt::core {

// Where the key lives unless the caller says otherwise (the directory is
// made 0700, the file 0600: the key is what keeps ISNs unpredictable).
inline constexpr const char* kBootKeyPath = "/run/kbt/isn.key";

struct boot_key {
  tcp::siphash_key key{};
  // Empty: the key came from (or was just written to) the file. Otherwise
  // why not: the key is then a random one for this process only.
  std::string error;
};

// Reads the key at `path`, or creates it: 16 random bytes (libsodium)
// written to a temporary file in the same directory and linked into place,
// so two processes starting at once agree on one key. The parent
// directory is created (0700) when missing. Never throws: on any failure
// the key is random and `error` says what went wrong, for one warning.
[[nodiscard]] boot_key load_or_create_boot_key(const std::string& path);

}  // namespace kbt::core
