// pgsession::subscription: LISTEN on a connection of its own, the notifications parsed
// into events, and reconnecting (with a `missed` event) after a lost connection.  Every
// wait is a poll() bounded by a deadline, as for the client (see connection.hpp).
#include <pgsession/subscription.hpp>

#include "connection.hpp"
#include "raise.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <utility>

namespace pgsession {
namespace {

// The longest channel name NOTIFY and LISTEN take (NAMEDATALEN - 1 bytes); a longer
// identifier is truncated by the server, and would never match.
constexpr std::size_t max_channel_bytes = 63;

// An owned PGnotify.
struct notify_deleter {
    void operator()(PGnotify *notify) const noexcept {
        PQfreemem(notify);
    }
};

// A value of a flat JSON object: a string, or the text of a number or literal.
struct json_value {
    bool is_string = false;
    bool is_null = false;
    std::string text;
};

// Reads a flat JSON object of scalars (what the extension sends) into `fields`; false
// when the text is anything else.  Nested values are not accepted: no payload of ours
// has any.
class flat_json {
  public:
    explicit flat_json(std::string_view text) : text_(text) {}

    bool parse(std::map<std::string, json_value> &fields) {
        skip_space();
        if (!take('{'))
            return false;
        skip_space();
        if (take('}'))
            return at_end();
        for (;;) {
            std::string key;
            json_value value;
            skip_space();
            if (!string(key))
                return false;
            skip_space();
            if (!take(':'))
                return false;
            skip_space();
            if (!scalar(value))
                return false;
            fields[key] = std::move(value);
            skip_space();
            if (take('}'))
                return at_end();
            if (!take(','))
                return false;
        }
    }

