import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SHIPPED_RUNBOOKS } from './test-service.js';

/** A copy of the shipped runbooks with a matrix of the test's own (short durations, contacts at a local sink). */
export async function runbooksWithMatrix(matrixYaml: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-runbooks-'));
  for (const file of await fs.readdir(SHIPPED_RUNBOOKS)) {
    if (file.endsWith('.md')) await fs.copyFile(path.join(SHIPPED_RUNBOOKS, file), path.join(dir, file));
  }
  await fs.writeFile(path.join(dir, 'matrix.yml'), matrixYaml);
  return dir;
}

/** MON-005 → RUN-001 critical with a two-level chain at the sink, MON-012 info (no paging), default chain at the sink. */
export function sinkMatrix(sinkUrl: string, opts: { ackWithin: string; repeatEvery?: string }): string {
  return `
severities:
  critical: { ack_within: ${opts.ackWithin}${opts.repeatEvery ? `, repeat_every: ${opts.repeatEvery}` : ''}, drill_every: 30d }
  warning:  { ack_within: ${opts.ackWithin}, drill_every: 90d }
  info:     { page: false, drill_every: 180d }
contacts:
  level-one: { name: Backend on-call, notify: [{ type: webhook, url: "${sinkUrl}/level-one" }] }
  level-two: { name: Database Team Lead, notify: [{ type: webhook, url: "${sinkUrl}/level-two" }, { type: slack, url: "${sinkUrl}/slack" }] }
default:
  severity: warning
  escalation: [level-one]
alerts:
  MON-005:
    title: Connection pool above 90%
    runbook: RUN-001
    severity: critical
    escalation: [level-one, level-two]
  MON-012:
    title: Informational
    runbook: RUN-001
    severity: info
    escalation: [level-one]
`;
}
