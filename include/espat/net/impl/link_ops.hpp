// espat/net/impl/link_ops.hpp — a stream link's read and write: their steps on the client's
// executor, with the caller's handler type-erased (basic_link hands it over at initiation).
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (network.hpp includes this file).
#pragma once

#include <espat/net/network.hpp>

namespace espat::net {

// The caller's cancellation slot is only touched in the caller's context: here, at the
// initiation, and where the handler runs (the completion clears it). A cancellation is posted
// to the client's executor, where `cancel` finds the operation by its ticket, if it is still
// pending.
template <class Client>
void basic_network<Client>::connect_cancellation(espat::detail::erased_completion<espat::detail::io_result>& done,
                                                 const state_ptr& s, std::uint64_t ticket,
                                                 void (*cancel)(const state_ptr&, std::uint64_t))
{
    auto slot = done.cancellation_slot();
    if (!slot.is_connected()) return;
    slot.assign([ex = client_.get_executor(), weak = std::weak_ptr(s), ticket, cancel](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        asio::post(ex, [weak, ticket, cancel] {
            if (auto s = weak.lock()) cancel(s, ticket);
        });
    });
}

// ---- read ----

template <class Client>
void basic_network<Client>::start_read(state_ptr s, asio::mutable_buffer into, io_completion done)
{
    const std::uint64_t ticket = op_tickets_.fetch_add(1, std::memory_order_relaxed);
    connect_cancellation(*done, s, ticket, &basic_network::cancel_read);
    // Already on the client's strand (a read issued from the previous read's completion): at
    // once, as a post would queue behind the running function and cost the strand a heap
    // allocation per read.
    if (client_.get_executor().running_in_this_thread()) return begin_read(s, into, std::move(done), ticket, true);
    asio::post(client_.get_executor(),
               client_.with_arena([this, s = std::move(s), into, d = std::move(done), ticket]() mutable {
                   begin_read(s, into, std::move(d), ticket, false);
               }));
}

template <class Client>
void basic_network<Client>::begin_read(const state_ptr& s, asio::mutable_buffer into, io_completion done,
                                       std::uint64_t ticket, bool initiating)
{
    if (s->reader) {  // one read at a time, as on a socket
        done->complete({asio::error::already_started, 0});
        return;
    }
    s->reader.emplace();
    s->reader->into = into;
    s->reader->done = std::move(done);
    s->reader->ticket = ticket;
    read_step(this, s, initiating, {});
}

template <class Client>
void basic_network<Client>::read_step(basic_network* net, const state_ptr& s, bool initiating, std::error_code ec)
{
    auto& r = *s->reader;
    // The wait ran out with nothing arriving (a notification wakes it early): ask the module,
    // in case a notification or a CLOSED was lost on the wire.
    if (std::exchange(r.waited, false) && !ec && net) net->reconcile();
    if (r.cancelled) return finish_read(s, initiating, asio::error::operation_aborted, 0);
    const std::size_t want = r.into.size();
    if (want == 0) return finish_read(s, initiating, std::error_code{}, 0);
    // Passive data still announced by a link that lost its id can no longer be asked for; the
    // module sends CLOSED only after it was read, so none is left. A link without its id
    // receives nothing more: eof once its data is read.
    if (!s->attached) {
        if (s->rx.mode() == receive_mode::passive) s->rx.on_module_buffered(0);
        s->rx.on_closed();
    }
    switch (s->rx.next(want)) {
    case receive_state::step::copy: return finish_read(s, initiating, std::error_code{}, s->rx.read_into(r.into));
    case receive_state::step::eof: return finish_read(s, initiating, asio::error::eof, 0);
    case receive_state::step::error: return finish_read(s, initiating, s->rx.failure(), 0);
    case receive_state::step::fetch:
        // (A destroyed network has failed its links first; this only guards start_fetch.)
        if (!net) return finish_read(s, initiating, asio::error::operation_aborted, 0);
        net->start_fetch(s, want);
        break;
    case receive_state::step::wait:
        if (!net) return finish_read(s, initiating, asio::error::operation_aborted, 0);
        break;
    }
    r.waited = true;
    net->wait_for_read(s, r.ticket);
}

template <class Client>
void basic_network<Client>::wait_for_read(const state_ptr& s, std::uint64_t ticket)
{
    // A read idle for reconcile_after asks the module (see read_step); a notification, the
    // close or a failure wakes it early (link_state::notify), and so does a cancellation.
    arm_wake(s);
    s->wake.async_wait(asio::bind_executor(client_.get_executor(), client_.with_arena([this, life = lifetime(), s, ticket](std::error_code ec) {
        if (!s->reader || s->reader->ticket != ticket) return;  // a wait left behind by an earlier read
        read_step(life.expired() ? nullptr : this, s, false, ec);
    })));
}

template <class Client>
void basic_network<Client>::finish_read(const state_ptr& s, bool initiating, std::error_code ec, std::size_t n)
{
    io_completion done = std::move(s->reader->done);
    s->reader.reset();
    // Never inside the initiating call; from a later step on the caller's executor, at once
    // where that allows.
    if (initiating) return done->complete({ec, n});
    espat::detail::complete_dispatched(std::move(done), espat::detail::io_result{ec, n});
}

template <class Client>
void basic_network<Client>::cancel_read(const state_ptr& s, std::uint64_t ticket)
{
    if (!s->reader || s->reader->ticket != ticket) return;  // it completed first
    s->reader->cancelled = true;
    s->wake.cancel();  // the waiting step runs now and sees it
}

// ---- write ----

template <class Client>
void basic_network<Client>::start_write(state_ptr s, std::string data, io_completion done)
{
    const std::uint64_t ticket = op_tickets_.fetch_add(1, std::memory_order_relaxed);
    connect_cancellation(*done, s, ticket, &basic_network::cancel_write);
    if (client_.get_executor().running_in_this_thread())
        return begin_write(s, std::move(data), std::move(done), ticket, true);
    asio::post(client_.get_executor(),
               client_.with_arena([this, s = std::move(s), b = std::move(data), d = std::move(done), ticket]() mutable {
                   begin_write(s, std::move(b), std::move(d), ticket, false);
               }));
}

template <class Client>
void basic_network<Client>::begin_write(const state_ptr& s, std::string data, io_completion done,
                                        std::uint64_t ticket, bool initiating)
{
    if (s->writer) {  // one write at a time, as on a socket
        done->complete({asio::error::already_started, 0});
        return;
    }
    s->writer.emplace();
    s->writer->data = std::move(data);
    s->writer->done = std::move(done);
    s->writer->ticket = ticket;
    if (auto ec = write_refusal(s)) return finish_write(s, initiating, ec, 0);
    if (s->writer->data.empty()) return finish_write(s, initiating, std::error_code{}, 0);
    // Links take turns with their sends (async_send_turn); a cancellation while this waits
    // for its turn drops it, nothing sent.
    async_send_turn(asio::bind_cancellation_slot(
        s->writer->turn_cancelled.slot(),
        asio::bind_executor(client_.get_executor(), client_.with_arena([this, life = lifetime(), s](std::error_code turn) {
            write_turn(life.expired() ? nullptr : this, s, turn);
        }))));
}

template <class Client>
std::error_code basic_network<Client>::write_refusal(const state_ptr& s)
{
    if (s->rx.write_refusal()) return s->rx.write_refusal();
    if (!s->attached || s->rx.peer_closed()) return make_error_code(errc::link_closed);
    return {};
}

// The turn came (or the caller cancelled before it did).
template <class Client>
void basic_network<Client>::write_turn(basic_network* net, const state_ptr& s, std::error_code turn)
{
    if (!net) return finish_write(s, false, asio::error::operation_aborted, 0);
    if (turn) return finish_write(s, false, turn, 0);  // nothing was sent
    if (auto ec = write_refusal(s)) {                  // the link ended while this waited
        net->send_done();
        return finish_write(s, false, ec, 0);
    }
    auto& w = *s->writer;
    w.data.resize(std::min(w.data.size(), net->max_send_length()));
    // Handed over, the chunk is seen through (no cancellation slot): see async_send_turn.
    w.handed_over = true;
    net->client_.async_send_data(
        link_id::checked(s->id), std::move(w.data), net->link_call(),
        espat::as_expected(asio::bind_cancellation_slot(
            asio::cancellation_slot(),
            asio::bind_executor(net->client_.get_executor(),
                                net->client_.with_arena([net, life = net->lifetime(), s](result<std::size_t> r) {
                                    write_sent(life.expired() ? nullptr : net, s, std::move(r));
                                })))));
}

template <class Client>
void basic_network<Client>::write_sent(basic_network* net, const state_ptr& s, result<std::size_t> r)
{
    if (!net) return finish_write(s, false, r ? std::error_code{} : r.error(), r ? *r : 0);
    net->send_done();
    if (r) return finish_write(s, false, std::error_code{}, *r);
    const std::error_code ec = r.error();
    if (ec == make_error_code(errc::send_failed)) {
        // A hole in the stream: the link ends, after what it received before.
        net->end_after_send_failure(s, ec);
    } else if (ec == make_error_code(errc::cancelled) || ec == make_error_code(errc::timeout) ||
               ec == make_error_code(errc::busy) || ec == make_error_code(errc::protocol_error)) {
        // A send whose fate is unknown (busy: the module may still take the data when its late
        // prompt comes), or one the module did not take as written (a "Recv <n> bytes" that did
        // not match, an echo that was not the line): the link is finished.
        s->rx.fail(ec);
        net->close_in_background(s);
    }
    finish_write(s, false, ec, 0);
}

template <class Client>
void basic_network<Client>::finish_write(const state_ptr& s, bool initiating, std::error_code ec, std::size_t n)
{
    io_completion done = std::move(s->writer->done);
    s->writer.reset();
    if (initiating) return done->complete({ec, n});
    espat::detail::complete_dispatched(std::move(done), espat::detail::io_result{ec, n});
}

template <class Client>
void basic_network<Client>::cancel_write(const state_ptr& s, std::uint64_t ticket)
{
    if (!s->writer || s->writer->ticket != ticket || s->writer->handed_over) return;
    s->writer->turn_cancelled.emit(asio::cancellation_type::terminal);
}

}  // namespace espat::net
