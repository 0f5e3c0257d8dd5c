#pragma once
// Big-endian loads and stores at arbitrary (unaligned) byte offsets. Packet
// fields are copied out with memcpy rather than read through a cast pointer:
// headers are not always aligned and a cast would be undefined behaviour.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace kbt::wire {

template <typename T>
constexpr T byteswap_if_little(T v) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(v));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(v));
  } else {
    return static_cast<T>(__builtin_bswap64(v));
  }
}

template <typename T>
inline T load_be(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return byteswap_if_little(v);
}

template <typename T>
inline void store_be(std::byte* p, T v) noexcept {
  v = byteswap_if_little(v);
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace kbt::wire
