import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { isTransientDbError } from '../db/transient-error.js';
import type { Logger } from '../logger.js';
import { HttpError } from './http-error.js';

export interface IssueView {
  path: string;
  message: string;
}

/** zod issues as `path: message` pairs a person can act on (`alerts.0.labels.severity: expected string, received number`). */
export function describeZodError(error: ZodError): IssueView[] {
  return error.issues.map((issue) => ({ path: issue.path.length ? issue.path.join('.') : '(root)', message: issue.message }));
}

/** The one place errors become status codes: bad input 400, known HTTP errors as they say, database down 503, anything else 500 without internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof ZodError) {
      const issues = describeZodError(error);
      res.status(400).json({ error: `invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues });
      return;
    }
    if (error instanceof HttpError) {
      for (const [k, v] of Object.entries(error.headers ?? {})) res.setHeader(k, v);
      res.status(error.status).json({ error: error.message, ...error.details });
      return;
    }
    const status = (error as { status?: unknown; type?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser errors (entity.too.large, entity.parse.failed) carry their own 4xx.
      res.status(status).json({ error: (error as Error).message });
      return;
    }
    if (isTransientDbError(error)) {
      logger.warn({ err: error, url: req.originalUrl }, 'database unavailable');
      res.setHeader('Retry-After', '5');
      res.status(503).json({ error: 'database unavailable, retry later' });
      return;
    }
    logger.error({ err: error, url: req.originalUrl }, 'unhandled error');
    res.status(500).json({ error: 'internal error' });
  };
}
