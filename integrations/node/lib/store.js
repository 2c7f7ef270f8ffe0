// PgSessionStore: an express-session store over pgsession's SQL functions.
//
// One statement per store call, each a single round trip:
//   get      session_get      (records the access when due: pgsession's sliding expiry)
//   set      session_save     (the whole session; the cookie's maxAge is the idle timeout)
//   destroy  session_delete
//   touch    nothing, or session_save when the cookie's maxAge changed (see touch below)
// all / length / clear are absent: the table keeps SHA-256 digests of the ids, so the
// sessions cannot be listed by id, and express-session itself never calls them.
'use strict';

const { Store } = require('express-session');
const { Connection, lookupId, milliseconds, settle, statement } = require('./common');

// On a session read from the database (the data get() returns, then the Session object
// express-session builds from it): the cookie maxAge it was saved with, which is the
// database's idle timeout for it.  A symbol: JSON.stringify, for...in and express-session's
// change detection all skip it, so it is never saved.
const LOADED = Symbol('pgsession.loaded');
// On a Session that may exist in the database under its id (read from it, or saved).
const STORED = Symbol('pgsession.stored');
// On a Session saved in this request: {sid, key, maxAge, at, done} of the last save
// (see #save).
const SAVED = Symbol('pgsession.saved');
const REPEAT_WINDOW_MS = 1000;

class PgSessionStore extends Store {
    /**
     * options.pool (a pg.Pool) or options.conString; options.schema, where the pgsession
     * functions are (default: the connection's search_path); options.sub(session), the
     * session's subject (user id) or null; options.absoluteTimeout, milliseconds from
     * creation (0: none; default pgsession.absolute_timeout); options.preparedStatements
     * (default true; false behind a pooler in transaction mode).
     */
    constructor(options = {}) {
        super();
        this.connection = new Connection(options, 'PgSessionStore');
        if (options.sub !== undefined && typeof options.sub !== 'function') {
            throw new TypeError('sub must be a function mapping a session to its subject');
        }
        this.subOf = options.sub || (() => null);
        const absolute = options.absoluteTimeout;
        if (absolute !== undefined && !(Number.isFinite(absolute) && absolute >= 0)) {
            throw new TypeError('absoluteTimeout must be a number of milliseconds (0 for none)');
        }
        this.absoluteTimeout = absolute === undefined ? null : milliseconds(absolute);
        const prepared = options.preparedStatements !== false;
        this.sql = {
            get: statement('SELECT data FROM FN.session_get($1::text)', options.schema, prepared),
            save: statement(
                'SELECT FN.session_save(id => $1::text, data => $2::jsonb, sub => $3::text, ' +
                    'idle_timeout => $4::interval, absolute_timeout => $5::interval)',
                options.schema,
                prepared,
            ),
            destroy: statement('SELECT FN.session_delete($1::text)', options.schema, prepared),
        };
    }

    /**
     * The session with this id, or null when there is none: unknown, expired, malformed
     * (session_get reads a malformed id as unknown), or not saved by an express-session
     * store (no cookie in its data).  Database errors are errors.
     */
    get(sid, callback) {
        return settle(this.#get(sid), callback);
    }

    async #get(sid) {
        if (!lookupId(sid)) {
            return null;
        }
        const rows = await this.connection.rows(this.sql.get, [sid]);
        const data = rows.length === 1 ? rows[0].data : null;
        if (!isObject(data) || !isObject(data.cookie)) {
            return null;
        }
        mark(data, LOADED, savedMaxAge(data.cookie));
        return data;
    }

    /** Saves the session whole: one session_save. */
    set(sid, session, callback) {
        return settle(this.#save(sid, session), callback);
    }

    async #save(sid, session) {
        mark(session, STORED, true);
        const sub = this.subOf(session);
        const maxAge = savedMaxAge(session.cookie);
        // express-session saves a regenerated session again at the end of the request
        // even when the handler saved it (its change tracking does not follow
        // regenerate), so a login that saves before answering, as it should, would cost
        // two identical saves.  A save of the same Session object, same id and same
        // content (the cookie's expiry aside, and its maxAge as sameMaxAge compares them)
        // less than a second after the last one is answered by that one.
        const key = contentKey(session, sub);
        const last = session[SAVED];
        if (
            last &&
            last.sid === sid &&
            last.key === key &&
            sameMaxAge(last.maxAge, maxAge) &&
            Date.now() - last.at < REPEAT_WINDOW_MS
        ) {
            return last.done;
        }
        const done = this.connection
            .rows(this.sql.save, [
                sid,
                JSON.stringify(session),
                typeof sub === 'string' ? sub : null,
                idleTimeout(maxAge),
                this.absoluteTimeout,
            ])
            .then(() => mark(session, LOADED, maxAge));
        mark(session, SAVED, { sid, key, maxAge, at: Date.now(), done });
        try {
            await done;
        } catch (err) {
            // A failed save answers no later one.
            if (session[SAVED] && session[SAVED].done === done) mark(session, SAVED, undefined);
            throw err;
        }
    }

