// Browser-facing protection for the responder surface: security headers with a strict Content-Security-Policy (no inline
// script or style anywhere: the pages use /static/app.css and /static/app.js only), the static assets, and the form
// body parser + CSRF check for page routes.
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.js';
import { formCsrf } from './csrf.js';
import { HttpError } from './http-error.js';
import { csrfFailurePage, pageErrors } from './pages.js';
import { storableBody } from './storable-body.js';
import { STATIC_DIR, type Renderer } from './render.js';

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        manifestSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    // Same-origin only; the pages never need to be embedded or opened cross-origin.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** /static/...: CSS and the small script, from the repository's static/ folder; no directory listing, no fallthrough. */
export function staticAssets(): RequestHandler {
  return express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: '1d', redirect: false });
}

/** Where the pages' forms post: every form route is under one of these. Express matches routes regardless of case. */
const FORM_AREAS = /^\/(?:incidents|drills|runbooks)(?:\/|$)/i;

/**
 * Page routes: every page read gets the form token, and every form post has its urlencoded body parsed and its token
 * checked. A post outside the form areas reaches no route and changes nothing, so it gets its 404 instead of a
 * form-token refusal (a monitoring tool pointed at /webhook/… must hear that the URL is wrong, not that a cookie is missing).
 */
export function pageForms(options: { renderer: Renderer; logger: Logger; publicUrl: string }): RequestHandler {
  // The longest fields (a drill's gaps, 20,000 characters; a note, 10,000) percent-encode to up to 9 bytes a character
  // when they are not ASCII: the limit must hold what the form's maxlength lets a responder type in any script.
  const parse = express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 50 });
  const csrf = formCsrf({ publicUrl: options.publicUrl, onFailure: csrfFailurePage(options.renderer, options.logger) });
  const storable = storableBody();
  // A form refused before it reaches a page route is still answered as a page, not with the API's JSON.
  const refuse = pageErrors(options.renderer, options.logger);
  return (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path === '/api' || req.path.startsWith('/webhooks/')) return next();
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (!read && !FORM_AREAS.test(req.path)) return next();
    const failed = (error: unknown) => refuse(formBodyError(error), req, res, next);
    parse(req, res, (error?: unknown) => {
      if (error) return failed(error);
      csrf(req, res, (refused?: unknown) => (refused ? next(refused) : storable(req, res, (bad?: unknown) => (bad ? failed(bad) : next()))));
    });
  };
}

export const FORM_BODY_LIMIT = '256kb';

/** body-parser's errors (too large, malformed, too many fields) as the HttpError a page shows with its reason. */
function formBodyError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  const e = error as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return error;
  if (e.type === 'entity.too.large') return new HttpError(413, `the form is larger than ${FORM_BODY_LIMIT} (shorten the longest text)`);
  if (e.type === 'parameters.too.many') return new HttpError(413, 'the form has too many fields');
  return new HttpError(e.status, `the form could not be read (${String(e.message)})`);
}
