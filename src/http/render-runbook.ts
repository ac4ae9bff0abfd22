// A runbook as the responder sees it: markdown rendered with raw HTML disabled, `{{alert.labels.x}}` references filled
// from the alert (escaped), `<placeholder>`s highlighted for the responder to fill, and every checkbox with who/when.
// Shared by the incident page, the catalog page (read-only) and the drill page (templates/partials/runbook-steps.hbs).
import Handlebars from 'handlebars';
import MarkdownIt from 'markdown-it';
import { REF, REF_FORMS, REF_OR_LOOKALIKE } from '../runbooks/alert-refs.js';
import type { Runbook } from '../runbooks/runbook.js';
import { blockingCheckpoint, checkpointKey, stepTimings, type StepCheck, type StepTiming } from '../incidents/step-checks.js';
import { durationText, relative, span, utcMinute } from './render-format.js';
import { escapeHtml, trustedHtml, type Html } from './render.js';

/** What `{{alert.*}}` references read: the incident's alert. */
export interface AlertRefs {
  title: string | null;
  labels: Record<string, string>;
  values: Record<string, string | number>;
  /**
   * The referenced keys (`title`, `labels.instance`, `values.cpu`) on which the incident's firing alerts disagree: every
   * value, the filled one first. The page says so wherever such a key is filled.
   */
  differing?: ReadonlyMap<string, readonly string[]>;
}

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
  /** `{{...}}` that is no reference (lint warns of it): shown as typed, marked like a reference the alert lacks. */
  invalid?: boolean;
  /** Filled into a command and holding characters a shell acts on: what the mark's title names. */
  shell?: string[];
  /** The firing alerts disagree on this key: all their values, the filled one first. */
  differing?: readonly string[];
}

export function resolveRef(refs: AlertRefs | null, field: string, label?: string, value?: string): string | null {
  if (!refs) return null;
  if (field === 'title') return refs.title;
  if (label !== undefined) return Object.hasOwn(refs.labels, label) ? String(refs.labels[label]) : null;
  if (value !== undefined) return Object.hasOwn(refs.values, value) ? String(refs.values[value]) : null;
  return null;
}

/** The key `differing` knows a reference by. */
const refKey = (field: string, label?: string, value?: string) => (label !== undefined ? `labels.${label}` : value !== undefined ? `values.${value}` : field);

interface RefSource {
  status: string;
  title: string;
  labels: Record<string, string>;
  values: Record<string, string | number>;
  /** When it was last heard from (alert_instances.last_seen_at); without it, later in the list counts as more recent. */
  last_seen_at?: Date;
}

const isFiring = (a: RefSource) => a.status !== 'resolved';

/**
 * The order references are read in: the first instance still firing (in the order they were seen), else the first one;
 * then the other firing ones, most recent first, then the resolved ones, most recent first.
 */
function refOrder(alerts: readonly RefSource[]): RefSource[] {
  const chosen = alerts.find(isFiring) ?? alerts[0];
  const recency = (a: RefSource) => a.last_seen_at?.getTime() ?? -Infinity;
  const rest = alerts
    .map((a, index) => ({ a, index }))
    .filter(({ a }) => a !== chosen)
    .sort((x, y) => Number(isFiring(y.a)) - Number(isFiring(x.a)) || recency(y.a) - recency(x.a) || y.index - x.index)
    .map(({ a }) => a);
  return chosen ? [chosen, ...rest] : [];
}

/** Each key's first value in `ordered` (a prototype-free record: label keys come from the alert's sender). */
function firstValues<V>(ordered: readonly Record<string, V>[]): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (const record of ordered) for (const [key, v] of Object.entries(record)) if (!Object.hasOwn(out, key)) out[key] = v;
  return out;
}

