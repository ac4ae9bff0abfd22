// Who is acting on the responder pages and API. Three modes, from the config:
//   trusted header  TRUSTED_USER_HEADER (e.g. X-Forwarded-User) set by an authenticating proxy in front of the service;
//   basic           RESPONDERS users (scrypt hashes), HTTP basic authentication;
//   local           neither configured: loopback only (assertSafeListen), actions recorded as `local`.
// With both configured, a request may use either. Mounted after the webhook, health and static routes, which never see it.
import { createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.js';
import { isLocalMode } from '../local-mode.js';
import { DEFAULT_SCRYPT, verifyPassword, type PasswordHash } from '../responders/password.js';
import { parseResponders, type ResponderDirectory } from '../responders/responders.js';

export type AuthMode = 'local' | 'trusted-header' | 'basic' | 'trusted-header+basic';

export const REALM = 'runbook-router';
const MAX_USER_LENGTH = 200;
/** A verified basic login is remembered briefly so each page view does not pay a full scrypt. */
const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX = 1000;

export interface ResponderAuth {
  mode: AuthMode;
  middleware: RequestHandler;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** The authenticated responder; unset in local mode (actorOf then uses the JSON body's `by` or `local`). */
    responder?: string;
    authMode?: AuthMode;
  }
}

export function authModeOf(config: Config): AuthMode {
  if (isLocalMode(config)) return 'local';
  if (config.auth.trustedUserHeader && config.auth.responders.length) return 'trusted-header+basic';
  return config.auth.trustedUserHeader ? 'trusted-header' : 'basic';
}

export function responderAuth(config: Config): ResponderAuth {
  const mode = authModeOf(config);
  const header = config.auth.trustedUserHeader?.toLowerCase() ?? null;
  const directory: ResponderDirectory = parseResponders(config.auth.responders);
  const basic = directory.size > 0 ? basicVerifier(directory) : null;

  const middleware: RequestHandler = async (req, res, next) => {
    res.locals.authMode = mode;
    if (mode === 'local') return next();

    if (header) {
      const raw = req.headers[header];
      if (typeof raw === 'string' && raw.trim() !== '') {
        const user = raw.trim();
        if (user.length > MAX_USER_LENGTH || /[\u0000-\u001f\u007f]/.test(user)) return deny(req, res, basic !== null, `the ${config.auth.trustedUserHeader} header is not a valid user name`);
        res.locals.responder = user;
        return next();
      }
    }
    if (basic) {
      const credentials = basicCredentials(req);
      if (credentials && (await basic(credentials.user, credentials.password))) {
        res.locals.responder = credentials.user;
        return next();
      }
      return deny(req, res, true, credentials ? 'wrong user name or password' : 'sign in as a responder (HTTP basic authentication)');
    }
    return deny(req, res, false, `missing the ${config.auth.trustedUserHeader} header: open this service through its authenticating proxy`);
  };
  return { mode, middleware };
}

function deny(req: Request, res: Response, challenge: boolean, message: string): void {
  if (challenge) res.setHeader('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
  res.status(401);
  if (req.path.startsWith('/api/') || !req.accepts('html')) res.json({ error: message });
  else res.type('text/plain; charset=utf-8').send(`401 Unauthorized: ${message}\n`);
}

export function basicCredentials(req: Request): { user: string; password: string } | null {
  const value = req.headers.authorization;
  if (!value) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(value);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Checks a user and password against the directory; an unknown user costs the same scrypt as a known one. */
function basicVerifier(directory: ResponderDirectory): (user: string, password: string) => Promise<boolean> {
  const cacheKey = randomBytes(32);
  const verified = new Map<string, number>();
  const decoy: PasswordHash = { ...DEFAULT_SCRYPT, salt: randomBytes(16), key: randomBytes(32) };
  return async (user, password) => {
    // Only an HMAC under a per-process key is kept, never the password.
    const key = createHmac('sha256', cacheKey).update(user).update('\u0000').update(password).digest('base64');
    const now = Date.now();
    const until = verified.get(key);
    if (until !== undefined && until > now && directory.has(user)) return true;
    if (until !== undefined) verified.delete(key);
    const hash = directory.get(user);
    const ok = await verifyPassword(password, hash ?? decoy);
    if (!ok || !hash) return false;
    if (verified.size >= CACHE_MAX) verified.delete(verified.keys().next().value!);
    verified.set(key, now + CACHE_TTL_MS);
    return true;
  };
}
