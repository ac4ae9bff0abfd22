import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

// PostgreSQL's text and jsonb cannot hold U+0000, nor half of a surrogate pair: a statement carrying one fails, on
// every retry, as a 500. Webhook bodies have them replaced (a delivery must be kept); what a person types is refused.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface Place {
  value: unknown;
  key: string | null;
  parent: Place | null;
}

const pathOf = (place: Place, key?: string): string => {
  const keys = key === undefined ? [] : [key];
  for (let p: Place | null = place; p && p.key !== null; p = p.parent) keys.push(p.key);
  return keys.reverse().join('.') || '(root)';
};

/** Where in a parsed body (`by`, `items.2.text`) the first key or string PostgreSQL cannot store is, or null. */
export function unstorableAt(body: unknown): string | null {
  // A stack of places linked to their parents, not recursion or copied paths: a body nested 200,000 deep must get its
  // 400 in linear time, not overflow the call stack.
  const stack: Place[] = [{ value: body, key: null, parent: null }];
  while (stack.length) {
    const place = stack.pop()!;
    const { value } = place;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return pathOf(place);
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      if (UNSTORABLE.test(key)) return pathOf(place, key);
      stack.push({ value: item, key, parent: place });
    }
  }
  return null;
}

/** Refuses a JSON or form body holding text the database cannot store, 400 naming the field, before any route runs. */
export function storableBody(): RequestHandler {
  return (req, _res, next) => {
    const found = unstorableAt(req.body);
    if (found === null) return next();
    const path = found.length > 200 ? `${found.slice(0, 200)}…` : found;
    const message = 'contains a NUL character or half of a surrogate pair, which cannot be stored';
    next(new HttpError(400, `invalid input: ${path}: ${message}`, { issues: [{ path, message }] }));
  };
}
