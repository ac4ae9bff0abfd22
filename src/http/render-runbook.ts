// A runbook as the responder sees it: markdown rendered with raw HTML disabled, `{{alert.labels.x}}` references filled
// from the alert (escaped), `<placeholder>`s highlighted for the responder to fill, and every checkbox with who/when.
// Shared by the incident page, the catalog page (read-only) and the drill page (templates/partials/runbook-steps.hbs).
import MarkdownIt from 'markdown-it';
import type { Runbook } from '../runbooks/runbook.js';
import { blockingCheckpoint, checkpointKey, stepTimings, type StepCheck, type StepTiming } from '../incidents/step-checks.js';
import { durationText, relative, span, utcMinute } from './render-format.js';
import { escapeHtml, trustedHtml, type Html } from './render.js';

/** What `{{alert.*}}` references read: the incident's alert. */
export interface AlertRefs {
  title: string | null;
  labels: Record<string, string>;
  values: Record<string, string | number>;
}

// {{alert.title}}, {{alert.labels.instance}}, {{ alert.values.cpu }}; keys may contain . - / : (Datadog tags, dotted labels).
const REF = /\{\{\s*alert\.(title|labels\.([\w.:/-]+)|values\.([\w.:/-]+))\s*\}\}/g;
// Private-use characters stand in for references while markdown is parsed, so a value is never read as markdown or linkified.
const PH_START = '\uE000';
const PH_END = '\uE001';
const PH = /\uE000(\d+)\uE001/g;
const PH_ENCODED = /%EE%80%80(\d+)%EE%80%81/gi;
const FILL = /&lt;([A-Za-z][\w.-]*)&gt;/g;

interface Ref {
  typed: string;
  value: string | null;
  /** Rendered without an alert (catalog page): the reference is shown as typed, as a reminder of what gets filled. */
  noAlert: boolean;
}

export function resolveRef(refs: AlertRefs | null, field: string, label?: string, value?: string): string | null {
  if (!refs) return null;
  if (field === 'title') return refs.title;
  if (label !== undefined) return Object.hasOwn(refs.labels, label) ? String(refs.labels[label]) : null;
  if (value !== undefined) return Object.hasOwn(refs.values, value) ? String(refs.values[value]) : null;
  return null;
}

/**
 * The alert a page fills references from: the first instance still firing (in the order they were seen), else the
 * first one. Incidents have one instance in the common case; several (one monitor seen by two tools) share the labels
 * that matter.
 */
export function alertRefsOf(alerts: readonly { status: string; title: string; labels: Record<string, string>; values: Record<string, string | number> }[]): AlertRefs | null {
  const alert = alerts.find((a) => a.status !== 'resolved') ?? alerts[0];
  return alert ? { title: alert.title, labels: alert.labels, values: alert.values } : null;
}

/** References filled as plain text (the retro markdown); unknown ones stay as typed. */
export function fillRefsText(text: string, refs: AlertRefs | null): string {
  return text.replace(REF, (typed, field: string, label?: string, value?: string) => resolveRef(refs, field, label, value) ?? typed);
}

function extractRefs(text: string, refs: AlertRefs | null): { text: string; found: Ref[] } {
  const found: Ref[] = [];
  const replaced = text.replace(/[\uE000\uE001]/g, '').replace(REF, (typed, field: string, label?: string, value?: string) => {
    found.push({ typed, value: resolveRef(refs, field, label, value), noAlert: refs === null });
    return `${PH_START}${found.length - 1}${PH_END}`;
  });
  return { text: replaced, found };
}

function refHtml(ref: Ref | undefined): string {
  if (!ref) return '';
  if (ref.value === null) {
    const why = ref.noAlert ? 'filled from the alert on the incident page' : 'not in this alert';
    return `<span class="ref ref-missing" title="${why}">${escapeHtml(ref.typed)}</span>`;
  }
  return `<span class="ref" title="${escapeHtml(ref.typed)}">${escapeHtml(ref.value)}</span>`;
}

/** In element content: each placeholder becomes the escaped value in a highlighted span. */
const fillContent = (html: string, found: Ref[]) => html.replace(PH, (_, i: string) => refHtml(found[Number(i)]));
/** Inside attributes (title, alt): plain escaped text. In URLs: the reference as typed — a value never becomes a link target. */
const fillAttributes = (html: string, found: Ref[]) =>
  html
    .replace(PH, (_, i: string) => escapeHtml(found[Number(i)]?.value ?? found[Number(i)]?.typed ?? ''))
    .replace(PH_ENCODED, (_, i: string) => encodeURI(found[Number(i)]?.typed ?? ''));