/** Keys on which the firing alerts hold more than one value, with those values in reading order. */
function differingKeys(ordered: readonly RefSource[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const add = (key: string, v: string | number) => {
    const values = seen.get(key) ?? [];
    if (!values.includes(String(v))) values.push(String(v));
    seen.set(key, values);
  };
  // Titles are left out: two tools name one monitor differently as a rule, and a title is never where a command runs.
  for (const a of ordered.filter(isFiring)) {
    for (const [k, v] of Object.entries(a.labels)) add(`labels.${k}`, v);
    for (const [k, v] of Object.entries(a.values)) add(`values.${k}`, v);
  }
  return new Map([...seen].filter(([, values]) => values.length > 1));
}

/**
 * The alert a page fills references from. Usually an incident has one instance; several (one monitor seen by two
 * tools: a Datadog and an Alertmanager alert for one MON- id) need not have the same keys, so a key the first instance
 * lacks is read from the next one that has it (see refOrder), and a key the firing ones disagree on is listed in
 * `differing`.
 */
export function alertRefsOf(alerts: readonly RefSource[]): AlertRefs | null {
  const ordered = refOrder(alerts);
  const chosen = ordered[0];
  if (!chosen) return null;
  const differing = differingKeys(ordered);
  return {
    title: chosen.title,
    labels: firstValues(ordered.map((a) => a.labels)),
    values: firstValues(ordered.map((a) => a.values)),
    ...(differing.size ? { differing } : {}),
  };
}

/** Text filled from an incident's alerts as its page shows them (a tick's timeline entry keeps what the responder saw). */
export function fillFromAlerts(alerts: readonly RefSource[]): (text: string) => string {
  const refs = alertRefsOf(alerts);
  return (text) => fillRefsText(text, refs);
}

/** References filled as plain text (the retro markdown); unknown ones stay as typed. */
export function fillRefsText(text: string, refs: AlertRefs | null): string {
  return text.replace(REF, (typed, field: string, label?: string, value?: string) => resolveRef(refs, field, label, value) ?? typed);
}

// Said wherever a value is filled that the firing alerts disagree on: which value this is, and the others.
// A storm's fifty hosts would make every reference's title and note a list of fifty: a few, then how many more.
const OTHER_VALUES_SHOWN = 4;
const othersOf = (values: readonly string[]) => {
  const others = values.slice(1, 1 + OTHER_VALUES_SHOWN);
  const more = values.length - 1 - others.length;
  return { others, more: more > 0 ? ` and ${more} more` : '' };
};
const differingText = (values: readonly string[]) => {
  const { others, more } = othersOf(values);
  return `1 of ${values.length} values in the firing alerts: ${values[0]} (filled here), ${others.join(', ')}${more}`;
};

function refHtml(ref: Ref | undefined): string {
  if (!ref) return '';
  if (ref.invalid) {
    return `<span class="ref ref-missing ref-invalid" title="${escapeHtml(`not a reference (${REF_FORMS}): shown as typed`)}">${escapeHtml(ref.typed)}</span>`;
  }
  if (ref.value === null) {
    const why = ref.noAlert ? 'filled from the alert on the incident page' : 'not in this alert';
    return `<span class="ref ref-missing" title="${why}">${escapeHtml(ref.typed)}</span>`;
  }
  let classes = 'ref';
  let title = ref.typed;
  if (ref.shell) {
    classes += ' ref-unsafe';
    title += ` — from the alert, with characters a shell acts on (${ref.shell.join(', ')}): read it before running`;
  }
  // The stylesheet shows data-of next to the value: seen, and never copied along with it.
  let of = '';
  if (ref.differing) {
    classes += ' ref-differs';
    title += ` — ${differingText(ref.differing)}`;
    of = ` data-of="1 of ${ref.differing.length}"`;
  }
  return `<span class="${classes}" title="${escapeHtml(title)}"${of}>${escapeHtml(ref.value)}</span>`;
}

// A value pasted into a shell is code: the sender of the alert chooses it. These are the characters that make a shell
// do something other than pass the value on as one word — substitution, chaining, redirection, quoting, escapes,
// globbing, brace and history expansion, line breaks (a paste runs the first line at once), and any whitespace: a space
// ends the word, so `db-7 sudo rm -rf /` filled into `ssh {{alert.labels.instance}}` runs rm on the host (and a Unicode
// space looks like one). `~`, `#` and `-` only act at the start of a word. Colons, dots, slashes, @, =, commas, % and
// inner hyphens (host:port, URLs without a query) are ordinary and stay unmarked, so the warning keeps its meaning.
const SHELL_CHAR = /[$`;|&<>()\\'"!*?[\]{}\s\x00-\x1f\x7f]/;
const SHELL_EACH = new RegExp(SHELL_CHAR.source, 'g');
const SHELL_LEADING = /^[-~#]/;
const SHOWN_AS: Record<string, string> = { ' ': 'space', '\t': 'tab', '\n': 'line break', '\r': 'carriage return' };

function shownAs(c: string): string {
  if (SHOWN_AS[c]) return SHOWN_AS[c];
  if (c < ' ' || c === '\x7f') return 'control character';
  if (/\s/.test(c)) return `Unicode space U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return c;
}

/** The shell characters of a value as shown to the responder, in order of appearance; null for an ordinary value. */
export function shellCharsOf(value: string): string[] | null {
  const leading = SHELL_LEADING.test(value);
  if (!leading && !SHELL_CHAR.test(value)) return null;
  const found = new Set<string>();
  if (leading) found.add(`leading ${value[0]}`);
  for (const [c] of value.matchAll(SHELL_EACH)) found.add(shownAs(c));
  return [...found];
}

/** Inside attributes (title, alt): plain escaped text. In URLs: the reference as typed — a value never becomes a link target. */
const fillAttributes = (html: string, found: Ref[]) =>
  html
    .replace(PH, (_, i: string) => escapeHtml(found[Number(i)]?.value ?? found[Number(i)]?.typed ?? ''))
    .replace(PH_ENCODED, (_, i: string) => encodeURI(found[Number(i)]?.typed ?? ''));
const markFills = (escapedCode: string) => escapedCode.replace(FILL, '<span class="fill" title="fill in before running">$&</span>');

// Code keeps its <placeholders> visible and marked; references inside code are filled like anywhere else. A fence's code
// goes through `highlight`, so its info string (the class attribute) is never marked.
const md = new MarkdownIt({ html: false, linkify: true, typographer: false, highlight: (code) => markFills(escapeHtml(code)) });
md.renderer.rules.code_block = (tokens, idx) => `<pre><code>${markFills(escapeHtml(tokens[idx]!.content))}</code></pre>\n`;
md.renderer.rules.code_inline = (tokens, idx) => `<code>${markFills(escapeHtml(tokens[idx]!.content))}</code>`;
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export type MarkdownMode = 'block' | 'inline' | 'code';

const RENDER: Record<MarkdownMode, (text: string) => string> = {
  block: (t) => md.render(t),
  inline: (t) => md.renderInline(t),
  code: (t) => markFills(escapeHtml(t)),
};

interface RefSpec {
  typed: string;
  /** undefined for a lookalike: `{{...}}` that is no reference. */
  field: string | undefined;
  label: string | undefined;
  value: string | undefined;
}

/** A literal piece of HTML, a placeholder in element content (its reference's index), or a tag holding placeholders. */
type Part = string | number | { tag: string };

/**
 * A source rendered once, with its references left as placeholders: everything markdown-it does depends only on the
 * source and the mode, never on the alert, so this is what the cache keeps. `fixed` is the final HTML when nothing in it
 * depends on the alert (no references).
 */
export interface Prepared {
  refs: RefSpec[];
  parts: Part[];
  fixed: Html | null;
}

const HAS_PH = /\uE000\d+\uE001/;
const HAS_PH_ENCODED = /%EE%80%80\d+%EE%80%81/i;
// Our own HTML never has a raw < or > inside a tag (markdown-it escapes attribute values), so tags split cleanly.
const TAG_OR_TEXT = /(<[^>]*>)|([^<]+)/g;

function prepare(source: string, mode: MarkdownMode): Prepared {
  const refs: RefSpec[] = [];
  const text = source.replace(/[\uE000\uE001]/g, '').replace(REF_OR_LOOKALIKE, (typed, field?: string, label?: string, value?: string) => {
    refs.push({ typed, field, label, value });
    return `${PH_START}${refs.length - 1}${PH_END}`;
  });
  const html = RENDER[mode](text);
  // The split and the placeholder matching are done here, once, exactly as filling the whole string would do them.
  const parts: Part[] = [];
  let literal = '';
  let last = 0;
  const flush = () => {
    if (literal) parts.push(literal);
    literal = '';
  };
  for (const m of html.matchAll(TAG_OR_TEXT)) {
    literal += html.slice(last, m.index);
    last = m.index + m[0].length;
    const tag = m[1];
    if (tag !== undefined) {
      if (HAS_PH.test(tag) || HAS_PH_ENCODED.test(tag)) {
        flush();
        parts.push({ tag });
      } else literal += tag;
      continue;
    }
    const content = m[0];
    let from = 0;
    for (const ph of content.matchAll(PH)) {
      literal += content.slice(from, ph.index);
      from = ph.index + ph[0].length;
      flush();
      parts.push(Number(ph[1]));
    }
    literal += content.slice(from);
  }
  literal += html.slice(last);
  flush();
  const prepared: Prepared = { refs, parts, fixed: null };
  // Without references (the common case) the alert cannot change anything: a placeholder left in the HTML (a runbook
  // may spell one with entities) fills as it always did, with nothing. Lookalikes show as typed whatever the alert.
  if (refs.every((r) => r.field === undefined)) prepared.fixed = fill(prepared, null);
  return prepared;
}

function resolveOne(spec: RefSpec, alert: AlertRefs | null): Ref {
  const { typed, field, label, value } = spec;
  if (field === undefined) return { typed, value: null, noAlert: alert === null, invalid: true };
  const ref: Ref = { typed, value: resolveRef(alert, field, label, value), noAlert: alert === null };
  const differing = ref.value === null ? undefined : alert?.differing?.get(refKey(field, label, value));
  if (differing) ref.differing = differing;
  return ref;
}

const resolveAll = (prepared: Prepared, alert: AlertRefs | null): Ref[] => prepared.refs.map((r) => resolveOne(r, alert));

function fillParts(prepared: Prepared, found: Ref[]): Html {
  let html = '';
  for (const part of prepared.parts) html += typeof part === 'string' ? part : typeof part === 'number' ? refHtml(found[part]) : fillAttributes(part.tag, found);
  return trustedHtml(html);
}

function fill(prepared: Prepared, alert: AlertRefs | null): Html {
  if (prepared.fixed) return prepared.fixed;
  return fillParts(prepared, resolveAll(prepared, alert));
}

/** A command block as the page shows it; `shellChars` lists what its filled values hold that a shell acts on. */
export interface CommandHtml {
  html: Html;
  shellChars: string[] | null;
  /** References filled with a value the firing alerts disagree on, once each: all the values, the filled one first. */
  differing: { typed: string; values: readonly string[] }[] | null;
}

// Only commands pay for the check, and only those with references: prose and titles are never pasted into a shell.
function fillCommand(prepared: Prepared, alert: AlertRefs | null): CommandHtml {
  if (prepared.fixed) return { html: prepared.fixed, shellChars: null, differing: null };
  const found = resolveAll(prepared, alert);
  let all: Set<string> | null = null;
  let differing: CommandHtml['differing'] = null;
  for (const ref of found) {
    if (ref.differing && !differing?.some((d) => d.typed === ref.typed)) (differing ??= []).push({ typed: ref.typed, values: ref.differing });
    const chars = ref.value === null ? null : shellCharsOf(ref.value);
    if (!chars) continue;
    ref.shell = chars;
    all ??= new Set();
    for (const c of chars) all.add(c);
  }
  return { html: fillParts(prepared, found), shellChars: all ? [...all] : null, differing };
}

/**
 * Rendered runbook fragments by mode and source, bounded (least recently used evicted). Owned by whoever renders
 * pages (one per incident pages router): a pinned runbook's texts are the same on every request for its incidents.
 * Entries hold no alert value, so nothing of one incident can show on another's page.
 */
export interface MarkdownCache {
  readonly size: number;
  prepared(source: string, mode: MarkdownMode): Prepared;
}

export function createMarkdownCache(options: { maxEntries?: number } = {}): MarkdownCache {
  const max = options.maxEntries ?? 5000;
  const entries = new Map<string, Partial<Record<MarkdownMode, Prepared>>>();
  return {
    get size() {
      return entries.size;
    },
    prepared(source, mode) {
      let entry = entries.get(source);
      if (entry) {
        entries.delete(source);
        entries.set(source, entry);
      } else {
        if (entries.size >= max) entries.delete(entries.keys().next().value!);
        entry = {};
        entries.set(source, entry);
      }
      return (entry[mode] ??= prepare(source, mode));
    },
  };
}

function withRefs(source: string, refs: AlertRefs | null, mode: MarkdownMode, cache: MarkdownCache | undefined): Html {
  return fill(cache ? cache.prepared(source, mode) : prepare(source, mode), refs);
}

/** Block markdown (step prose). */
export const markdownBlock = (source: string, refs: AlertRefs | null, cache?: MarkdownCache): Html => withRefs(source, refs, 'block', cache);
/** One line of markdown (titles, checklist items, escalation fields). */
export const markdownInline = (source: string, refs: AlertRefs | null, cache?: MarkdownCache): Html => withRefs(source, refs, 'inline', cache);
/** A command block: escaped verbatim, references filled (values with shell characters marked), placeholders marked. */
export const codeHtml = (code: string, refs: AlertRefs | null, cache?: MarkdownCache): CommandHtml => fillCommand(cache ? cache.prepared(code, 'code') : prepare(code, 'code'), refs);

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
  commands: ({ lang: string } & CommandHtml)[];
  rollback: CommandHtml | null;
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
  /** An incident's episode clocks (step-clock.ts): a step worked in a reopened episode starts no earlier than it. */
  clockAt?: (at: Date) => Date;
  now: Date;
  /** Still in progress: the current step shows a running timer. */
  active: boolean;
  /** Renders each text once per cache instead of on every call. */
  markdown?: MarkdownCache;
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
  const { refs, checks, now, markdown: cache } = options;
  const inline = (source: string) => markdownInline(source, refs, cache);
  const code = (source: string) => codeHtml(source, refs, cache);
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

  const timings = stepTimings(runbook, checks, { startedAt: options.startedAt, ...(options.clockAt ? { clockAt: options.clockAt } : {}), now, active: options.active });

  let done = 0;
  let total = 0;
  const count = (c: CheckView) => {
    total++;
    if (c.checked) done++;
    return c;
  };

  const prerequisites = runbook.prerequisites.map((p) => count(check(p.key, 'prerequisite', inline(p.text), p.text, false)));
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
      titleHtml: inline(step.title || `Step ${step.number}`),
      proseHtml: step.prose.trim() ? markdownBlock(step.prose, refs, cache) : null,
      commands: step.commands.map((c) => ({ lang: c.lang, ...code(c.code) })),
      rollback: step.rollback ? code(step.rollback) : null,
      verification: step.verification.map((v) => count(check(v.key, 'verification', inline(v.text), v.text, locked))),
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
      handles: runbook.scope.handles.map((h) => inline(h.text)),
      doesNotHandle: runbook.scope.doesNotHandle.map((h) => inline(h.text)),
    },
    prerequisites,
    steps,
    escalation: {
      when: runbook.escalation.when ? inline(runbook.escalation.when) : null,
      who: runbook.escalation.who ? inline(runbook.escalation.who) : null,
      what: runbook.escalation.what ? inline(runbook.escalation.what) : null,
      present: Boolean(runbook.escalation.when || runbook.escalation.who || runbook.escalation.what),
    },
    postIncident: runbook.postIncident.map((p) => inline(p.text)),
    progress: { done, total, percent: total ? Math.round((done / total) * 100) : 0 },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The runbook with its checkboxes as HTML (the `runbook-steps` partial, used by the incident, catalog and drill pages).
