// Server-rendered pages: handlebars templates from templates/, one layout, partials from templates/partials/.
//
// Escaping rule: templates only ever use {{double}} stashes. Handlebars escapes every string; the only values that pass
// through unescaped are `Html` instances (Handlebars.SafeString), made by `trustedHtml` from HTML this codebase built
// itself by escaping its inputs (render-runbook.ts, the layout body). Nothing from an alert, a runbook file or a
// responder is ever wrapped without going through escapeHtml or markdown-it with html disabled first.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Response } from 'express';
import Handlebars from 'handlebars';
import { plural } from '../plural.js';
import { PROJECT_ROOT } from '../project-root.js';
import { utcMinute } from './render-format.js';
import { runbookStepsHtml, type RunbookView } from './render-runbook.js';

export const TEMPLATES_DIR = path.join(PROJECT_ROOT, 'templates');
export const STATIC_DIR = path.join(PROJECT_ROOT, 'static');

/** Changes whenever a static file changes, so /static/app.css?v=... can be cached for a day. */
function assetVersion(): string {
  const hash = createHash('sha256');
  for (const file of ['app.css', 'app.js']) {
    try {
      hash.update(fs.readFileSync(path.join(STATIC_DIR, file)));
    } catch {
      hash.update(file);
    }
  }
  return hash.digest('hex').slice(0, 10);
}

export type Html = Handlebars.SafeString;

/** Marks HTML built by our own escaping code as safe to insert. Never call it on input. */
export function trustedHtml(html: string): Html {
  return new Handlebars.SafeString(html);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For element content and double-quoted attribute values (the only places our own HTML puts text). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface NavItem {
  href: string;
  label: string;
  section: string;
}

/** Pages of other modules (drills, reports) add themselves here when they land. */
export const NAV: NavItem[] = [
  { href: '/', label: 'Incidents', section: 'incidents' },
  { href: '/runbooks', label: 'Runbooks', section: 'runbooks' },
  { href: '/matrix', label: 'Matrix', section: 'matrix' },
  { href: '/drills', label: 'Drills', section: 'drills' },
  { href: '/reports', label: 'Reports', section: 'reports' },
];

export interface PageOptions {
  title: string;
  /** Highlights the nav item of this section. */
  section?: string;
  status?: number;
  /** Reload the page every N seconds (the incident list on a wall screen); works without JavaScript. */
  refreshSeconds?: number;
  /** Extra class on <body> (e.g. a severity, for the header colour). */
  bodyClass?: string;
  /** The server's now: the page script corrects live timers for the browser's clock skew. */
  now?: Date;
}

export interface Renderer {
  /** Renders `templates/<name>.hbs` inside the layout and sends it. */
  page(res: Response, name: string, view: Record<string, unknown>, options: PageOptions): void;
  /** Renders one template to a string (no layout). */
  render(name: string, view: Record<string, unknown>): string;
}

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

const HELPERS: Record<string, Handlebars.HelperDelegate> = {
  eq: (a: unknown, b: unknown) => a === b,
  not: (a: unknown) => !a,
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  inc: (n: unknown) => Number(n) + 1,
  plural: (n: unknown, word: unknown) => plural(Number(n), String(word)),
  runbookSteps: (view: RunbookView, options: Handlebars.HelperOptions) => runbookStepsHtml(view, String((options.data as { root?: { csrfToken?: unknown } }).root?.csrfToken ?? '')),
};

export function createRenderer(options: { templatesDir?: string } = {}): Renderer {
  const dir = options.templatesDir ?? TEMPLATES_DIR;
  const hbs = Handlebars.create();
  for (const [name, helper] of Object.entries(HELPERS)) hbs.registerHelper(name, helper);
  // Every helper is known at compile time, so a plain {{name}} compiles to a property read instead of a helper lookup
  // first (most of the page's mustaches); an unknown helper in a template is a compile error. Partials get the very
  // options the templates have (they used to inherit them from the first template that invoked them).
  const compileOptions: CompileOptions = {
    preventIndent: true,
    knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true])),
    knownHelpersOnly: true,
  };

  const partialsDir = path.join(dir, 'partials');
  if (fs.existsSync(partialsDir)) {
    for (const file of fs.readdirSync(partialsDir)) {
      if (file.endsWith('.hbs')) hbs.registerPartial(file.slice(0, -4), hbs.compile(fs.readFileSync(path.join(partialsDir, file), 'utf8'), compileOptions));
    }
  }
  const cache = new Map<string, Handlebars.TemplateDelegate>();
  const template = (name: string) => {
    let compiled = cache.get(name);
    if (!compiled) {
      if (!/^[\w-]+$/.test(name)) throw new Error(`bad template name ${name}`);
      compiled = hbs.compile(fs.readFileSync(path.join(dir, `${name}.hbs`), 'utf8'), compileOptions);
      cache.set(name, compiled);
    }
    return compiled;
  };

  const render = (name: string, view: Record<string, unknown>) => template(name)(view);
  const assets = assetVersion();
  return {
    render,
    page(res, name, view, opts) {
      const common = {
        csrfToken: res.locals.csrfToken ?? '',
        responder: res.locals.responder ?? null,
        localMode: res.locals.authMode === 'local',
      };
      const body = render(name, { ...common, ...view });
      const html = render('layout', {
        ...common,
        title: opts.title,
        body: trustedHtml(body),
        bodyClass: opts.bodyClass ?? '',
        assets,
        nowIso: opts.now ? opts.now.toISOString() : '',
        nowText: opts.now ? utcMinute(opts.now) : null,
        refreshSeconds: opts.refreshSeconds ?? null,
        nav: NAV.map((item) => ({ ...item, active: item.section === opts.section })),
      });
      // Sent without res.send's ETag: a page is made per request (form token, times relative to now), so a SHA-1 over
      // its ~80 KB would only cost CPU and never spare a browser the body. Nothing else of res.send applies to a page.
      const bytes = Buffer.from(html, 'utf8');
      res.status(opts.status ?? 200).type('html').setHeader('Content-Length', bytes.length);
      res.end(bytes);
    },
  };
}
