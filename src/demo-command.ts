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
  for (const step of SEQUENCE.filter((s) => !(keepOpen && s.resolution))) {
    const parsed = JSON.parse(await fs.readFile(path.join(EXAMPLES_DIR, step.file), 'utf8'));
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