// Written out here rather than as a template: it is most of an incident page (a 20-step runbook is ~85 checkboxes),
// and handlebars spent more CPU on it than everything else a page does. Every value is escaped as handlebars escapes
// `{{value}}`, and only Html passes as it is.

type Stash = string | number | null | undefined | Html;
/** `{{value}}`: handlebars' own escaping (it also escapes `=` and backticks), Html as it is, null and undefined empty. */
const esc = (value: Stash): string => Handlebars.Utils.escapeExpression(value as string);

/** The one form every box submits (`form="runbook-checks"`), holding the page's form token once instead of once per box. */
const CHECK_FORM_ID = 'runbook-checks';

/**
 * A box is a submit button of the page's one check form, with its own formaction and value: ticking works as plain HTML,
 * and a 20-step runbook's ~85 boxes no longer carry a form and two hidden inputs each (the bench's page: 84 KB → 71 KB).
 */
function checkItemHtml(item: CheckView, view: RunbookView): string {
  let html = `<li class="check kind-${esc(item.kind)}${item.checked ? ' is-checked' : ''}${item.locked ? ' is-locked' : ''}" id="${esc(item.anchor)}">`;
  html += view.interactive
    ? `<button form="${CHECK_FORM_ID}" formaction="${esc(view.actionBase)}/steps/${esc(item.key)}" name="checked" value="${esc(item.next)}" class="box" aria-pressed="${item.checked ? 'true' : 'false'}"${item.locked ? ' disabled title="Confirm the manual checkpoint first"' : ''} aria-label="${item.checked ? 'Untick' : 'Tick'}: ${esc(item.label)}"></button>`
    : '<span class="box box-static" aria-hidden="true"></span>';
  html += `<div class="check-body"><span class="check-text">${esc(item.html)}</span>`;
  if (item.checked) html += `<span class="check-meta"><span class="visually-hidden">Ticked by </span>${esc(item.by)} · <time datetime="${esc(item.atIso)}">${esc(item.atText)}</time></span>`;
  return `${html}</div></li>\n`;
}

