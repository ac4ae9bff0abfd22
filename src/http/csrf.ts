// Cross-site request forgery protection for everything a browser can be tricked into sending.
//
// HTML forms (every POST outside /api and /webhooks): a double-submit token. The first page view sets a random
// cookie (HttpOnly, SameSite=Lax; `__Host-` prefixed and Secure over HTTPS, so no sibling subdomain can plant it)
// and every form carries the same value in a hidden `_csrf` field; a POST whose field does not match its cookie gets
// 403 and changes nothing. On top of that, a POST that the browser itself labels cross-site or same-site (Fetch
// Metadata `Sec-Fetch-Site`) or whose `Origin` is another host is refused, whatever the token. No server-side state and
// no shared secret: any replica checks any form. Lax rather than Strict: opening an incident from a Slack link is a
// cross-site navigation, and with Strict it would arrive without the cookie, get a new token and break the forms of
// the responder's other open tabs; Lax still never sends the cookie with a cross-site POST.
//
// The JSON API (/api): no token, because a write must be `Content-Type: application/json`. A cross-site page cannot
// send that: HTML forms only send urlencoded, multipart or text/plain bodies, and fetch/XHR with a JSON body needs a
// CORS preflight, which this service never grants (it sends no Access-Control-Allow-* headers). Basic credentials and
// proxy session cookies ARE sent cross-site automatically, so the content type, not the credential, is what stops a
// forged write; the same Fetch Metadata / Origin checks are applied to API writes as a second layer. Scripts and CLIs
// (curl, CI) send neither header and only need the JSON content type.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';

export const CSRF_FIELD = '_csrf';
const COOKIE = 'rr_csrf';
const SECURE_COOKIE = '__Host-rr_csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const JSON_TYPE = /^\s*application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'express-serve-static-core' {
  interface Locals {
    /** The value every form posts back in its hidden `_csrf` field. */
    csrfToken?: string;
  }
}

export type CsrfFailure = (req: Request, res: Response, reason: string) => void;

export const isUnsafeMethod = (method: string) => !SAFE_METHODS.has(method.toUpperCase());

function readCookie(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Refuses a state-changing request that a browser marks as coming from another site. Returns the reason, or null when
 * the request may proceed. Requests without these headers (non-browser clients) pass; the token or content type decides.
 */
export function crossSiteReason(req: Request, publicUrl: string): string | null {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `the browser reports a ${site} request`;
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return `Origin ${origin === 'null' ? 'null (opaque)' : JSON.stringify(origin)} is not this site`;
    }
    const allowed = new Set([req.headers.host, new URL(publicUrl).host]);
    // Behind a proxy on loopback (trust proxy), the public host arrives as X-Forwarded-Host.
    const forwarded = req.get('x-forwarded-host');
    if (forwarded && req.app.get('trust proxy fn')?.(req.socket.remoteAddress, 0)) allowed.add(forwarded.split(',')[0]!.trim());
    if (!allowed.has(host)) return `Origin ${origin} is not this site`;
  }
  return null;
}

/** Issues the form token (res.locals.csrfToken) on every request and checks it on every unsafe one. */
export function formCsrf(options: { publicUrl: string; onFailure: CsrfFailure }): RequestHandler {
  return (req, res, next) => {
    const name = req.secure ? SECURE_COOKIE : COOKIE;
    const existing = readCookie(req, name);
    const valid = existing !== null && TOKEN.test(existing) ? existing : null;
    const token = valid ?? randomBytes(32).toString('base64url');
    if (!valid) {
      res.append('Set-Cookie', `${name}=${token}; Path=/; HttpOnly; SameSite=Lax${req.secure ? '; Secure' : ''}`);
    }
    res.locals.csrfToken = token;
    if (!isUnsafeMethod(req.method)) return next();

    const crossSite = crossSiteReason(req, options.publicUrl);
    if (crossSite) return options.onFailure(req, res, crossSite);
    const sent = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    if (!valid) return options.onFailure(req, res, 'no form token cookie (cookies blocked, or the page was not loaded from this site)');
    if (typeof sent !== 'string' || sent.length !== valid.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(valid))) {
      return options.onFailure(req, res, 'the form token is missing or does not match');
    }
    next();
  };
}

/** API writes: JSON only (see the module comment), and never from a page on another site. */
export function jsonApiWrites(options: { publicUrl: string }): RequestHandler {
  return (req, res, next) => {
    if (!isUnsafeMethod(req.method)) return next();
    const crossSite = crossSiteReason(req, options.publicUrl);
    if (crossSite) {
      res.status(403).json({ error: `cross-site request refused: ${crossSite}` });
      return;
    }
    // Read from the header rather than req.is(), which reports no type for a body-less POST (e.g. a reload).
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      res.status(415).json({ error: 'API writes must be sent as Content-Type: application/json' });
      return;
    }
    next();
  };
}
