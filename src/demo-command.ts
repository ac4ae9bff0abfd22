import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Source } from './alerts/alert.js';
import { signDelivery } from './alerts/verify-signature.js';
import { loadConfig } from './config.js';
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

/** `runbook-router demo [URL] [--keep-open]`: posts the example payloads, signed with the configured secrets, to a running service. */
export async function runDemo(args: string[], io: { out: (s: string) => void; err: (s: string) => void; env: Record<string, string | undefined> }): Promise<number> {
  const keepOpen = args.includes('--keep-open');
  const config = loadConfig(io.env);
  const base = (args.find((a) => !a.startsWith('--')) ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
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
