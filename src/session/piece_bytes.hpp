// Piece buffers for downloads: page-aligned, so whole pages of a verified piece can be written
// with O_DIRECT (storage_options::direct_writes), and not zeroed when sized (the decoder's
// allocator, which this extends with the alignment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "peerwire/wire.hpp"

namespace peerwire::session_detail {

template <class T>
struct page_aligned_allocator : wire::detail::uninit_allocator<T> {
  template <class U>
  struct rebind {
    using other = page_aligned_allocator<U>;
  };
  static constexpr std::align_val_t alignment{4096};
  page_aligned_allocator() = default;
  template <class U>
  page_aligned_allocator(const page_aligned_allocator<U>&) noexcept {}  // NOLINT
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  // Unsized: clang does not enable sized deallocation by default.
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, alignment); }
  friend bool operator==(const page_aligned_allocator&, const page_aligned_allocator&) {
    return true;
  }
};

using piece_bytes = std::vector<std::uint8_t, page_aligned_allocator<std::uint8_t>>;

}  // namespace peerwire::session_detail
