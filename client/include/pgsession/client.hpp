// pgsession::client: the pgsession SQL API (session_create, session_get, ...) from C++,
// over one libpq connection.
//
//     pgsession::client sessions{"host=127.0.0.1 dbname=app"};
//     std::string token = sessions.create({.nonce = nonce, .state = state});
//     if (auto s = sessions.get(token)) { ... s->state ... }
//
// A client is not thread-safe: use one per thread, or a pgsession::pool
// (<pgsession/pool.hpp>) shared by many threads.
#pragma once

#include <pgsession/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsession {

/// A point in time as the server reported it, to the microsecond.
using time_point = std::chrono::system_clock::time_point;

namespace detail {
class connection;
class params;
struct standby_set;
/// A point on the client's monotonic clock, for deadlines.
using steady_time = std::chrono::steady_clock::time_point;
} // namespace detail

/// A live session, as get() returns it.  Fields that were never set (or were cleared)
/// are empty.
struct session {
    /// OpenID Connect nonce of the login in progress.
    std::optional<std::string> nonce{};
    /// OAuth 2.0 state of the login in progress.
    std::optional<std::string> state{};
    /// Access token obtained at login.
    std::optional<std::string> access_token{};
    /// PKCE code_verifier of the login in progress.
    std::optional<std::string> code_verifier{};
    /// Subject (user id) the session belongs to, once logged in.
    std::optional<std::string> sub{};
    /// Anything else the application keeps, as the text of a JSON object (as the server
    /// prints jsonb: keys sorted, whitespace normalized).
    std::optional<std::string> data{};
    /// When the session was created.
    time_point created_at{};
    /// When the session expires unless it is accessed again.
    time_point expires_at{};
    /// The last recorded access (recorded at most once per pgsession.touch_interval).
    time_point last_accessed_at{};
    /// When the session expires however often it is accessed; empty when never.
    std::optional<time_point> absolute_expires_at{};
};

/// Metadata of one of a user's sessions, as list() returns it (never tokens or secrets).
struct session_info {
    /// When the session was created.
    time_point created_at{};
    /// The last recorded access.
    time_point last_accessed_at{};
    /// When the session expires unless it is accessed again.
    time_point expires_at{};
    /// When the session expires however often it is accessed; empty when never.
    std::optional<time_point> absolute_expires_at{};
    /// The session's idle timeout.
    std::chrono::microseconds idle_timeout{};
    /// The session's handle, the text of a UUID: names the session for
    /// remove_by_handle(), stays the same across rotate(), and cannot resume it.
    std::string handle{};
    /// User agent of the device, as the application gave it; empty when not given.
    std::optional<std::string> user_agent{};
    /// Address of the device (the text of an inet, e.g. "192.0.2.1"); empty when not
    /// given.
    std::optional<std::string> ip{};
};

/// What create() stores in a new session; every member is optional.
struct create_options {
    /// The token to use; empty lets the server generate a 256-bit base64url token (the
    /// usual choice).  A given id must be 16 to 255 visible ASCII characters.
    std::optional<std::string> id{};
    /// OpenID Connect nonce (at most 255 characters).
    std::optional<std::string> nonce{};
    /// OAuth 2.0 state (at most 2048 characters).
    std::optional<std::string> state{};
    /// PKCE code_verifier (at most 255 characters).
    std::optional<std::string> code_verifier{};
    /// Access token (at most 16384 characters).
    std::optional<std::string> access_token{};
    /// Subject, the user id (at most 255 characters).
    std::optional<std::string> sub{};
    /// The text of a JSON object (at most 1 MiB as jsonb).
    std::optional<std::string> data{};
    /// Idle timeout; empty takes the server's pgsession.idle_timeout.
    std::optional<std::chrono::microseconds> idle_timeout{};
    /// Absolute timeout; empty takes pgsession.absolute_timeout, zero means none.
    std::optional<std::chrono::microseconds> absolute_timeout{};
    /// User agent of the device, for list() (at most 512 characters).
    std::optional<std::string> user_agent{};
    /// Address of the device, for list(): an IPv4 or IPv6 address as PostgreSQL's inet
    /// reads it ("192.0.2.1", "2001:db8::1"); anything else throws bad_input (22P02).
    std::optional<std::string> ip{};
};