    /** Removes the session: one session_delete (nothing to do for an unknown id). */
    destroy(sid, callback) {
        return settle(this.#destroy(sid), callback);
    }

    async #destroy(sid) {
        if (!lookupId(sid)) {
            return;
        }
        await this.connection.rows(this.sql.destroy, [sid]);
    }

    /**
     * express-session calls touch() at the end of every request that read a session and
     * did not change it, rolling cookie or not.  The database follows a rolling cookie by
     * itself: the get() of this very request ran session_get, which records the access
     * (and moves the idle expiry) whenever the last recorded one is older than
     * min(pgsession.touch_interval, half the idle timeout).  So touch() writes only when
     * the cookie's maxAge is no longer the one the session was saved with (the app set
     * req.session.cookie.maxAge, "remember me"): the idle timeout in the database has to
     * change with it, and a session_save of the session does that in one statement.
     */
    touch(sid, session, callback) {
        return settle(this.#touch(sid, session), callback);
    }

    async #touch(sid, session) {
        if (isObject(session) && LOADED in session && sameMaxAge(session[LOADED], savedMaxAge(session.cookie))) {
            return;
        }
        await this.#save(sid, session);
    }

    /** express-session's createSession, keeping what get() learnt on the Session object. */
    createSession(req, data) {
        const loaded = data[LOADED];
        const session = super.createSession(req, data);
        if (loaded !== undefined) {
            mark(session, LOADED, loaded);
            mark(session, STORED, true);
        }
        return session;
    }

    /**
     * express-session's regenerate (destroy the old id, generate a new session) without
     * the destroy when the old session never reached the database (it was generated in
     * this request and not saved: a login from a browser without a session), so that such
     * a login costs one statement, the save.
     */
    regenerate(req, callback) {
        if (req.session && req.session[STORED]) {
            return super.regenerate(req, callback);
        }
        process.nextTick(() => {
            this.generate(req);
            callback();
        });
        return undefined;
    }

    /** Ends the pool if the store made it (conString). */
    close() {
        return this.connection.end();
    }
}

function isObject(value) {
    return typeof value === 'object' && value !== null;
}

// Sets a hidden (symbol-keyed, non-enumerable) property on an object.
function mark(object, key, value) {
    if (isObject(object)) {
        Object.defineProperty(object, key, { value, configurable: true, writable: true });
    }
}

// The cookie's maxAge as express-session keeps it (originalMaxAge: what every request
// resets the cookie's expiry to), null for a browser-session cookie.
function savedMaxAge(cookie) {
    const ms = isObject(cookie) ? cookie.originalMaxAge : null;
    return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

// What a save writes, but for the cookie's expiry and maxAge (express-session moves both
// at every reset of the cookie; the database's expiry comes from the idle timeout).
function contentKey(session, sub) {
    const cookie = isObject(session.cookie) ? { ...(session.cookie.data || session.cookie) } : null;
    if (cookie) {
        delete cookie.expires;
        delete cookie.originalMaxAge;
    }
    const rest = JSON.stringify(session, function (key, value) {
        return this === session && key === 'cookie' ? undefined : value;
    });
    return JSON.stringify([sub === undefined ? null : sub, cookie]) + rest;
}

// Whether two maxAges are the same setting.  express-session recomputes originalMaxAge
// from two readings of the clock whenever it resets the cookie (Cookie's maxAge and
// expires setters), so the value saved can come back a millisecond or two short; an
// application that changes maxAge changes it by far more than 1%.
function sameMaxAge(saved, current) {
    if (saved === null || current === null) {
        return saved === current;
    }
    return Math.abs(saved - current) <= Math.max(10, Math.abs(saved) / 100);
}

// The idle timeout for a cookie's maxAge.  None (a browser-session cookie, which lasts
// until the browser closes, something the server never learns): NULL, so a new session
// takes pgsession.idle_timeout (1 hour by default, sliding with use) and a live one keeps
// its own.  A maxAge of 0 or less is an already expired cookie: 1 ms, expired at once.
function idleTimeout(maxAge) {
    return maxAge === null ? null : milliseconds(Math.max(1, maxAge));
}

module.exports = { PgSessionStore };
