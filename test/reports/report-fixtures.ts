// A small catalog written by the test (so every Last Tested, Duration and route is known) and row builders for seeding.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../src/db/create-db.js';

export interface RunbookSpec {
  id: string;
  title: string;
  category?: string;
  trigger?: string;
  lastTested?: string | null;
  /** Durations of the steps, e.g. ['3m (max 5m)', '5m']. */
  steps: string[];
}

export function runbookText(spec: RunbookSpec): string {
  const steps = spec.steps
    .map(
      (duration, i) => `### Step ${i + 1}: Do Thing ${i + 1}
Run the check for thing ${i + 1}.

Duration: ${duration}

Commands:
\`\`\`bash
echo thing-${i + 1}
\`\`\`

Verification:
- [ ] Thing ${i + 1} reports ok
`,
    )
    .join('\n');
  return `${spec.id}: ${spec.title}
Category: ${spec.category ?? 'Incident'}
Trigger: ${spec.trigger ?? 'Manual'}
Owner: Test Team
${spec.lastTested === null ? '' : `Last Tested: ${spec.lastTested ?? '2026-11-01'}\n`}
## Scope
- **Handles**: The test case
- **Does NOT handle**: Anything else

## Prerequisites
- [ ] Shell access

## Procedure

${steps}
## Escalation
- **When to escalate**: After 15 minutes
- **Who to contact**: Test Lead
- **What to provide**: Timeline and output

## Post-Incident
- [ ] Document incident timeline
- [ ] Update this runbook if steps were wrong/missing
`;
}

export const REPORT_MATRIX = (sinkUrl = 'https://ops.example.com') => `
severities:
  critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }
  warning:  { ack_within: 30m, drill_every: 90d }
  info:     { page: false, drill_every: 180d }
contacts:
  oncall: { name: On-call, notify: [{ type: webhook, url: "${sinkUrl}/oncall" }] }
  leads:  { name: SRE leads, notify: [{ type: webhook, url: "${sinkUrl}/leads" }, { type: slack, url: "${sinkUrl}/slack" }] }
default:
  severity: warning
  escalation: [oncall]
alerts:
  MON-005: { title: Pool above 90%, runbook: RUN-001, severity: critical, escalation: [oncall, leads] }
  MON-013: { title: Pool above 70%, runbook: RUN-001, severity: warning }
  MON-020: { title: Disk above 85%, runbook: RUN-002, severity: warning }
  MON-099: { title: Queue stuck, runbook: RUN-404, severity: critical }
`;

/** RUN-001 critical (via MON-005, also MON-013 warning), RUN-002 warning, RUN-003 Incident no alert reaches, RUN-004 never tested. */
export const REPORT_RUNBOOKS: RunbookSpec[] = [
  { id: 'RUN-001', title: 'Pool Exhaustion', trigger: 'MON-005 alert or MON-013 alert', lastTested: '2026-11-01', steps: ['3m (max 5m)', '5m', '10m'] },
  { id: 'RUN-002', title: 'Disk Full', trigger: 'MON-020 alert', lastTested: '2026-07-01', steps: ['2m', '5m'] },
  { id: 'RUN-003', title: 'Customer Reported Outage', trigger: 'Customer report', lastTested: '2026-08-01', steps: ['10m (max 15m)', '5m'] },
  { id: 'RUN-004', title: 'Rotate Credentials', category: 'Maintenance', trigger: 'Quarterly', lastTested: null, steps: ['15m'] },
];

export async function writeCatalog(runbooks: RunbookSpec[] = REPORT_RUNBOOKS, matrix = REPORT_MATRIX()): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-report-runbooks-'));
  for (const spec of runbooks) await fs.writeFile(path.join(dir, `${spec.id}.md`), runbookText(spec));
  await fs.writeFile(path.join(dir, 'matrix.yml'), matrix);
  return dir;
}

const at = (iso: string) => new Date(iso);

export interface IncidentSeed {
  monId: string | null;
  runbookId?: string | null;
  runbookHash?: string | null;
  severity: string;
  title?: string;
  status?: 'triggered' | 'acknowledged' | 'resolved';
  openedAt: string;
  acknowledgedAt?: string | null;
  resolvedAt?: string | null;
  escalationLevel?: number;
  reopenCount?: number;
  flapping?: boolean;
  source?: string;
}

