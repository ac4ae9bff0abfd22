import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

// PostgreSQL's text and jsonb cannot hold U+0000, nor half of a surrogate pair: a statement carrying one fails, on
// every retry, as a 500. Webhook bodies have them replaced (a delivery must be kept); what a person types is refused.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where in a parsed body (`by`, `items.2.text`) the first key or string PostgreSQL cannot store is, or null. */
export function unstorableAt(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path.join('.') || '(root)' : null;
  if (!value || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = [...path, key];
    if (UNSTORABLE.test(key)) return at.join('.');
    const found = unstorableAt(item, at);
    if (found !== null) return found;
  }
  return null;
}

/** Refuses a JSON or form body holding text the database cannot store, 400 naming the field, before any route runs. */
export function storableBody(): RequestHandler {
  return (req, _res, next) => {
    const path = unstorableAt(req.body);
    if (path === null) return next();
    const message = 'contains a NUL character or half of a surrogate pair, which cannot be stored';
    next(new HttpError(400, `invalid input: ${path}: ${message}`, { issues: [{ path, message }] }));
  };
}