/// What save() stores under an application-chosen id: the whole session, since a save
/// replaces every field (an absent one is stored empty).
struct save_options {
    /// The text of a JSON object (at most 1 MiB as jsonb); empty stores no data.
    std::optional<std::string> data{};
    /// Subject, the user id (at most 255 characters).
    std::optional<std::string> sub{};
    /// OpenID Connect nonce (at most 255 characters).
    std::optional<std::string> nonce{};
    /// OAuth 2.0 state (at most 2048 characters).
    std::optional<std::string> state{};
    /// PKCE code_verifier (at most 255 characters).
    std::optional<std::string> code_verifier{};
    /// Access token (at most 16384 characters).
    std::optional<std::string> access_token{};
    /// Idle timeout; empty keeps a live session's, or takes pgsession.idle_timeout for a
    /// new one.
    std::optional<std::chrono::microseconds> idle_timeout{};
    /// Absolute timeout, counted from the session's created_at; zero means none.  Empty
    /// keeps a live session's absolute expiry, or takes pgsession.absolute_timeout for a
    /// new one.
    std::optional<std::chrono::microseconds> absolute_timeout{};
    /// User agent of the device (at most 512 characters); empty keeps a live session's.
    std::optional<std::string> user_agent{};
    /// Address of the device, as create_options::ip; empty keeps a live session's.
    std::optional<std::string> ip{};
};

/// A session field, to name in update_options::clear.
enum class field { nonce, state, access_token, code_verifier, sub, data, user_agent, ip };

/// What update() changes: given members are set, fields listed in `clear` are emptied,
/// everything else is left alone.  A field may not be both given and cleared.
struct update_options {
    /// New nonce.
    std::optional<std::string> nonce{};
    /// New state.
    std::optional<std::string> state{};
    /// New code_verifier.
    std::optional<std::string> code_verifier{};
    /// New access token.
    std::optional<std::string> access_token{};
    /// New subject.
    std::optional<std::string> sub{};
    /// New data, the text of a JSON object; replaces the old data as a whole.
    std::optional<std::string> data{};
    /// New user agent of the device (at most 512 characters).
    std::optional<std::string> user_agent{};
    /// New address of the device, as create_options::ip.
    std::optional<std::string> ip{};
    /// Fields to empty.
    std::vector<field> clear{};
    /// New idle timeout.  Changing a timeout counts as an access: the expiry is
    /// recomputed from now.
    std::optional<std::chrono::microseconds> idle_timeout{};
    /// New absolute timeout, counted from the session's created_at; zero removes the
    /// limit.  Also counts as an access.
    std::optional<std::chrono::microseconds> absolute_timeout{};
};

/// Limits of one cleanup() run; empty members take the server's settings.
struct cleanup_options {
    /// Sessions removed per batch (pgsession.cleanup_batch_size when empty).
    std::optional<int> batch_size{};
    /// Most batches that remove something (until none is left when empty).
    std::optional<int> max_batches{};
};

