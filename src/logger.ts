import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one per request and per state change. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'runbook-router' }, timestamp: pino.stdTimeFunctions.isoTime });
}
