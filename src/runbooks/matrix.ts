// The incident response matrix (runbooks/matrix.yml): which runbook answers which MON- alert, how
// urgent it is and who is paged in which order. Validated with zod; every error names the YAML path
// and its line. Any error makes the matrix unusable (matrix null): a half-understood paging config is
// worse than the last good one, which the catalog store keeps in service.
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { durationWithin } from '../duration.js';
import { normalizeMonId } from './mon-id.js';
import type { Finding } from './runbook.js';
import { formatPath, lineAt, type YamlPath } from './yaml-lines.js';

export interface SeverityPolicy {
  ackWithinMs: number | null;
  repeatEveryMs: number | null;
  drillEveryMs: number | null;
  /** false: open the incident but notify nobody (info). */
  page: boolean;
}

export interface NotifyTarget {
  type: 'webhook' | 'slack';
  url: string;
}

export interface Contact {
  id: string;
  name: string;
  notify: NotifyTarget[];
  line: number;
}

export interface MatrixAlert {
  monId: string;
  title: string;
  runbookId: string | null;
  severity: string;
  /** Contact ids, level 1 first; the last level repeats. */
  escalation: string[];
  /** Line of the alert's key. */
  line: number;
  /** Line of its `runbook:` value, null when absent. */
  runbookLine: number | null;
}

export interface Matrix {
  file: string;
  severities: Record<string, SeverityPolicy>;
  contacts: Record<string, Contact>;
  /** What an alert with no or an unknown MON- id gets: it is never dropped. */
  default: { severity: string; escalation: string[] };
  /** Line of the `default:` key. */
  defaultLine?: number;
  alerts: Record<string, MatrixAlert>;
}

export interface MatrixResult {
  matrix: Matrix | null;
  findings: Finding[];
}

const durationAtLeast = (ms: number, why: string) => durationWithin({ min: { ms, why } });

// Escalation is a tick once a second (DESIGN; ESCALATION_TICK defaults to 1s), the finest step it can take. Values
// that are merely unusual (ack_within: 1m) still work and stay allowed: an invalid matrix stops `serve`.
const ESCALATION_STEP_MS = 1000;
// Drills are rehearsals by people, due by the day; below a day the next drill is due before the last is written up.
const DRILL_EVERY_MIN_MS = 86_400_000;

const severitySchema = z.strictObject({
  ack_within: durationAtLeast(
    ESCALATION_STEP_MS,
    'escalation runs once a second, so a shorter ack_within pages the next level on every tick, before anyone could acknowledge (typical: 5m for critical, 30m for warning)',
  ).optional(),
  repeat_every: durationAtLeast(
    ESCALATION_STEP_MS,
    'escalation runs once a second, so a shorter repeat_every pages the last level on every tick (typical: 10m; leave it out to notify the last level once)',
  ).optional(),
  drill_every: durationAtLeast(
    DRILL_EVERY_MIN_MS,
    'a drill is a rehearsal by people, due by the day, so a shorter cadence makes the next drill due before the last one is written up (typical: 30d for critical, 90d for warning; leave it out for no cadence drills)',
  ).optional(),
  page: z.boolean().default(true),
});
const notifySchema = z.strictObject({
  type: z.enum(['webhook', 'slack']),
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
});
const contactSchema = z.strictObject({ name: z.string().min(1), notify: z.array(notifySchema).min(1) });
const chainSchema = z.array(z.string().min(1)).min(1, 'needs at least one contact');
const alertSchema = z.strictObject({
  title: z.string().min(1).optional(),
  runbook: z.string().regex(/^RUN-\d+$/, 'expected a runbook id like RUN-001').nullable().optional(),
  severity: z.string().min(1),
  // Omitted: the default chain (documented in the shipped matrix.yml).
  escalation: chainSchema.optional(),
});
const matrixSchema = z.strictObject({
  severities: z.record(z.string(), severitySchema).refine((s) => Object.keys(s).length > 0, 'needs at least one severity'),
  contacts: z.record(z.string(), contactSchema),
  default: z.strictObject({ severity: z.string().min(1), escalation: chainSchema }),
  alerts: z.record(z.string(), alertSchema).nullable().default({}),
});

