// Shared pieces of the HTML pages: who is acting on a form, the error page, the CSRF refusal page.
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { isTransientDbError } from '../db/transient-error.js';
import type { Logger } from '../logger.js';
import type { CsrfFailure } from './csrf.js';
import { describeZodError } from './error-handler.js';
import { HttpError } from './http-error.js';
import type { Renderer } from './render.js';

/** A form's actor: the authenticated responder, or `local` in local mode (forms carry no `by`). */
export function formActor(res: Response): string {
  return res.locals.responder ?? 'local';
}

/** Where a form goes back to after posting: the page, at the item that changed, so the responder keeps their place. */
export function backTo(res: Response, path: string, anchor?: string): void {
  // Tells the page's script that the form was accepted, so it drops the sent draft. Only a page of ours says so: a
  // proxy's 502 (or no answer) leaves the draft for the next try, which a page that merely is not an error page could not.
  res.append('Set-Cookie', `${FORM_ACCEPTED_COOKIE}=1; Path=/; Max-Age=120; SameSite=Lax${res.req.secure ? '; Secure' : ''}`);
  res.redirect(303, anchor ? `${path}#${anchor}` : path);
}

/** Set with every accepted form's redirect; static/app.js reads and clears it. */
export const FORM_ACCEPTED_COOKIE = 'rr_form_accepted';

export function errorPage(renderer: Renderer, res: Response, status: number, title: string, message: string, back?: { href: string; label: string }): void {
  renderer.page(res, 'error', { status, heading: title, message, back: back ?? { href: '/', label: 'Open incidents' } }, { title, status });
}

/** A form that failed the CSRF check: 403, nothing changed, and a way back that fixes it (a fresh page has a fresh token). */
export function csrfFailurePage(renderer: Renderer, logger: Logger): CsrfFailure {
  return (req, res, reason) => {
    logger.warn({ url: req.originalUrl, reason }, 'form refused: CSRF check failed');
    const back = safeBack(req);
    errorPage(renderer, res, 403, 'Form refused', `Nothing was changed: ${reason}. Reload the page and submit the form again.`, { href: back, label: 'Reload the page' });
  };
}

/** The page the form was on: same-origin paths only. */
function safeBack(req: Request): string {
  const match = /^\/(incidents\/\d+|runbooks|matrix|drills(?:\/\d+)?|reports)(?:\/|$)/.exec(req.path);
  return match ? `/${match[1]}` : '/';
}

/** The list a page belongs to. */
function areaOf(req: Request): { href: string; label: string } {
  if (/^\/drills(?:\/|$)/.test(req.path)) return { href: '/drills', label: 'All drills' };
  if (/^\/runbooks(?:\/|$)/.test(req.path)) return { href: '/runbooks', label: 'All runbooks' };
  if (/^\/reports(?:\/|$)/.test(req.path)) return { href: '/reports', label: 'All reports' };
  return { href: '/', label: 'Open incidents' };
}

/** Errors from page routes become an HTML page; JSON is for /api. */
export function pageErrors(renderer: Renderer, logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof ZodError) {
      const issues = describeZodError(error).map((i) => `${i.path}: ${i.message}`).join('; ');
      return errorPage(renderer, res, 400, 'Bad request', `The form was not understood (${issues}). Nothing was changed.`, { href: safeBack(req), label: 'Back' });
    }
    if (error instanceof HttpError) {
      const title = error.status === 404 ? 'Not found' : error.status === 409 ? 'Cannot do that now' : 'Request refused';
      const message = error.status === 404 ? `${capitalise(error.message)}.` : `${capitalise(error.message)}. Nothing was changed.`;
      // A missing incident or drill has no page to go back to: its list instead.
      const back = error.status === 404 ? areaOf(req) : { href: safeBack(req), label: 'Back' };
      return errorPage(renderer, res, error.status, title, message, back);
    }
    if (isTransientDbError(error)) {
      logger.warn({ err: error, url: req.originalUrl }, 'database unavailable');
      res.setHeader('Retry-After', '5');
      return errorPage(renderer, res, 503, 'Database unavailable', 'The database is not answering. Nothing was changed; try again in a few seconds.', { href: req.originalUrl, label: 'Try again' });
    }
    logger.error({ err: error, url: req.originalUrl }, 'unhandled error');
    errorPage(renderer, res, 500, 'Something went wrong', 'An internal error occurred; it has been logged.');
  };
}

/** 404 for browsers (Accept: text/html); /api and other clients keep the JSON answer of the app's last handler. */
export function pageNotFound(renderer: Renderer): RequestHandler {
  return (req, res, next) => {
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    if (req.path.startsWith('/api/') || req.path.startsWith('/webhooks/') || !wantsHtml || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    errorPage(renderer, res, 404, 'Not found', `There is no page at ${req.path}.`);
  };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
