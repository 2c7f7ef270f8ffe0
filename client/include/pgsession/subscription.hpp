// pgsession::subscription: the events of sessions that end, heard on a connection of its
// own, so that an application server can drop what it caches of them.
//
//     pgsession::subscription events{"host=127.0.0.1 dbname=app"};
//     for (;;) {
//         for (const pgsession::event &e : events.poll(std::chrono::seconds{1})) {
//             if (e.kind == pgsession::event_kind::missed)
//                 cache.clear();                          // anything may have ended
//             else if (e.kind == pgsession::event_kind::cleanup)
//                 cache.drop_expired();                   // by the sessions' expires_at
//             else
//                 cache.erase(e.id_sha256);               // keyed by token_sha256(token)
//         }
//     }
//
// With pgsession.notify_channel set on the server (it is empty, events off, by default:
// set it to 'pgsession' in postgresql.conf), the extension sends a notification on that
// channel when a transaction that ended sessions commits: one per session for
// session_delete, session_delete_by_sub, session_delete_by_handle and session_rotate
// (the old token), one per call for the cleanup.  A subscription LISTENs on that
// channel.  A subscription is not thread-safe: poll it from one thread.
#pragma once

#include <pgsession/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsession {

namespace detail {
class connection;
} // namespace detail

/// What an event reports.
enum class event_kind {
    /// A session was removed by session_delete (client::remove).
    remove,
    /// A session was removed by session_delete_by_sub (client::remove_by_sub), one
    /// event per session.
    remove_by_sub,
    /// A session was removed by session_delete_by_handle (client::remove_by_handle).
    remove_by_handle,
    /// A session got a new token (session_rotate): id_sha256 names the old one.
    rotate,
    /// A cleanup removed `removed` expired sessions (one event per call of the
    /// cleanup, not per session): drop what has expired by its expires_at.
    cleanup,
    /// The connection was lost and made again: events sent meanwhile were not heard,
    /// so anything cached may be stale.  Always the first event after reconnecting.
    missed,
    /// A notification on the channel that is not one of the extension's (anyone who
    /// can connect may NOTIFY), or one whose fields are out of shape (a negative count,
    /// a key that is not 64 lowercase hex digits); `payload` holds it.
    unknown,
};

/// One event, as poll() returns it.
struct event {
    /// What happened.
    event_kind kind = event_kind::unknown;
    /// The session's key: the SHA-256 of its token, 64 lowercase hex digits (see
    /// token_sha256()); empty for cleanup, missed and unknown.
    std::string id_sha256{};
    /// The session's handle (session_info::handle); empty for cleanup, missed and
    /// unknown.
    std::string handle{};
    /// The session's subject, empty when it had none (and for cleanup, missed,
    /// unknown).
    std::optional<std::string> sub{};
    /// How many sessions a cleanup removed; 0 for the other kinds.
    std::int64_t removed = 0;
    /// The notification's payload as the server sent it (JSON text); empty for missed.
    std::string payload{};
};

/// How a subscription connects, and what it listens to.
struct subscription_options {
    /// A libpq connection string or URI.  A direct connection (or a pooler in session
    /// mode): a pooler in transaction mode does not keep a LISTEN.
    std::string conninfo{};
    /// The channel: what the server's pgsession.notify_channel is set to (the setting is
    /// empty by default, and then nothing is sent).  1 to 63 bytes.
    std::string channel = "pgsession";
    /// Longest time to establish a connection (when constructing, and when poll()
    /// connects again).
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Longest time the server may take to answer the LISTEN after connecting.
    std::chrono::milliseconds call_timeout{std::chrono::seconds{30}};
};

/// A LISTEN on the events' channel, on a connection of its own.
///
/// The constructor connects and listens, so that a bad connection string shows at
/// once; events committed after it returns are delivered.  When poll() finds the
/// connection lost (a server restart, a terminated backend), it connects and listens
/// again at once (within connect_timeout); if that fails it throws connection_error and
/// the next poll() tries again.  After reconnecting, the first event is `missed`.  A
/// connection that dies silently (a network partition: no reset ever arrives) is only
/// noticed through TCP keepalives: set keepalives_idle (and keepalives_interval,
/// keepalives_count) in the connection string to bound that.  Events are hints, not
/// proof: any role that can connect may NOTIFY on the channel, so treat an event as a
/// reason to drop a cache entry, never to trust one.
class subscription {
  public:
    /// Listens on "pgsession" through the given connection string or URI.
    explicit subscription(std::string conninfo);
    /// Listens with the given options.  A channel that is empty, longer than 63 bytes or
    /// holds a NUL byte throws bad_input (22023).
    explicit subscription(subscription_options options);
    /// Closes the connection.
    ~subscription();
    /// Moves the connection and the undelivered events.
    subscription(subscription &&) noexcept;
    /// Moves the connection and the undelivered events; the old connection of *this is
    /// closed.
    subscription &operator=(subscription &&) noexcept;
    subscription(const subscription &) = delete;
    subscription &operator=(const subscription &) = delete;

    /// The events that have arrived, in the order their transactions committed; when
    /// there are none, waits for some until the deadline and returns them (empty when
    /// none came).  Connects first when the connection was lost (taking up to
    /// connect_timeout, whatever the deadline), and then returns a `missed` event
    /// first.  Throws connection_error when it cannot connect.
    std::vector<event> poll(std::chrono::steady_clock::time_point deadline);
    /// poll() waiting at most `timeout`.
    std::vector<event> poll(std::chrono::milliseconds timeout);
    /// poll(), handing each event to `on_event` in order; how many were handed.  When
    /// `on_event` throws, the exception propagates and the events after that one are
    /// kept for the next poll.
    std::size_t poll(std::chrono::steady_clock::time_point deadline,
                     const std::function<void(const event &)> &on_event);

    /// Whether the subscription holds a connection (it may still turn out to be lost).
    bool connected() const noexcept;

  private:
    void connect();
    void receive(std::chrono::steady_clock::time_point deadline);
    void take_notifications();

    subscription_options options_;
    std::unique_ptr<detail::connection> connection_;
    // Events received and not yet returned, oldest first.
    std::vector<event> pending_;
    // Whether the connection was lost since the last `missed` event was queued.
    bool lost_ = false;
};

/// The SHA-256 of a token as 64 lowercase hex digits: the key an event names a session
/// by (event::id_sha256), so that an application can key its cache by the same.
std::string token_sha256(std::string_view token);

} // namespace pgsession