const ARTICLE: Record<string, string> = { 'line break': 'a line break', 'carriage return': 'a carriage return', space: 'a space', tab: 'a tab', 'control character': 'a control character' };

function shellCharHtml(c: string): string {
  if (c.length === 1) return `<code>${esc(c)}</code>`;
  if (c.startsWith('leading ')) return `a leading <code>${esc(c.slice(8))}</code>`;
  return esc(ARTICLE[c] ?? `a ${c}`);
}

// Above the command, so it is read before anything is copied; empty (no line at all) for the ordinary command.
function shellNoteHtml(chars: string[] | null): string {
  if (!chars) return '';
  return `      <p class="command-note" role="note"><span aria-hidden="true">⚠</span> A value from the alert in this command contains shell characters (${chars.map(shellCharHtml).join(', ')}): read it before running.</p>\n`;
}

// Which host a command runs on can depend on which of the incident's alerts it was filled from: say so before it is run.
function differingNoteHtml(differing: CommandHtml['differing']): string {
  if (!differing) return '';
  const each = differing.map((d) => {
    const { others, more } = othersOf(d.values);
    return `<code>${esc(d.typed)}</code> is <code>${esc(d.values[0])}</code> here, 1 of ${d.values.length} values (also ${others.map((v) => `<code>${esc(v)}</code>`).join(', ')}${more})`;
  });
  return `      <p class="command-note" role="note"><span aria-hidden="true">⚠</span> The firing alerts of this incident disagree on a value in this command: ${each.join('; ')}. Check which one it is meant for before running it.</p>\n`;
}

