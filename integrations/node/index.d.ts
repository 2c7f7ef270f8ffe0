// Type declarations for pgsession (hand-written; the package is plain CommonJS).
import { Store, SessionData } from 'express-session';
import { Pool } from 'pg';

/** Where the pgsession functions are, and how to reach the database. */
export interface ConnectionOptions {
    /** A pg.Pool, left to its owner. */
    pool?: Pool;
    /** A connection string: the object makes a pg.Pool and ends it on close() / shutdown(). */
    conString?: string;
    /** The schema the extension was created in; default: the connection's search_path. */
    schema?: string;
    /** Named prepared statements (default true); false behind a pooler in transaction mode. */
    preparedStatements?: boolean;
}

export interface PgSessionStoreOptions extends ConnectionOptions {
    /** The session's subject (user id) for pgsession's sub column, or null / undefined for none. */
    sub?: (session: SessionData) => string | null | undefined;
    /** Milliseconds from creation after which a session ends however active (0: never); default pgsession.absolute_timeout. */
    absoluteTimeout?: number;
}

/**
 * An express-session store: get = session_get, set = session_save, destroy = session_delete,
 * touch = nothing unless the cookie's maxAge changed. No all / length / clear.
 */
export class PgSessionStore extends Store {
    constructor(options: PgSessionStoreOptions);
    get(sid: string, callback: (err: any, session?: SessionData | null) => void): void;
    get(sid: string): Promise<SessionData | null>;
    set(sid: string, session: SessionData, callback?: (err?: any) => void): void;
    set(sid: string, session: SessionData): Promise<void>;
    destroy(sid: string, callback?: (err?: any) => void): void;
    destroy(sid: string): Promise<void>;
    touch(sid: string, session: SessionData, callback?: (err?: any) => void): void;
    touch(sid: string, session: SessionData): Promise<void>;
    /** Ends the pool if the store made it (conString). */
    close(): Promise<void>;
}

/** The original design's session, as getSession returns it. */
export interface Session {
    nonce?: string;
    state?: URLSearchParams;
    codeVerifier?: string;
    accessToken?: string;
    sub?: string;
    createdAt: Date;
    expiresAt: Date;
    lastAccessedAt: Date;
}

export interface SessionManagerOptions extends ConnectionOptions {
    /** Idle timeout in milliseconds; default pgsession.idle_timeout (1 hour). */
    idleTimeout?: number;
    /** Absolute timeout in milliseconds (0: none); default pgsession.absolute_timeout. */
    absoluteTimeout?: number;
}

/** The original design's SessionManager over pgsession; no cleanup timer (the extension cleans up). */
export class SessionManager {
    constructor(options: SessionManagerOptions);
    initialize(): Promise<void>;
    shutdown(): Promise<void>;
    createSession(
        sessionId: string,
        data: { nonce?: string; state?: URLSearchParams | string; codeVerifier?: string },
    ): Promise<void>;
    getSession(sessionId: string): Promise<Session | null>;
    /** Fields given are set; a field given as null is cleared. */
    updateSession(
        sessionId: string,
        updates: {
            accessToken?: string | null;
            sub?: string | null;
            nonce?: string | null;
            state?: URLSearchParams | string | null;
            codeVerifier?: string | null;
        },
    ): Promise<void>;
    deleteSession(sessionId: string): Promise<void>;
}
