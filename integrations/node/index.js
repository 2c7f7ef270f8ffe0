// pgsession for Node.js: an express-session store and the original design's
// SessionManager, both over the pgsession PostgreSQL extension's SQL functions.
'use strict';

const { PgSessionStore } = require('./lib/store');
const { SessionManager } = require('./lib/manager');

module.exports = { PgSessionStore, SessionManager };