const markFills = (escapedCode: string) => escapedCode.replace(FILL, '<span class="fill" title="fill in before running">$&</span>');

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
// Code keeps its <placeholders> visible and marked; references inside code are filled like anywhere else.
const defaultFence = md.renderer.rules.fence!;
md.renderer.rules.fence = (tokens, idx, options, env, self) => markFills(defaultFence(tokens, idx, options, env, self));
md.renderer.rules.code_block = (tokens, idx) => `<pre><code>${markFills(escapeHtml(tokens[idx]!.content))}</code></pre>\n`;
md.renderer.rules.code_inline = (tokens, idx) => `<code>${markFills(escapeHtml(tokens[idx]!.content))}</code>`;
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

function withRefs(source: string, refs: AlertRefs | null, render: (text: string) => string): Html {
  const { text, found } = extractRefs(source, refs);
  // Our own HTML never has a raw < or > inside a tag (markdown-it escapes attribute values), so tags split cleanly.
  const html = render(text).replace(/(<[^>]*>)|([^<]+)/g, (_, tag?: string, content?: string) => (tag ? fillAttributes(tag, found) : fillContent(content!, found)));
  return trustedHtml(html);
}

/** Block markdown (step prose). */
export const markdownBlock = (source: string, refs: AlertRefs | null): Html => withRefs(source, refs, (t) => md.render(t));
/** One line of markdown (titles, checklist items, escalation fields). */
export const markdownInline = (source: string, refs: AlertRefs | null): Html => withRefs(source, refs, (t) => md.renderInline(t));
/** A command block: escaped verbatim, references filled, placeholders marked. */
export const codeHtml = (code: string, refs: AlertRefs | null): Html => withRefs(code, refs, (t) => markFills(escapeHtml(t)));

// ---------------------------------------------------------------------------------------------------------------------

export interface CheckView {
  key: string;
  anchor: string;
  kind: 'prerequisite' | 'step' | 'verification' | 'checkpoint';
  html: Html;
  /** Plain text for the button's accessible name. */
  label: string;
  checked: boolean;
  by: string | null;
  atIso: string | null;
  atText: string | null;
  /** Waiting for an earlier manual checkpoint: the box cannot be ticked yet. */
  locked: boolean;
  /** The form posts `checked=<next>`. */
  next: 'true' | 'false';
}

export interface TimingView {
  state: 'pending' | 'running' | 'ok' | 'over' | 'overrun';
  expectedText: string | null;
  maxText: string | null;
  /** "took 4m" / "running 2m" / "" */
  actualText: string;
  note: string;
  /** For the live timer of the running step. */
  startedIso: string | null;
  expectedMs: number | null;
  maxMs: number | null;
}

export interface StepView {
  key: string;
  anchor: string;
  number: number;
  titleHtml: Html;
  proseHtml: Html | null;
  commands: { lang: string; html: Html }[];
  rollback: { html: Html } | null;
  verification: CheckView[];
  done: CheckView;
  checkpoint: CheckView | null;
  locked: boolean;
  lockedBy: number | null;
  current: boolean;
  timing: TimingView | null;
}

export interface RunbookView {
  id: string;
  title: string;
  category: string;
  owner: string | null;
  /** Forms post to `${actionBase}/steps/<key>`; null renders read-only (catalog page). */
  actionBase: string | null;
  interactive: boolean;
  scope: { handles: Html[]; doesNotHandle: Html[] };
  prerequisites: CheckView[];
  steps: StepView[];
  escalation: { when: Html | null; who: Html | null; what: Html | null; present: boolean };
  postIncident: Html[];
  progress: { done: number; total: number; percent: number };
}

export interface RunbookViewOptions {
  actionBase: string | null;
  refs: AlertRefs | null;
  checks: ReadonlyMap<string, StepCheck>;
  /** When work started (incident acknowledged or opened, drill started): the first step's clock starts here. */
  startedAt: Date | null;
  now: Date;
  /** Still in progress: the current step shows a running timer. */
  active: boolean;
}

export const anchorOf = (key: string) => `check-${key.replace(/[^\w-]/g, '-')}`;