  private:
    bool at_end() {
        skip_space();
        return at_ == text_.size();
    }

    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                      text_[at_] == '\n' || text_[at_] == '\r'))
            at_++;
    }

    bool take(char c) {
        if (at_ < text_.size() && text_[at_] == c) {
            at_++;
            return true;
        }
        return false;
    }

    // A number, true, false or null: its text as it stands.
    bool scalar(json_value &value) {
        if (at_ < text_.size() && text_[at_] == '"') {
            value.is_string = true;
            return string(value.text);
        }
        const std::size_t start = at_;
        while (at_ < text_.size() &&
               std::string_view(",} \t\r\n").find(text_[at_]) == std::string_view::npos)
            at_++;
        value.text = std::string(text_.substr(start, at_ - start));
        value.is_null = value.text == "null";
        return !value.text.empty();
    }

    // Four hex digits of a \u escape.
    bool hex4(unsigned &code) {
        if (text_.size() - at_ < 4)
            return false;
        auto [stop, error] = std::from_chars(text_.data() + at_, text_.data() + at_ + 4, code, 16);
        if (error != std::errc{} || stop != text_.data() + at_ + 4)
            return false;
        at_ += 4;
        return true;
    }

    // Appends a code point as UTF-8.
    static void append_utf8(std::string &out, unsigned code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    // A \u escape (a surrogate pair is two of them) after the backslash and 'u'.
    bool unicode_escape(std::string &out) {
        unsigned code = 0;
        if (!hex4(code))
            return false;
        if (code >= 0xD800 && code < 0xDC00) {
            unsigned low = 0;
            if (!take('\\') || !take('u') || !hex4(low) || low < 0xDC00 || low >= 0xE000)
                return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code < 0xE000) {
            return false;
        }
        append_utf8(out, code);
        return true;
    }

    // A string with its escapes resolved.
    bool string(std::string &out) {
        if (!take('"'))
            return false;
        while (at_ < text_.size()) {
            const char c = text_[at_++];
            if (c == '"')
                return true;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ == text_.size())
                return false;
            const char escaped = text_[at_++];
            switch (escaped) {
            case '"':
            case '\\':
            case '/':
                out += escaped;
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u':
                if (!unicode_escape(out))
                    return false;
                break;
            default:
                return false;
            }
        }
        return false;
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

// The kind an "event" name stands for.
std::optional<event_kind> kind_of(const std::string &name) {
    if (name == "delete")
        return event_kind::remove;
    if (name == "delete_by_sub")
        return event_kind::remove_by_sub;
    if (name == "delete_by_handle")
        return event_kind::remove_by_handle;
    if (name == "rotate")
        return event_kind::rotate;
    if (name == "cleanup")
        return event_kind::cleanup;
    return std::nullopt;
}

// Whether a text is a SHA-256 in hex as the server writes it: 64 lowercase hex digits.
bool is_sha256_hex(const std::string &text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// The event a payload describes; `unknown` when it is not one of the extension's.
event event_of(std::string payload) {
    event parsed;
    std::map<std::string, json_value> fields;
    std::optional<event_kind> kind;
    if (flat_json(payload).parse(fields) && fields["event"].is_string)
        kind = kind_of(fields["event"].text);
    if (kind == event_kind::cleanup) {
        // A count: a whole number, not negative; anything else is not a cleanup event.
        const std::string &count = fields["removed"].text;
        std::int64_t removed = 0;
        auto [stop, error] = std::from_chars(count.data(), count.data() + count.size(), removed);
        if (error == std::errc{} && stop == count.data() + count.size() && removed >= 0) {
            parsed.kind = *kind;
            parsed.removed = removed;
        }
    } else if (kind && fields["id_sha256"].is_string && is_sha256_hex(fields["id_sha256"].text) &&
               fields["handle"].is_string && (fields["sub"].is_string || fields["sub"].is_null)) {
        parsed.kind = *kind;
        parsed.id_sha256 = fields["id_sha256"].text;
        parsed.handle = fields["handle"].text;
        if (fields["sub"].is_string)
            parsed.sub = fields["sub"].text;
    }
    parsed.payload = std::move(payload);
    return parsed;
}

// Drops a notice: the server's last words on a connection it closes (a FATAL error
// while idle) reach the notice processor, which would print them on stderr; the loss is
// reported as a `missed` event instead.
void ignore_notice(void *, const char *) {}

} // namespace

subscription::subscription(std::string conninfo)
    : subscription(subscription_options{std::move(conninfo)}) {}

subscription::subscription(subscription_options options) : options_(std::move(options)) {
    const std::string &channel = options_.channel;
    if (channel.empty() || channel.size() > max_channel_bytes ||
        channel.find('\0') != std::string::npos)
        throw bad_input("22023", "invalid channel name",
                        "A channel is 1 to " + std::to_string(max_channel_bytes) +
                            " bytes, without NUL.");
    connect();
}

subscription::~subscription() = default;
subscription::subscription(subscription &&) noexcept = default;
subscription &subscription::operator=(subscription &&) noexcept = default;

bool subscription::connected() const noexcept {
    return connection_ != nullptr;
}

// Connects and listens; after a lost connection, queues `missed` once listening again.
void subscription::connect() {
    auto made = std::make_unique<detail::connection>(options_.conninfo, options_.connect_timeout);
    PQsetNoticeProcessor(made->native(), ignore_notice, nullptr);
    made->execute("LISTEN " + made->quote_identifier(options_.channel, "channel"),
                  detail::steady_clock::now() + options_.call_timeout);
    connection_ = std::move(made);
    if (lost_) {
        event missed;
        missed.kind = event_kind::missed;
        pending_.push_back(std::move(missed));
        lost_ = false;
    }
    take_notifications();
}

// Moves the notifications libpq has read into the pending events.
void subscription::take_notifications() {
    PGconn *conn = connection_->native();
    while (std::unique_ptr<PGnotify, notify_deleter> notify{PQnotifies(conn)})
        pending_.push_back(event_of(notify->extra ? notify->extra : ""));
}

// Waits until something arrives or the deadline passes, and queues what arrived.  A
// connection found lost is dropped and made again at once.
void subscription::receive(std::chrono::steady_clock::time_point deadline) {
    if (!connection_)
        connect();
    while (pending_.empty()) {
        PGconn *conn = connection_->native();
        bool up = true;
        try {
            if (connection_->wait_for(POLLIN, deadline) == 0)
                return;
            up = PQconsumeInput(conn) == 1 && PQstatus(conn) == CONNECTION_OK;
        } catch (const connection_error &) {
            up = false;
        }
        if (!up) {
            connection_.reset();
            lost_ = true;
            connect();
            return;
        }
        take_notifications();
    }
}

std::vector<event> subscription::poll(std::chrono::steady_clock::time_point deadline) {
    receive(deadline);
    return std::exchange(pending_, {});
}

std::vector<event> subscription::poll(std::chrono::milliseconds timeout) {
    return poll(std::chrono::steady_clock::now() + timeout);
}

std::size_t subscription::poll(std::chrono::steady_clock::time_point deadline,
                               const std::function<void(const event &)> &on_event) {
    receive(deadline);
    std::vector<event> events = std::exchange(pending_, {});
    std::size_t handed = 0;
    try {
        for (; handed < events.size(); handed++)
            on_event(events[handed]);
    } catch (...) {
        // The events after the one that threw wait for the next poll, before any newer.
        pending_.assign(std::make_move_iterator(events.begin() + handed + 1),
                        std::make_move_iterator(events.end()));
        throw;
    }
    return handed;
}

} // namespace pgsession
