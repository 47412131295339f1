import { Client } from 'pg';

/** The message node-postgres rejects a query with when `query_timeout` passed. */
const READ_TIMEOUT = 'Query read timeout';

/** The socket of a pg client (not in its published types). */
interface WithSocket {
  readonly connection?: { readonly stream?: { destroy(): void } };
}

/**
 * A node-postgres client whose queries that pass `query_timeout` also take the connection down.
 *
 * pg's own `query_timeout` only rejects the caller's promise: the statement stays on the wire,
 * so the connection goes back to the pool answering nothing until the server does, and what it
 * had sent (a BEGIN, an INSERT of a transaction whose ROLLBACK was never sent) may still run
 * later, on a connection the next caller takes, inside a transaction that caller knows nothing
 * of. Destroying the socket ends all of that: the server rolls back whatever the connection
 * had open when it sees the close, the client errors its queued queries at once, and the pool
 * (told by the client's 'error') replaces it.
 *
 * What must stay true: a query that timed out may still have run on the server (a COMMIT sent
 * before the server stopped answering is read from the socket when it goes on). Callers answer
 * "try again" (503), never "it did not happen".
 */
export class DeadlineClient extends Client {
  // pg's overloads (promise, callback, submittable) are passed through as they are.
  override query(...args: unknown[]): never {
    const last = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        this.dropOnTimeout(error);
        (last as (e: unknown, r: unknown) => void)(error, result);
      };
    }
    const answer = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (answer instanceof Promise) answer.catch((error: unknown) => this.dropOnTimeout(error));
    return answer as never;
  }

  private dropOnTimeout(error: unknown): void {
    if (error instanceof Error && error.message === READ_TIMEOUT) {
      (this as unknown as WithSocket).connection?.stream?.destroy();
    }
  }
}

/** SQLSTATE classes and codes that mean "the server cannot serve this now", not a bad query. */
const UNAVAILABLE_STATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
]);

const UNAVAILABLE_MESSAGES = [
  READ_TIMEOUT,
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
];

const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * True for the errors a query fails with when PostgreSQL did not answer it in time or could not
 * be reached: the client's deadline (DeadlineClient), no free or new connection within
 * connectionTimeoutMillis, the server's statement_timeout, a server shutting down or starting,
 * a connection lost. TypeORM wraps the driver's error (QueryFailedError.driverError); both are
 * looked at. Whether a write ran is unknown: callers answer "try again".
 */
export function isPostgresUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (typeof code === 'string' && UNAVAILABLE_SOCKET_CODES.has(code)) return true;
    if (UNAVAILABLE_MESSAGES.includes(e.message)) return true;
    e = (e as { driverError?: unknown; cause?: unknown }).driverError ?? e.cause;
  }
  return false;
}
