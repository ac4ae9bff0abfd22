import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The 50 MON- ids the ingest loads spread over. */
export const MON_IDS = Array.from({ length: 50 }, (_, i) => `MON-${String(101 + i).padStart(3, '0')}`);
/** The page bench's incident has a MON- id of its own (routed to the 20-step runbook), so no other load piles onto it. */
export const PAGE_MON_ID = 'MON-100';
export const PAGE_RUNBOOK = 'RUN-900';

/** A runbook in the RUN- format with `steps` procedure steps, each with commands, verification, a duration and a rollback. */
export function longRunbook(id: string, steps: number, monId: string): string {
  const lines = [
    `${id}: Checkout latency above SLO (benchmark runbook)`,
    'Category: Incident',
    `Trigger: ${monId} alert (checkout p99 latency above 800ms for 10m)`,
    'Owner: Platform Team',
    'Last Tested: 2026-10-01',
    '',
    '## Scope',
    '- **Handles**: Checkout latency regressions caused by the application tier, its caches or its database pool',
    '- **Does NOT handle**: Full datacenter outage (see RUN-030), Database server crash (see RUN-010)',
    '',
    '## Prerequisites',
    '- [ ] kubectl access to the prod-eu cluster (group "checkout-oncall")',
    '- [ ] Grafana dashboard "Checkout overview" access',
    '',
    '## Procedure',
    '',
  ];
  for (let n = 1; n <= steps; n++) {
    lines.push(
      `### Step ${n}: Check checkout component ${n}`,
      `Inspect component ${n} of the checkout path on the instance named in the alert (\`{{alert.labels.instance}}\`).`,
      '',
      `Duration: ${2 + (n % 4)}m (max ${6 + (n % 4)}m)`,
      ...(n % 5 === 0 ? ['Checkpoint: manual'] : []),
      '',
      'Commands:',
      '```bash',
      `kubectl -n checkout get pods -l component=part-${n} -o wide`,
      `kubectl -n checkout logs deploy/checkout-part-${n} --since=15m | grep -c "level=error"`,
      `curl -s "http://{{alert.labels.instance}}/debug/part-${n}/stats" | jq '.latency_ms.p99'`,
      '```',
      '',
      'Verification:',
      `- [ ] Component ${n} p99 latency below 200ms on the dashboard`,
      `- [ ] Error count of component ${n} below 10 in the last 15 minutes`,
      '',
      `Rollback: kubectl -n checkout rollout undo deploy/checkout-part-${n}`,
      '',
    );
  }
  lines.push(
    '## Escalation',
    '- **When to escalate**: Latency stays above the SLO for 30 minutes after the procedure',
    '- **Who to contact**: Platform Team Lead (Slack: @platform-lead, PagerDuty)',
    '- **What to provide**: Timeline, components checked, dashboards, actions taken',
    '',
    '## Post-Incident',
    '- [ ] Document incident timeline (who was paged, when actions taken)',
    '- [ ] File ticket for the component that regressed',
    '- [ ] Schedule team drill of this runbook within 1 week if escalated',
    '',
    `Linked IDs: ${monId} (alert), RUN-030`,
    '',
  );
  return lines.join('\n');
}

/** Two contacts with one webhook channel each at the sink; every bench MON- id is critical and pages level one at once. */
export function benchMatrix(sinkUrl: string): string {
  const alerts = [PAGE_MON_ID, ...MON_IDS].map((mon, i) => {
    const runbook = mon === PAGE_MON_ID ? PAGE_RUNBOOK : ['RUN-001', 'RUN-010', 'RUN-011', 'RUN-012', 'RUN-013'][i % 5];
    return `  ${mon}:\n    title: Benchmark alert ${mon}\n    runbook: ${runbook}\n    severity: critical\n    escalation: [level-one, level-two]`;
  });
  return [
    'severities:',
    '  critical: { ack_within: 30m, repeat_every: 30m, drill_every: 30d }',
    '  warning:  { ack_within: 30m, drill_every: 90d }',
    '  info:     { page: false, drill_every: 180d }',
    'contacts:',
    `  level-one: { name: Bench on-call, notify: [{ type: webhook, url: "${sinkUrl}/level-one" }] }`,
    `  level-two: { name: Bench lead, notify: [{ type: webhook, url: "${sinkUrl}/level-two" }] }`,
    'default:',
    '  severity: warning',
    '  escalation: [level-one]',
    'alerts:',
    ...alerts,
    '',
  ].join('\n');
}

/** The shipped runbooks, the 20-step RUN-900 and the bench matrix, in a temp directory. */
export async function benchRunbooksDir(sinkUrl: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-bench-runbooks-'));
  const shipped = path.join(ROOT, 'runbooks');
  for (const file of await fs.readdir(shipped)) {
    if (/^RUN-.*\.md$/.test(file)) await fs.copyFile(path.join(shipped, file), path.join(dir, file));
  }
  await fs.writeFile(path.join(dir, `${PAGE_RUNBOOK}.md`), longRunbook(PAGE_RUNBOOK, 20, PAGE_MON_ID));
  await fs.writeFile(path.join(dir, 'matrix.yml'), benchMatrix(sinkUrl));
  return dir;
}
