const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const TRANSIENT_MESSAGES = /Connection terminated|not currently accepting connections|terminating connection|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down)|PGlite is closed|driver has already been destroyed/i;

/** True when the database could not answer (down, restarting, overloaded): the sender should retry, so the answer is 503. */
export function isTransientDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true;
  if (TRANSIENT_MESSAGES.test(error.message)) return true;
  const cause = (error as { cause?: unknown }).cause;
  if (cause && cause !== error) return isTransientDbError(cause);
  if (error instanceof AggregateError) return error.errors.some(isTransientDbError);
  return false;
}