function timingView(t: StepTiming | undefined): TimingView | null {
  if (!t || (t.expectedMs === null && t.actualMs === null)) return null;
  const { expectedMs, maxMs, actualMs, state } = t;
  const done = t.doneAt !== null;
  const limit = maxMs ?? expectedMs;
  const note =
    state === 'overrun' && limit !== null && actualMs !== null ? `over ${maxMs !== null ? 'the max' : 'the estimate'} by ${span(actualMs - limit)}${done ? '' : ' — consider escalating'}`
    : state === 'over' && expectedMs !== null && actualMs !== null ? `${span(actualMs - expectedMs)} over the estimate`
    : '';
  return {
    state,
    expectedText: expectedMs !== null ? durationText(expectedMs) : null,
    maxText: maxMs !== null ? durationText(maxMs) : null,
    actualText: actualMs === null ? '' : `${done ? 'took' : 'running'} ${span(actualMs)}`,
    note,
    startedIso: !done && t.startAt && actualMs !== null ? t.startAt.toISOString() : null,
    expectedMs,
    maxMs,
  };
}

export function runbookView(runbook: Runbook, options: RunbookViewOptions): RunbookView {
  const { refs, checks, now } = options;
  const interactive = options.actionBase !== null;
  const check = (key: string, kind: CheckView['kind'], html: Html, label: string, locked: boolean): CheckView => {
    const state = checks.get(key);
    const checked = state?.checked ?? false;
    return {
      key,
      anchor: anchorOf(key),
      kind,
      html,
      label,
      checked,
      by: state ? state.by : null,
      atIso: state ? state.at.toISOString() : null,
      atText: state ? `${utcMinute(state.at)} (${relative(state.at, now)})` : null,
      locked: locked && !checked,
      next: checked ? 'false' : 'true',
    };
  };

  const timings = stepTimings(runbook, checks, { startedAt: options.startedAt, now, active: options.active });

  let done = 0;
  let total = 0;
  const count = (c: CheckView) => {
    total++;
    if (c.checked) done++;
    return c;
  };

  const prerequisites = runbook.prerequisites.map((p) => count(check(p.key, 'prerequisite', markdownInline(p.text, refs), p.text, false)));
  const steps = runbook.steps.map((step): StepView => {
    const blocker = blockingCheckpoint(runbook, checks, step);
    const locked = interactive && blocker !== null;
    const title = `Step ${step.number}${step.title ? `: ${step.title}` : ''}`;
    const timing = timings.get(step.key);
    return {
      key: step.key,
      // The step's own box (its "done" check) is check-step-N; the step block is step-N.
      anchor: step.key.replace(/[^\w-]/g, '-'),
      number: step.number,
      titleHtml: markdownInline(step.title || `Step ${step.number}`, refs),
      proseHtml: step.prose.trim() ? markdownBlock(step.prose, refs) : null,
      commands: step.commands.map((c) => ({ lang: c.lang, html: codeHtml(c.code, refs) })),
      rollback: step.rollback ? { html: codeHtml(step.rollback, refs) } : null,
      verification: step.verification.map((v) => count(check(v.key, 'verification', markdownInline(v.text, refs), v.text, locked))),
      checkpoint: step.checkpoint ? count(check(checkpointKey(step), 'checkpoint', trustedHtml('Checkpoint: I have reviewed this step and confirm the next one may start'), `Confirm the manual checkpoint of step ${step.number}`, locked)) : null,
      done: count(check(step.key, 'step', trustedHtml(`Step ${step.number} done`), `${title} done`, locked)),
      locked,
      lockedBy: blocker?.number ?? null,
      current: timing?.state === 'running' || (timing?.actualMs != null && !timing.doneAt),
      timing: timingView(timing),
    };
  });

  return {
    id: runbook.id,
    title: runbook.title,
    category: runbook.category,
    owner: runbook.owner,
    actionBase: options.actionBase,
    interactive,
    scope: {
      handles: runbook.scope.handles.map((h) => markdownInline(h.text, refs)),
      doesNotHandle: runbook.scope.doesNotHandle.map((h) => markdownInline(h.text, refs)),
    },
    prerequisites,
    steps,
    escalation: {
      when: runbook.escalation.when ? markdownInline(runbook.escalation.when, refs) : null,
      who: runbook.escalation.who ? markdownInline(runbook.escalation.who, refs) : null,
      what: runbook.escalation.what ? markdownInline(runbook.escalation.what, refs) : null,
      present: Boolean(runbook.escalation.when || runbook.escalation.who || runbook.escalation.what),
    },
    postIncident: runbook.postIncident.map((p) => markdownInline(p.text, refs)),
    progress: { done, total, percent: total ? Math.round((done / total) * 100) : 0 },
  };
}
