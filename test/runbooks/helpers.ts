// Small, lint-clean runbooks and a matrix that tests mutate one thing at a time.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NOW = new Date('2026-11-22T10:00:00Z');
export const LINT_OPTIONS = { now: NOW, staleAfterDays: 90 };

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/runbooks/${name}`, import.meta.url));
}

export const SHIPPED_DIR = fileURLToPath(new URL('../../runbooks', import.meta.url));

/** 1-based line of the first line containing `needle` (fails the test when absent). */
export function lineOf(text: string, needle: string, from = 1): number {
  const index = text.split('\n').findIndex((line, i) => i + 1 >= from && line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" not in text`);
  return index + 1;
}

export const RUN_101 = `RUN-101: Cache Eviction Storm
Category: Incident
Trigger: MON-101 alert (evictions above 1000/s)
Owner: Platform Team
Last Tested: 2026-11-01

## Scope
- **Handles**: Redis eviction storms
- **Does NOT handle**: Redis node crash (see RUN-102)

## Prerequisites
- [ ] redis-cli access

## Procedure
### Step 1: Check Memory
Check memory usage on the node:

Commands:
\`\`\`bash
redis-cli -h {{alert.labels.instance}} info memory
\`\`\`

Verification:
- [ ] used_memory below maxmemory

### Step 2: Raise maxmemory
Duration: 5m (max 10m)

Commands:
\`\`\`bash
redis-cli -h {{alert.labels.instance}} config set maxmemory 6gb
\`\`\`

Verification:
- [ ] Evictions below 100/s

## Escalation
- **When to escalate**: Evictions persist 15 minutes
- **Who to contact**: Platform Team Lead (PagerDuty)
- **What to provide**: INFO output, eviction graph

## Post-Incident
- [ ] Document incident timeline

Linked IDs: MON-101, RUN-102
`;

export const RUN_102 = `RUN-102: Redis Node Recovery
Category: Recovery
Trigger: Redis node crash reported by RUN-101 responders
Owner: Platform Team
Last Tested: 2026-10-20

## Scope
- **Handles**: Replacing a crashed Redis node
- **Does NOT handle**: Eviction storms (see RUN-101)

## Procedure
### Step 1: Fail Over
Commands:
\`\`\`bash
redis-cli -h <replica_host> replicaof no one
\`\`\`

Verification:
- [ ] Replica answers writes

## Escalation
- **When to escalate**: Failover fails
- **Who to contact**: Platform Team Lead
- **What to provide**: redis-cli output

## Post-Incident
- [ ] Document incident timeline
`;

export const MATRIX = `severities:
  critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }
  warning:  { ack_within: 30m, drill_every: 90d }
  info:     { page: false, drill_every: 180d }
contacts:
  platform-oncall: { name: Platform on-call, notify: [{ type: slack, url: "https://hooks.slack.com/services/T000/B000/XXXX" }] }
  platform-lead:   { name: Platform Team Lead, notify: [{ type: webhook, url: "https://ops.example.com/page/platform-lead" }] }
default:
  severity: warning
  escalation: [platform-oncall]
alerts:
  MON-101:
    title: Redis evictions above 1000/s
    runbook: RUN-101
    severity: critical
    escalation: [platform-oncall, platform-lead]
`;

/** A temp catalog directory holding `files`; removed by the returned cleanup. */
export async function writeCatalog(files: Record<string, string>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbooks-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