let groupSeq = 0;

export async function seedIncident(db: Db, s: IncidentSeed): Promise<number> {
  const status = s.status ?? (s.resolvedAt ? 'resolved' : s.acknowledgedAt ? 'acknowledged' : 'triggered');
  const row = await db
    .insertInto('incidents')
    .values({
      group_key: `test-${++groupSeq}`,
      mon_id: s.monId,
      runbook_id: s.runbookId ?? null,
      runbook_hash: s.runbookHash ?? null,
      title: s.title ?? `${s.monId ?? 'unknown'} incident`,
      severity: s.severity,
      status,
      source: s.source ?? 'alertmanager',
      escalation_chain: JSON.stringify(['oncall']),
      escalation_level: s.escalationLevel ?? 0,
      opened_at: at(s.openedAt),
      acknowledged_at: s.acknowledgedAt ? at(s.acknowledgedAt) : null,
      acknowledged_by: s.acknowledgedAt ? 'dana' : null,
      resolved_at: s.resolvedAt ? at(s.resolvedAt) : null,
      resolved_by: s.resolvedAt ? 'dana' : null,
      reopen_count: s.reopenCount ?? 0,
      flapping: s.flapping ?? false,
      last_alert_at: at(s.openedAt),
      updated_at: at(s.openedAt),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function seedEvent(db: Db, incidentId: number, kind: string, atIso: string, data: Record<string, unknown> = {}): Promise<void> {
  await db.insertInto('incident_events').values({ incident_id: incidentId, at: at(atIso), kind, actor: null, data: JSON.stringify(data) }).execute();
}

export async function seedAlert(db: Db, incidentId: number, a: { source: string; fingerprint: string; monId: string | null; title: string; firstSeenAt: string; lastSeenAt?: string }): Promise<void> {
  await db
    .insertInto('alert_instances')
    .values({
      incident_id: incidentId,
      source: a.source,
      fingerprint: a.fingerprint,
      mon_id: a.monId,
      status: 'firing',
      title: a.title,
      labels: JSON.stringify({}),
      values: JSON.stringify({}),
      url: null,
      starts_at: at(a.firstSeenAt),
      last_event_at: at(a.lastSeenAt ?? a.firstSeenAt),
      first_seen_at: at(a.firstSeenAt),
      last_seen_at: at(a.lastSeenAt ?? a.firstSeenAt),
    })
    .execute();
}

export async function seedCheck(db: Db, subject: { incidentId: number } | { drillId: number }, stepKey: string, checkedAtIso: string, checked = true): Promise<void> {
  await db
    .insertInto('step_checks')
    .values({
      incident_id: 'incidentId' in subject ? subject.incidentId : null,
      drill_id: 'drillId' in subject ? subject.drillId : null,
      step_key: stepKey,
      checked,
      checked_by: 'dana',
      checked_at: at(checkedAtIso),
    })
    .execute();
}

export interface DrillSeed {
  runbookId: string;
  trigger?: 'cadence' | 'escalation' | 'manual';
  status?: 'scheduled' | 'running' | 'completed' | 'cancelled';
  dueAt: string;
  createdAt?: string;
  incidentId?: number | null;
  runbookHash?: string | null;
  startedAt?: string | null;
  completedAt?: string | null;
  outcome?: 'passed' | 'gaps_found' | null;
  gaps?: string | null;
  reason?: string;
}

export async function seedDrill(db: Db, d: DrillSeed): Promise<number> {
  const row = await db
    .insertInto('drills')
    .values({
      runbook_id: d.runbookId,
      runbook_hash: d.runbookHash ?? null,
      reason: d.reason ?? 'test',
      trigger: d.trigger ?? 'manual',
      incident_id: d.incidentId ?? null,
      status: d.status ?? 'scheduled',
      due_at: at(d.dueAt),
      created_at: at(d.createdAt ?? '2026-09-01T00:00:00Z'),
      created_by: 'test',
      started_at: d.startedAt ? at(d.startedAt) : null,
      started_by: d.startedAt ? 'dana' : null,
      completed_at: d.completedAt ? at(d.completedAt) : null,
      outcome: d.outcome ?? null,
      gaps: d.gaps ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
