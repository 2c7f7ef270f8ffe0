// SessionManager: the original design's session API (createSession, getSession,
// updateSession, deleteSession, initialize, shutdown) over pgsession's SQL functions, so
// that a backend written against it switches by replacing its SessionEntity.
//
// No cleanup timer: the original SessionEntity deleted expired sessions every 15 minutes
// from the application; here pgsession's cleanup worker (or pg_cron running
// session_cleanup_in_batches) removes them, and an expired session is never returned
// even before it is removed.
'use strict';

const { Connection, lookupId, milliseconds, statement } = require('./common');

// The fields of the original design's session and their columns in pgsession.
const FIELDS = [
    ['nonce', 'nonce'],
    ['state', 'state'],
    ['codeVerifier', 'code_verifier'],
    ['accessToken', 'access_token'],
    ['sub', 'sub'],
];

class SessionManager {
    /**
     * options.pool (a pg.Pool) or options.conString; options.schema, where the pgsession
     * functions are (default: the connection's search_path); options.idleTimeout and
     * options.absoluteTimeout in milliseconds (default: pgsession.idle_timeout, 1 hour as
     * the original design's SESSION_DURATION_HOURS, and pgsession.absolute_timeout).
     */
    constructor(options = {}) {
        this.connection = new Connection(options, 'SessionManager');
        this.schema = options.schema;
        this.idleTimeout = optionalMilliseconds(options.idleTimeout, 'idleTimeout');
        this.absoluteTimeout = optionalMilliseconds(options.absoluteTimeout, 'absoluteTimeout');
        const prepared = options.preparedStatements !== false;
        const fn = (text) => statement(text, options.schema, prepared);
        this.sql = {
            create: fn(
                'SELECT FN.session_create(id => $1::text, nonce => $2::text, state => $3::text, ' +
                    'code_verifier => $4::text, idle_timeout => $5::interval, absolute_timeout => $6::interval)',
            ),
            get: fn(
                'SELECT nonce, state, code_verifier, access_token, sub, created_at, expires_at, ' +
                    'last_accessed_at FROM FN.session_get($1::text)',
            ),
            update: fn(
                'SELECT FN.session_update(id => $1::text, nonce => $2::text, state => $3::text, ' +
                    'code_verifier => $4::text, access_token => $5::text, sub => $6::text, clear => $7::text[])',
            ),
            delete: fn('SELECT FN.session_delete($1::text)'),
        };
    }

    /**
     * Checks that the pgsession functions can be reached; the original started its
     * cleanup timer here.  Rejects with the database's error (42883 when pgsession is not
     * installed where this manager looks).
     */
    async initialize() {
        try {
            await this.connection.rows(this.sql.get, ['']);
        } catch (err) {
            if (err.code === '42883') {
                const where = this.schema === undefined ? 'the search_path' : `schema "${this.schema}"`;
                err.message = `pgsession is not installed in ${where} of this database ` +
                    `(CREATE EXTENSION pgsession): ${err.message}`;
            }
            throw err;
        }
    }

    /** Ends the pool if the manager made it (conString); no timer to stop. */
    async shutdown() {
        await this.connection.end();
    }

    /**
     * Creates the session with the application's id (16 to 255 cookie-octets).  Rejects
     * with 23505 (unique_violation) when a live session has this id.
     */
    async createSession(sessionId, { nonce, state, codeVerifier } = {}) {
        // session_create makes up a token for a NULL id, which nobody would know here.
        if (typeof sessionId !== 'string') {
            throw new TypeError('createSession needs the session id (a string)');
        }
        await this.connection.rows(this.sql.create, [
            sessionId,
            text(nonce),
            text(state),
            text(codeVerifier),
            this.idleTimeout,
            this.absoluteTimeout,
        ]);
    }

    /**
     * The live session, or null when it is unknown, expired or deleted (or the id is
     * malformed).  state comes back as URLSearchParams, as the original kept it; fields
     * never set are undefined.
     */
    async getSession(sessionId) {
        if (!lookupId(sessionId)) {
            return null;
        }
        const rows = await this.connection.rows(this.sql.get, [sessionId]);
        if (rows.length === 0) {
            return null;
        }
        const row = rows[0];
        const session = {};
        for (const [field, column] of FIELDS) {
            if (row[column] !== null) {
                session[field] = row[column];
            }
        }
        if (session.state !== undefined) {
            session.state = new URLSearchParams(session.state);
        }
        session.createdAt = row.created_at;
        session.expiresAt = row.expires_at;
        session.lastAccessedAt = row.last_accessed_at;
        return session;
    }

    /**
     * Changes the fields given (accessToken, sub; also nonce, state, codeVerifier); a
     * field given as null is cleared.  An unknown or expired session is left alone.
     */
    async updateSession(sessionId, updates = {}) {
        if (!lookupId(sessionId)) {
            return;
        }
        const values = [sessionId];
        const clear = [];
        for (const [field, column] of FIELDS) {
            values.push(text(updates[field]));
            if (updates[field] === null) {
                clear.push(column);
            }
        }
        values.push(clear.length > 0 ? clear : null);
        await this.connection.rows(this.sql.update, values);
    }

    /** Removes the session (nothing happens for an unknown one). */
    async deleteSession(sessionId) {
        if (!lookupId(sessionId)) {
            return;
        }
        await this.connection.rows(this.sql.delete, [sessionId]);
    }
}

// A field's text: URLSearchParams (the original design's state) as its query string.
function text(value) {
    if (value === undefined || value === null) {
        return null;
    }
    return value instanceof URLSearchParams ? value.toString() : String(value);
}

function optionalMilliseconds(value, name) {
    if (value === undefined) {
        return null;
    }
    if (!(Number.isFinite(value) && value >= 0)) {
        throw new TypeError(`${name} must be a number of milliseconds`);
    }
    return milliseconds(value);
}

module.exports = { SessionManager };
