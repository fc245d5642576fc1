// espat/client/detail/handler_arena.hpp — a few fixed blocks of memory per client for the
// handlers of its own operations (reads, writes, timer waits, strand posts) and for the
// completions of pending commands, so a command in steady state does not go to the heap.
//
// Asio takes an operation's memory from the handler's associated allocator. Its default
// recycles through a per-thread cache of two blocks per purpose, fewer than a command keeps
// alive at once (the strand's operation, the write, the timer, the completion), so most
// commands missed the cache and allocated. The client binds handler_allocator to its own
// handlers instead.
#pragma once

#include <espat/config.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace espat::detail {

class handler_arena {
public:
    static constexpr std::size_t block_size = 320;  // the largest of the client's own operations fits
    static constexpr std::size_t block_count = 16;

    handler_arena() = default;
    handler_arena(const handler_arena&) = delete;
    handler_arena& operator=(const handler_arena&) = delete;

    // Thread-safe: completions are made in callers' threads and freed on the client's strand.
    void* allocate(std::size_t size)
    {
        if (size <= block_size) {
            std::uint32_t used = used_.load(std::memory_order_relaxed);
            while (used != all_used) {
                const int free_block = std::countr_one(used);
                if (used_.compare_exchange_weak(used, used | (1u << free_block), std::memory_order_acquire,
                                                std::memory_order_relaxed))
                    return blocks_[static_cast<std::size_t>(free_block)].bytes;
            }
        }
        ++overflows_;  // more alive at once than blocks, or too large: the heap
        return ::operator new(size);
    }

    void deallocate(void* p, std::size_t /*size*/) noexcept
    {
        const auto* first = reinterpret_cast<const unsigned char*>(blocks_.data());
        const auto* byte = static_cast<const unsigned char*>(p);
        if (byte >= first && byte < first + sizeof(blocks_)) {
            const auto index = static_cast<std::size_t>(byte - first) / sizeof(block);
            used_.fetch_and(~(1u << index), std::memory_order_release);
            return;
        }
        ::operator delete(p);
    }

    // How often a request went to the heap (a diagnostic; relaxed, approximate across threads).
    [[nodiscard]] std::size_t overflows() const noexcept { return overflows_.load(std::memory_order_relaxed); }

private:
    static_assert(block_count <= 32);
    static constexpr std::uint32_t all_used = block_count == 32 ? ~0u : (1u << block_count) - 1;
    struct block {
        alignas(std::max_align_t) unsigned char bytes[block_size];
    };
    std::array<block, block_count> blocks_;
    std::atomic<std::uint32_t> used_{0};
    std::atomic<std::size_t> overflows_{0};
};

// The allocator bound to the client's handlers. It shares ownership of the arena: a handler
// that Asio destroys after the client is gone (an io_context torn down with operations
// pending) still returns its memory to a live arena.
template <class T>
class handler_allocator {
public:
    using value_type = T;

    explicit handler_allocator(std::shared_ptr<handler_arena> arena) noexcept : arena_(std::move(arena)) {}
    template <class U>
    handler_allocator(const handler_allocator<U>& other) noexcept : arena_(other.arena_)
    {
    }

    T* allocate(std::size_t n) { return static_cast<T*>(arena_->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { arena_->deallocate(p, n * sizeof(T)); }

    template <class U>
    friend bool operator==(const handler_allocator& a, const handler_allocator<U>& b) noexcept
    {
        return a.arena_ == b.arena_;
    }

private:
    template <class U>
    friend class handler_allocator;
    std::shared_ptr<handler_arena> arena_;
};

}  // namespace espat::detail