export function parseMatrix(text: string, file = 'matrix.yml'): MatrixResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const findings: Finding[] = [];
  const fail = (rule: string, path: YamlPath, message: string, atKey = false) =>
    findings.push({ file, line: lineAt(doc, counter, path, atKey), severity: 'error', rule, message: `${formatPath(path)}: ${message}` });

  if (doc.errors.length) {
    for (const error of doc.errors) {
      const line = counter.linePos(error.pos[0]).line;
      findings.push({ file, line, severity: 'error', rule: 'matrix-invalid', message: `YAML: ${error.message.split('\n')[0]}` });
    }
    return { matrix: null, findings };
  }
  const js: unknown = doc.toJS() ?? {};
  const parsed = matrixSchema.safeParse(js);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) fail('matrix-invalid', [...issue.path, key], `unknown key "${key}"`, true);
      } else {
        fail('matrix-invalid', issue.path, issue.message.replace(/^Invalid input: expected (.+), received undefined$/, 'required ($1)'));
      }
    }
  }
  // Cross-checks run on the raw data too, so one pass reports every problem, not just the schema's.
  const root = record(js);
  const severities = record(root.severities);
  const contactIds = record(root.contacts);
  const checkSeverity = (path: YamlPath, name: unknown) => {
    if (typeof name === 'string' && name !== '' && !(name in severities)) {
      fail('matrix-invalid', path, `"${name}" is not a severity (one of ${Object.keys(severities).join(', ')})`);
    }
  };
  const checkChain = (path: YamlPath, chain: unknown) => {
    if (!Array.isArray(chain)) return;
    chain.forEach((id, i) => {
      if (typeof id === 'string' && id !== '' && !(id in contactIds)) fail('matrix-unknown-contact', [...path, i], `no contact "${id}" under contacts`);
    });
  };
  const defaults = record(root.default);
  checkSeverity(['default', 'severity'], defaults.severity);
  checkChain(['default', 'escalation'], defaults.escalation);
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(record(root.alerts))) {
    const monId = normalizeMonId(key);
    if (!monId) fail('matrix-invalid', ['alerts', key], `"${key}" is not a MON- id (MON- followed by 1 to 9 digits)`, true);
    else if (seen.has(monId)) fail('matrix-invalid', ['alerts', key], `${monId} is listed twice (also as "${seen.get(monId)}")`, true);
    else seen.set(monId, key);
    checkSeverity(['alerts', key, 'severity'], record(value).severity);
    checkChain(['alerts', key, 'escalation'], record(value).escalation);
  }
  if (findings.length || !parsed.success) return { matrix: null, findings };

  const raw = parsed.data;
  const alerts: Record<string, MatrixAlert> = {};
  for (const [key, alert] of Object.entries(raw.alerts ?? {})) {
    const monId = normalizeMonId(key)!;
    alerts[monId] = {
      monId,
      title: alert.title ?? monId,
      runbookId: alert.runbook ?? null,
      severity: alert.severity,
      escalation: alert.escalation ?? raw.default.escalation,
      line: lineAt(doc, counter, ['alerts', key], true),
      runbookLine: alert.runbook ? lineAt(doc, counter, ['alerts', key, 'runbook']) : null,
    };
  }
  const policies: Record<string, SeverityPolicy> = {};
  for (const [name, s] of Object.entries(raw.severities)) {
    policies[name] = { ackWithinMs: s.ack_within ?? null, repeatEveryMs: s.repeat_every ?? null, drillEveryMs: s.drill_every ?? null, page: s.page };
  }
  const contacts: Record<string, Contact> = {};
  for (const [id, c] of Object.entries(raw.contacts)) {
    contacts[id] = { id, name: c.name, notify: c.notify, line: lineAt(doc, counter, ['contacts', id], true) };
  }
  return { matrix: { file, severities: policies, contacts, default: raw.default, defaultLine: lineAt(doc, counter, ['default'], true), alerts }, findings };
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
