// What the session store and the SessionManager share: the connection (a pg.Pool given or
// made), schema-qualified statement texts, and the callback / promise glue.
'use strict';

const crypto = require('node:crypto');

/** Quotes an SQL identifier (a schema name) the way PostgreSQL's quote_ident does. */
function quoteIdent(name) {
    if (typeof name !== 'string' || name === '' || name.includes('\0')) {
        throw new TypeError('schema must be a non-empty string without NUL characters');
    }
    return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Builds a query config for one of the pgsession functions: `text` with `FN.` replaced by
 * the schema-qualified prefix (or by nothing, to go by the connection's search_path), and
 * a statement name derived from the text when prepared statements are on, so that two
 * stores with different schemas on one pool never share a name.  The texts cast every
 * argument to the function's own type: an overload with other argument types (one planted
 * in a schema on the search_path) is then never a closer match.
 */
function statement(text, schema, prepared) {
    const prefix = schema === undefined || schema === null ? '' : quoteIdent(schema) + '.';
    const sql = text.replace(/\bFN\./g, prefix);
    const config = { text: sql };
    if (prepared) {
        config.name = 'pgsession_' + crypto.createHash('sha256').update(sql).digest('hex').slice(0, 16);
    }
    return config;
}

/**
 * The connection both classes use: options.pool (a pg.Pool, left to its owner) or
 * options.conString (a pool made here and ended by end()).
 */
class Connection {
    constructor(options, who) {
        if (options.pool) {
            this.pool = options.pool;
            this.ownsPool = false;
        } else if (options.conString) {
            const { Pool } = require('pg');
            this.pool = new Pool({ connectionString: options.conString });
            this.ownsPool = true;
            // An idle connection that the server closes (a restart, a terminated backend)
            // is reported here; with no listener Node would end the process.  The pool
            // drops that connection, and the next query opens another or reports its own
            // error.
            this.pool.on('error', () => {});
        } else {
            throw new TypeError(`${who} needs a pool (a pg.Pool) or a conString`);
        }
    }

    /** Runs a query config with these values; resolves to the rows. */
    async rows(config, values) {
        const result = await this.pool.query({ ...config, values });
        return result.rows;
    }

    /** Ends the pool if it was made here. */
    async end() {
        if (this.ownsPool) {
            await this.pool.end();
        }
    }
}

/**
 * Settles a promise into a Node-style callback when one is given (called outside the
 * promise chain, so that an exception thrown by the callback is not taken for a failure
 * of the operation), or returns the promise.
 */
function settle(promise, callback) {
    if (typeof callback !== 'function') {
        return promise;
    }
    promise.then(
        (value) => process.nextTick(callback, null, value),
        (err) => process.nextTick(callback, err),
    );
    return undefined;
}

/** An interval literal for a number of milliseconds. */
function milliseconds(ms) {
    return `${ms} milliseconds`;
}

/**
 * Whether an id can name a session at all: a string without NUL.  A tampered cookie of
 * "%00" decodes to one; no text parameter can carry it and no session has it, so such an
 * id reads as no session without asking the database (which would fail with 22021).
 */
function lookupId(id) {
    return typeof id === 'string' && !id.includes('\0');
}

module.exports = { Connection, lookupId, milliseconds, quoteIdent, settle, statement };