/// How a client connects, and how long it waits.
struct client_options {
    /// A libpq connection string or URI ("host=... dbname=..." or "postgresql://...").
    /// client_encoding is always UTF8.
    std::string conninfo{};
    /// Longest time to establish a connection (over all hosts of the string).
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Longest time one call may wait for the server, after the connection is made; also
    /// the server's statement_timeout for the call, so the server abandons it too.
    std::chrono::milliseconds call_timeout{std::chrono::seconds{30}};
    /// Schema holding the session_* functions; empty finds where the extension is.
    std::string schema{};
    /// Whether to use named prepared statements; false behind a connection pooler in
    /// transaction mode (PgBouncer's pool_mode = transaction).
    ///
    /// true (the default): the statements are prepared when connecting (named
    /// pgsession_create, pgsession_get, ...) and the connection's statement_timeout is
    /// set to call_timeout for the whole session.  Calls skip parsing and planning:
    /// bench/client/prepared.sh measured get at about 2.8 times and create at about 1.4
    /// times the calls per second of unprepared ones on one loopback connection.  But
    /// the client needs a server connection of its own (a direct connection, or a
    /// pooler in session mode): behind a transaction-mode pooler, calls fail with
    /// prepared statement "pgsession_..." already exists (SQLSTATE 42P05) or does not
    /// exist (26000), and the statement_timeout would apply to other clients.
    ///
    /// false: every call is an unnamed statement of the extended protocol (values still
    /// travel as parameters, apart from the SQL), preceded in the same implicit
    /// transaction and round trip by set_config('statement_timeout', call_timeout,
    /// true).  The client leaves no state on the server connection: nothing it sets
    /// outlives the call's transaction, and every call (each statement of get_many and
    /// remove_many too) is a transaction of its own, which a transaction-mode pooler may
    /// run on any server connection.  Apart from speed, both modes behave alike.
    bool prepared_statements = true;
    /// Hot standbys to read from: libpq connection strings of streaming replicas of the
    /// primary that `conninfo` names.  Empty (the default): every call goes to the
    /// primary, as without standbys.
    ///
    /// get() and get_many() read from the first standby (in this order) that is up and
    /// within max_standby_lag, and go on to the primary, in one more round trip, for
    /// - a session the standby does not have, so that a session created a moment ago is
    ///   found (read-your-writes); a session unknown to both is reported unknown;
    /// - a session whose access looks due (its last one is older than the shorter of
    ///   pgsession.touch_interval and half its idle timeout): the primary's session_get
    ///   records it, by the server's own rule and without waiting, and its answer is
    ///   returned.  That is at most one such read per session per touch interval, and
    ///   it keeps a session that is only ever read on standbys alive;
    /// - every token, when no standby is up and within the bound.
    /// Every other call (create, update, remove, rotate, touch, list, ...) goes to the
    /// primary.  A standby that lags past the bound, or fails, is left alone for a
    /// second (a failing one twice as long after each further failure in a row, up to
    /// 30 s), then tried again; reads go to the next standby or the primary meanwhile.
    /// When the primary is down, reads go on from the standbys while their lag can be
    /// bounded (a session they do not have is reported unknown, a due access goes
    /// unrecorded): by the client's last sample of the primary, then by what a standby
    /// proves itself (its last replayed commit, or a recent message from the primary
    /// it has replayed); past the bound they throw connection_error.  Writes throw
    /// connection_error, and the constructor succeeds if a standby answers.  A
    /// standby's statements and settings are as the primary's (prepared_statements
    /// applies to them too).  docs/scaling.md has the details.
    std::vector<std::string> standbys{};
    /// How far behind the primary a standby's answer may be: a session deleted or
    /// rotated on the primary longer ago than this is never returned from a standby.
    /// A standby's position is read in the same statement as the session; the
    /// primary's is sampled at most every max_standby_lag / 4 (see docs/scaling.md,
    /// which also has the measurement behind the default).  Must be positive; to close
    /// the window entirely, read from the primary (no standbys).
    std::chrono::milliseconds max_standby_lag{std::chrono::seconds{1}};
};

/// A connection to a database with the pgsession extension, and the SQL API on it.
///
/// The constructor connects, so that a bad connection string shows at once.  A call
/// that loses the connection (or times out) throws connection_error and leaves the
/// client without a connection; the next call connects again.  Not thread-safe.
class client {
  public:
    /// Connects with the given connection string or URI and default timeouts.
    explicit client(std::string conninfo);
    /// Connects with the given options.
    explicit client(client_options options);
    /// Closes the connection.
    ~client();
    /// Moves the connection; the moved-from client may only be assigned to or destroyed.
    client(client &&) noexcept;
    /// Moves the connection; the old connection of *this is closed.
    client &operator=(client &&) noexcept;
    client(const client &) = delete;
    client &operator=(const client &) = delete;

