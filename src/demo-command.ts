import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Source } from './alerts/alert.js';
import { signDelivery } from './alerts/verify-signature.js';
import type { Config } from './config.js';
import { PROJECT_ROOT } from './project-root.js';

export const EXAMPLES_DIR = path.join(PROJECT_ROOT, 'test/fixtures/webhooks');

/** A monitor's life in the order the tools would send it: fire, the same monitor from a second tool, acknowledge, recover. */
const SEQUENCE: { source: Source; file: string; resolution?: boolean }[] = [
  { source: 'alertmanager', file: 'alertmanager-firing.json' },
  { source: 'datadog', file: 'datadog-triggered.json' },
  { source: 'grafana', file: 'grafana-firing.json' },
  { source: 'pagerduty', file: 'pagerduty-triggered.json' },
  { source: 'pagerduty', file: 'pagerduty-acknowledged.json' },
  { source: 'alertmanager', file: 'alertmanager-resolved.json', resolution: true },
  { source: 'datadog', file: 'datadog-recovered.json', resolution: true },
  { source: 'grafana', file: 'grafana-resolved.json', resolution: true },
  { source: 'pagerduty', file: 'pagerduty-resolved.json', resolution: true },
];

const USAGE = 'usage: runbook-router demo [URL] [--keep-open]   (URL of the running service, default http://127.0.0.1:PORT; --keep-open: without the recoveries)';

export interface DemoIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The settings (PORT and the webhook secrets), or null when a problem has been printed: the command exits 2. */
  config: () => Config | null;
}

/** `runbook-router demo [URL] [--keep-open]`: posts the example payloads, signed with the configured secrets, to a running service. */
export async function runDemo(args: string[], io: DemoIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    io.err(`runbook-router demo: ${parsed}\n${USAGE}`);
    return 2;
  }
  const config = io.config();
  if (!config) return 2;
  const keepOpen = parsed.keepOpen;
  const base = (parsed.url ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
  let failures = 0;
  const examples = new Map<string, unknown>();
  for (const step of SEQUENCE) examples.set(step.file, JSON.parse(await fs.readFile(path.join(EXAMPLES_DIR, step.file), 'utf8')));
  const retime = demoClock([...examples.values()], Date.now());
  for (const step of SEQUENCE.filter((s) => !(keepOpen && s.resolution))) {
    const parsed = retime(examples.get(step.file));
    // Senders put compact JSON on the wire; Alertmanager's ends with a newline.
    const body = Buffer.from(JSON.stringify(parsed) + (step.source === 'alertmanager' ? '\n' : ''), 'utf8');
    const headers = signDelivery(step.source, body, config.webhooks, new Date());
    if (step.source === 'pagerduty') headers['X-Webhook-Id'] = randomUUID();
    try {
      const res = await fetch(`${base}/webhooks/${step.source}`, { method: 'POST', headers, body });
      const answer = (await res.json().catch(() => ({}))) as { incidents?: number[]; duplicate?: boolean; error?: string };
      if (res.status === 202) {
        const links = (answer.incidents ?? []).map((id) => `${base}/incidents/${id}`).join(' ');
        io.out(`${step.file.padEnd(28)} 202 ${answer.duplicate ? '(already received) ' : ''}${links}`);
      } else {
        failures++;
        io.err(`${step.file.padEnd(28)} ${res.status} ${answer.error ?? ''}`);
      }
    } catch (error) {
      io.err(`cannot reach ${base}: ${(error as Error).message}. Is the service running (npm start)?`);
      return 1;
    }
  }
  io.out(`\nOpen ${base}/ to see the incidents.`);
  return failures ? 1 : 0;
}

const ISO_TIME = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
// Datadog's $DATE and $LAST_UPDATED: epoch milliseconds as a string.
const EPOCH_MS = /^1\d{12}$/;

/**
 * The examples' times moved to the last milliseconds before `now`, in their order, one millisecond apart. A second run
 * is then newer than the first one's recoveries (each run takes longer than the few milliseconds the examples span),
 * so `demo --keep-open` after `demo` opens the incidents again instead of being ignored as stale events. Alertmanager's
 * zero time for "not ended" stays as it is.
 */
export function demoClock(examples: readonly unknown[], now: number): (example: unknown) => unknown {
  const visit = (v: unknown, f: (s: string, ms: number) => string): unknown => {
    if (typeof v === 'string') {
      const iso = ISO_TIME.exec(v);
      if (iso && Number(iso[1]) >= 2000 && !Number.isNaN(Date.parse(v))) return f(v, Date.parse(v));
      if (EPOCH_MS.test(v)) return f(v, Number(v));
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => visit(x, f));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x, f)]));
    return v;
  };
  const times = new Set<number>();
  for (const e of examples) visit(e, (s, ms) => (times.add(ms), s));
  const order = [...times].sort((a, b) => a - b);
  const rank = new Map(order.map((ms, i) => [ms, i]));
  const moved = (ms: number) => now - (order.length - 1 - rank.get(ms)!);
  return (example) => visit(example, (s, ms) => (EPOCH_MS.test(s) ? String(moved(ms)) : new Date(moved(ms)).toISOString()));
}

/** The words after `demo`, checked before anything is sent (a mistyped --keep-open must not post the recoveries it meant to leave out); `'help'` for --help, else what is wrong. */
function parseArgs(args: string[]): { url: string | null; keepOpen: boolean } | string {
  let url: string | null = null;
  let keepOpen = false;
  for (const arg of args) {
    if (arg === '--keep-open') keepOpen = true;
    else if (arg === '--help' || arg === '-h') return 'help';
    else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (url !== null) return `only one URL can be given, got "${url}" and "${arg}"`;
    else if (!/^https?:$/.test(URL.parse(arg)?.protocol ?? '')) return `expected the service's URL like http://127.0.0.1:3000, got "${arg}"`;
    else url = arg;
  }
  return { url, keepOpen };
}
