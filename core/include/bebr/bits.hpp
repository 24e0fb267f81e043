// Walking the set bits of a bitmap: the one loop that visits slots marked valid or selected.
//
//   bebr::for_each_set_bit(valid.data(), valid.size(), [&](std::size_t slot) { ... });
//   bebr::for_each_set_bit(mask, valid, words, [&](std::size_t slot) { ... });  // mask AND valid
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace bebr {

// Calls f(i) for every set bit i of `words` 64-bit words (bit i of the map is bit i % 64 of word
// i / 64), in ascending order.
template <class F>
inline void for_each_set_bit(const std::uint64_t* words, std::size_t n_words, F&& f) {
  for (std::size_t w = 0; w < n_words; ++w)
    for (std::uint64_t b = words[w]; b; b &= b - 1) f(64 * w + static_cast<std::size_t>(std::countr_zero(b)));
}

// The same over the bits set in both a and b.
template <class F>
inline void for_each_set_bit(const std::uint64_t* a, const std::uint64_t* b, std::size_t n_words, F&& f) {
  for (std::size_t w = 0; w < n_words; ++w)
    for (std::uint64_t x = a[w] & b[w]; x; x &= x - 1) f(64 * w + static_cast<std::size_t>(std::countr_zero(x)));
}

// The number of set bits of `words` 64-bit words.
inline std::size_t count_set_bits(const std::uint64_t* words, std::size_t n_words) noexcept {
  std::size_t n = 0;
  for (std::size_t w = 0; w < n_words; ++w) n += static_cast<std::size_t>(std::popcount(words[w]));
  return n;
}

// The highest set bit of `words` 64-bit words, if any.
inline std::optional<std::size_t> highest_set_bit(const std::uint64_t* words, std::size_t n_words) noexcept {
  for (std::size_t w = n_words; w-- > 0;)
    if (words[w]) return 64 * w + 63 - static_cast<std::size_t>(std::countl_zero(words[w]));
  return std::nullopt;
}

// The lowest clear bit of `words` 64-bit words, if any.
inline std::optional<std::size_t> lowest_clear_bit(const std::uint64_t* words, std::size_t n_words) noexcept {
  for (std::size_t w = 0; w < n_words; ++w)
    if (~words[w]) return 64 * w + static_cast<std::size_t>(std::countr_one(words[w]));
  return std::nullopt;
}

}  // namespace bebr
