// Piece buffers for downloads: page-aligned, so whole pages of a verified piece can be written
// with O_DIRECT (storage_options::direct_writes), and not zeroed when sized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace peerwire::session_detail {

template <class T>
struct page_aligned_allocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{4096};
  page_aligned_allocator() = default;
  template <class U>
  page_aligned_allocator(const page_aligned_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  void deallocate(T* p, std::size_t n) noexcept { ::operator delete(p, n * sizeof(T), alignment); }
  // Default-initialise: a buffer is always filled by blocks before it is read.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  friend bool operator==(const page_aligned_allocator&, const page_aligned_allocator&) {
    return true;
  }
};

using piece_bytes = std::vector<std::uint8_t, page_aligned_allocator<std::uint8_t>>;

}  // namespace peerwire::session_detail
