// Browser-facing protection for the responder surface: security headers with a strict Content-Security-Policy (no inline
// script or style anywhere: the pages use /static/app.css and /static/app.js only), the static assets, and the form
// body parser + CSRF check for page routes.
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.js';
import { formCsrf } from './csrf.js';
import { csrfFailurePage } from './pages.js';
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

/** Form posts to page routes (everything outside /api and /webhooks): urlencoded bodies, CSRF token checked. */
export function pageForms(options: { renderer: Renderer; logger: Logger; publicUrl: string }): RequestHandler {
  const parse = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });
  const csrf = formCsrf({ publicUrl: options.publicUrl, onFailure: csrfFailurePage(options.renderer, options.logger) });
  return (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path === '/api' || req.path.startsWith('/webhooks/')) return next();
    parse(req, res, (error?: unknown) => (error ? next(error) : csrf(req, res, next)));
  };
}