/** The notes above a command: read before anything is copied. */
const commandNotesHtml = (c: CommandHtml) => shellNoteHtml(c.shellChars) + differingNoteHtml(c.differing);

// Concatenated, not joined: the page is flattened once when it is encoded, instead of once per step and once more there.
const concat = (parts: string[]) => {
  let html = '';
  for (const part of parts) html += part;
  return html;
};

function stepHtml(step: StepView, view: RunbookView): string {
  const item = (c: CheckView) => checkItemHtml(c, view);
  const parts: string[] = [];
  parts.push(
    `  <li class="step${step.done.checked ? ' is-done' : ''}${step.current ? ' is-current' : ''}${step.locked ? ' is-locked' : ''}" id="${esc(step.anchor)}">\n`,
    '    <header class="step-head">\n',
    `      <span class="step-no" aria-hidden="true">${esc(step.number)}</span>\n`,
    `      <h3><span class="visually-hidden">Step ${esc(step.number)}: </span>${esc(step.titleHtml)}</h3>\n`,
  );
  const t = step.timing;
  if (t) {
    parts.push(
      `      <span class="timing t-${esc(t.state)}"${t.startedIso ? ` data-timer data-started="${esc(t.startedIso)}" data-expected-ms="${esc(t.expectedMs)}" data-max-ms="${esc(t.maxMs)}"` : ''}>\n`,
      `        ${t.actualText ? `<span class="timing-actual">${esc(t.actualText)}</span>` : ''}\n`,
      `        ${t.expectedText ? `<span class="timing-expected">${t.actualText ? 'of ' : ''}${esc(t.expectedText)}${t.maxText ? ` (max ${esc(t.maxText)})` : ''}</span>` : ''}\n`,
      `        ${t.note ? `<span class="timing-note">${esc(t.note)}</span>` : ''}\n`,
      '      </span>\n',
    );
  }
  parts.push(
    '    </header>\n',
    `    ${step.locked ? `<p class="locked-note">Waiting for the manual checkpoint of step ${esc(step.lockedBy)} to be confirmed.</p>` : ''}\n`,
    `    ${step.proseHtml ? `<div class="prose">${esc(step.proseHtml)}</div>` : ''}\n`,
  );
  for (const c of step.commands) {
    parts.push(
      `    <figure class="command${c.shellChars ? ' has-unsafe' : ''}">\n`,
      `      <figcaption>Command${c.lang ? ` <span class="lang">${esc(c.lang)}</span>` : ''}</figcaption>\n`,
      commandNotesHtml(c),
      `      <pre><code>${esc(c.html)}</code></pre>\n`,
      '    </figure>\n',
    );
  }
  if (step.rollback) {
    parts.push(
      `    <figure class="command rollback${step.rollback.shellChars ? ' has-unsafe' : ''}">\n`,
      '      <figcaption>Rollback</figcaption>\n',
      commandNotesHtml(step.rollback),
      `      <pre><code>${esc(step.rollback.html)}</code></pre>\n`,
      '    </figure>\n',
    );
  }
  if (step.verification.length) {
    parts.push('    <h4 class="verify-h">Verification</h4>\n', '    <ul class="checklist">\n', `      ${concat(step.verification.map(item))}\n`, '    </ul>\n');
  }
  parts.push('    <ul class="checklist step-end">\n', `      ${step.checkpoint ? item(step.checkpoint) : ''}\n`, `      ${item(step.done)}`, '    </ul>\n', '  </li>\n');
  return concat(parts);
}

/** The prerequisites and steps of a runbook view with their forms (`csrfToken`: the page's form token). */
export function runbookStepsHtml(view: RunbookView, csrfToken: string): Html {
  const parts: string[] = [];
  if (view.interactive) {
    parts.push(`<form id="${CHECK_FORM_ID}" method="post" action="${esc(view.actionBase)}" hidden><input type="hidden" name="_csrf" value="${esc(csrfToken)}"></form>\n`);
  }
  if (view.prerequisites.length) {
    const items = concat(view.prerequisites.map((p) => checkItemHtml(p, view)));
    parts.push('<section class="prereqs" aria-label="Prerequisites">\n', '  <h3>Prerequisites</h3>\n', '  <ul class="checklist">\n', `    ${items}\n`, '  </ul>\n', '</section>\n');
  }
  if (view.steps.length) {
    parts.push('<ol class="steps">\n');
    for (const step of view.steps) parts.push(stepHtml(step, view));
    parts.push('</ol>\n');
  } else {
    parts.push('<p class="empty">This runbook has no procedure steps.</p>\n');
  }
  return trustedHtml(concat(parts));
}
