// espat/proto/response_lines.hpp — the information and text lines of one response, kept back
// to back in one buffer with their bounds beside it.
//
// Two strings per line cost two allocations per line; one buffer costs none once it has grown,
// and the client hands a decoded response's buffer back to the session for the next command,
// so a command in steady state allocates nothing for its lines.
#pragma once

#include <espat/config.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::proto {

// An information line (+NAME:args) or a text line (name empty, args = the text), owned.
struct owned_line {
    std::string name;
    std::string args;
    friend bool operator==(const owned_line&, const owned_line&) = default;
};

// One line of a response_lines, valid while the response_lines lives and is not changed.
struct line_view {
    std::string_view name;
    std::string_view args;
    friend bool operator==(const line_view&, const line_view&) = default;
};

class response_lines {
    struct bounds {
        std::uint32_t name_at;
        std::uint32_t args_at;
        std::uint32_t end;
    };

public:
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = line_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = line_view;

        iterator() = default;
        line_view operator*() const { return (*lines_)[index_]; }
        line_view operator[](difference_type n) const { return (*lines_)[index_ + static_cast<std::size_t>(n)]; }
        iterator& operator++() { return ++index_, *this; }
        iterator operator++(int) { auto old = *this; return ++index_, old; }
        iterator& operator--() { return --index_, *this; }
        iterator operator--(int) { auto old = *this; return --index_, old; }
        iterator& operator+=(difference_type n) { return index_ += static_cast<std::size_t>(n), *this; }
        iterator& operator-=(difference_type n) { return index_ -= static_cast<std::size_t>(n), *this; }
        friend iterator operator+(iterator i, difference_type n) { return i += n; }
        friend iterator operator+(difference_type n, iterator i) { return i += n; }
        friend iterator operator-(iterator i, difference_type n) { return i -= n; }
        friend difference_type operator-(const iterator& a, const iterator& b)
        {
            return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.index_ == b.index_; }
        friend auto operator<=>(const iterator& a, const iterator& b) { return a.index_ <=> b.index_; }

    private:
        friend class response_lines;
        iterator(const response_lines* lines, std::size_t index) : lines_(lines), index_(index) {}
        const response_lines* lines_ = nullptr;
        std::size_t index_ = 0;
    };
    using const_iterator = iterator;
    using value_type = line_view;
    using size_type = std::size_t;

    response_lines() = default;
    response_lines(std::initializer_list<line_view> lines)
    {
        for (const line_view& l : lines) push_back(l.name, l.args);
    }

    void push_back(std::string_view name, std::string_view args)
    {
        // A response is bounded by the parser's line limit times the lines a command may
        // take; 4 GiB cannot be reached, but a wrap would corrupt views, so refuse it.
        if (text_.size() + name.size() + args.size() > UINT32_MAX) throw std::length_error("response_lines: too long");
        bounds b;
        b.name_at = static_cast<std::uint32_t>(text_.size());
        text_.append(name);
        b.args_at = static_cast<std::uint32_t>(text_.size());
        text_.append(args);
        b.end = static_cast<std::uint32_t>(text_.size());
        bounds_.push_back(b);
    }
    void push_back(const line_view& l) { push_back(l.name, l.args); }
    void push_back(const owned_line& l) { push_back(l.name, l.args); }

    // Forgets the lines and keeps the memory.
    void clear() noexcept
    {
        text_.clear();
        bounds_.clear();
    }

    [[nodiscard]] std::size_t size() const noexcept { return bounds_.size(); }
    [[nodiscard]] bool empty() const noexcept { return bounds_.empty(); }
    [[nodiscard]] line_view operator[](std::size_t i) const noexcept
    {
        const bounds& b = bounds_[i];
        const std::string_view all(text_);
        return {all.substr(b.name_at, b.args_at - b.name_at), all.substr(b.args_at, b.end - b.args_at)};
    }
    [[nodiscard]] line_view at(std::size_t i) const
    {
        if (i >= size()) throw std::out_of_range("response_lines::at");
        return (*this)[i];
    }
    [[nodiscard]] line_view front() const noexcept { return (*this)[0]; }
    [[nodiscard]] line_view back() const noexcept { return (*this)[size() - 1]; }
    [[nodiscard]] iterator begin() const noexcept { return {this, 0}; }
    [[nodiscard]] iterator end() const noexcept { return {this, size()}; }

    [[nodiscard]] std::vector<owned_line> to_owned() const
    {
        std::vector<owned_line> out;
        out.reserve(size());
        for (const line_view l : *this) out.push_back({std::string(l.name), std::string(l.args)});
        return out;
    }

    friend bool operator==(const response_lines& a, const response_lines& b)
    {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i] != b[i]) return false;
        return true;
    }
    friend bool operator==(const response_lines& a, const std::vector<owned_line>& b)
    {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i] != line_view{b[i].name, b[i].args}) return false;
        return true;
    }

private:
    std::string text_;
    std::vector<bounds> bounds_;
};

}  // namespace espat::proto