    /// Creates a session and returns its token (session_create).
    std::string create(const create_options &options = {});
    /// Creates or replaces, whole, the session under an application-chosen id (16 to 255
    /// visible ASCII characters) and returns its expiry (session_save).  A live session
    /// keeps its created_at, and its timeouts unless given; an expired one is replaced
    /// by a new one.
    time_point save(std::string_view id, const save_options &options = {});
    /// The live session with this token, empty when unknown or expired (session_get).
    std::optional<session> get(std::string_view token);
    /// Records an access now; the new expiry, empty when unknown or expired.
    std::optional<time_point> touch(std::string_view token);
    /// Changes a live session; false when unknown or expired (session_update).
    bool update(std::string_view token, const update_options &options);
    /// Removes a session; false when it was not live (session_delete).
    bool remove(std::string_view token);
    /// Gives a live session a new token and returns it; the old one stops working.
    /// Empty when unknown or expired (session_rotate).
    std::optional<std::string> rotate(std::string_view token);
    /// Metadata of a user's live sessions, oldest first, each with its handle and
    /// device (session_list).
    std::vector<session_info> list(std::string_view sub);
    /// Removes every session of a user and returns how many were live (log out
    /// everywhere; session_delete_by_sub).
    std::int64_t remove_by_sub(std::string_view sub);
    /// Removes every session of a user but the one with the token `keep` (log out the
    /// other devices) and returns how many were live.  A `keep` that is unknown,
    /// expired, malformed or another user's keeps nothing.
    std::int64_t remove_by_sub(std::string_view sub, std::string_view keep);
    /// Removes the user's session with this handle (session_info::handle); false when
    /// no live session of `sub` has it, e.g. another user's (session_delete_by_handle).
    /// A handle that is not a UUID throws bad_input (22P02).
    bool remove_by_handle(std::string_view sub, std::string_view handle);
    /// Removes expired sessions now and returns how many (session_cleanup).
    std::int64_t cleanup(const cleanup_options &options = {});

    /// get() for many tokens in one round trip (libpq pipeline mode); the answers are
    /// in the order of the tokens.
    ///
    /// Each token's session_get runs in a transaction of its own (a pipeline Sync after
    /// each), so no lookup holds a row lock (a recorded access) while the next runs, and
    /// batches over the same sessions in any order cannot deadlock.  A token holding a
    /// NUL byte throws bad_input before anything is sent.  A statement that fails on the
    /// server fails alone: every other token is still looked up (and its access
    /// recorded); once all have run, the first failure in the order of the tokens is
    /// thrown (the other answers are lost) and the connection stays usable.  Unknown,
    /// expired (and, on servers that treat them so, malformed) tokens are no failure:
    /// their answer is empty.
    std::vector<std::optional<session>> get_many(const std::vector<std::string> &tokens);
    /// remove() for many tokens in one round trip; how many sessions were live.
    ///
    /// As get_many(): each removal commits on its own before the next runs, a NUL byte
    /// throws bad_input before anything is sent, and a removal that fails on the server
    /// fails alone: the others take effect, and then the first failure is thrown (so
    /// the count is lost; removing the same tokens again is harmless).
    std::int64_t remove_many(const std::vector<std::string> &tokens);

    /// Whether the client holds a connection (it may still turn out to be broken).
    bool connected() const noexcept;

  private:
    detail::connection &connection();
    detail::connection &connection(std::chrono::milliseconds connect_timeout);
    std::int64_t delete_by_sub(std::string_view sub, const std::optional<std::string> &keep);
    template <class Call> auto guarded(Call &&call);
    template <class Call>
    auto guarded(std::chrono::milliseconds connect_timeout, detail::steady_time deadline,
                 Call &&call);
    std::vector<std::optional<session>> routed_get(const std::vector<detail::params> &batch);
    void sample_primary(detail::steady_time deadline);

    client_options options_;
    std::unique_ptr<detail::connection> connection_;
    // The standbys and what the client knows of their lag; empty without standbys.
    std::unique_ptr<detail::standby_set> standbys_;
};

} // namespace pgsession
