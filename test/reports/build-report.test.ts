import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { pinRunbook } from '../../src/incidents/runbook-pin.js';
import { buildWeeklyReport } from '../../src/reports/build-report.js';
import { renderReportChartSvg } from '../../src/reports/render-report-chart.js';
import { renderReportMarkdown } from '../../src/reports/render-report-markdown.js';
import type { WeeklyReport } from '../../src/reports/report-types.js';
import { loadCatalog, type Catalog } from '../../src/runbooks/catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { seedAlert, seedCheck, seedDrill, seedEvent, seedIncident, writeCatalog } from './report-fixtures.js';

// The report of 2026-W48 (made Monday 2026-11-23 09:00 UTC) counts the incidents of 2026-W47: Mon 16 to Sun 22 November.
const NOW = new Date('2026-11-23T09:00:00Z');
const OPTIONS = { timeZone: 'UTC', staleAfterDays: 90 };
const MIN = 60_000;

let database: TestDatabase;
let handle: DbHandle;
let catalog: Catalog;
let report: WeeklyReport;
const ids: Record<string, number> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
  await migrateToLatest(handle.db);
  catalog = await loadCatalog(await writeCatalog());
  const db = handle.db;
  const run001 = await pinRunbook(db, catalog.runbooks.get('RUN-001')!, new Date('2026-11-01T00:00:00Z'));
  const run003 = await pinRunbook(db, catalog.runbooks.get('RUN-003')!, new Date('2026-11-01T00:00:00Z'));

  // A: critical, acked after 4m, resolved after 34m; step 1 took 6m (3m, max 5m), step 2 took 2m (5m).
  ids.A = await seedIncident(db, { monId: 'MON-005', runbookId: 'RUN-001', runbookHash: run001, severity: 'critical', openedAt: '2026-11-17T10:00:00Z', acknowledgedAt: '2026-11-17T10:04:00Z', resolvedAt: '2026-11-17T10:34:00Z', escalationLevel: 1 });
  await seedEvent(db, ids.A, 'escalated', '2026-11-17T10:00:00Z', { level: 1, seq: 1 });
  await seedEvent(db, ids.A, 'acknowledged', '2026-11-17T10:04:00Z');
  await seedEvent(db, ids.A, 'resolved', '2026-11-17T10:34:00Z');
  await seedCheck(db, { incidentId: ids.A }, 'step-1.v1', '2026-11-17T10:09:00Z');
  await seedCheck(db, { incidentId: ids.A }, 'step-1', '2026-11-17T10:10:00Z');
  await seedCheck(db, { incidentId: ids.A }, 'step-2', '2026-11-17T10:12:00Z');
  await seedAlert(db, ids.A, { source: 'datadog', fingerprint: 'a1', monId: 'MON-005', title: 'pool', firstSeenAt: '2026-11-17T10:00:00Z' });

  // B: critical, escalated to level 2 after 5m, acked after 10m, resolved after 60m; one failed page, one contact without a channel.
  ids.B = await seedIncident(db, { monId: 'MON-005', runbookId: 'RUN-001', runbookHash: run001, severity: 'critical', openedAt: '2026-11-18T08:00:00Z', acknowledgedAt: '2026-11-18T08:10:00Z', resolvedAt: '2026-11-18T09:00:00Z', escalationLevel: 2 });
  await seedEvent(db, ids.B, 'escalated', '2026-11-18T08:00:00Z', { level: 1, seq: 1 });
  await seedEvent(db, ids.B, 'escalated', '2026-11-18T08:05:00Z', { level: 2, seq: 2 });
  await seedEvent(db, ids.B, 'notification_failed', '2026-11-18T08:06:00Z', { contact: 'ghost', level: 2, error: 'contact "ghost" is not in the matrix or has no channel' });
  await db
    .insertInto('notifications')
    .values([
      { idempotency_key: 'k-b', incident_id: ids.B, kind: 'escalation', contact_id: 'leads', channel_type: 'webhook', url: 'https://ops.example.com/leads', payload: '{}', status: 'failed', attempts: 8, next_attempt_at: NOW, last_error: 'HTTP 500', created_at: new Date('2026-11-18T08:05:00Z') },
      { idempotency_key: 'k-old', incident_id: ids.B, kind: 'escalation', contact_id: 'leads', channel_type: 'webhook', url: 'https://ops.example.com/leads', payload: '{}', status: 'failed', attempts: 8, next_attempt_at: NOW, last_error: 'HTTP 502', created_at: new Date('2026-11-10T08:05:00Z') },
      { idempotency_key: 'k-ok', incident_id: ids.B, kind: 'escalation', contact_id: 'oncall', channel_type: 'webhook', url: 'https://ops.example.com/oncall', payload: '{}', status: 'sent', attempts: 1, next_attempt_at: NOW, last_error: null, created_at: new Date('2026-11-18T08:00:00Z') },
    ])
    .execute();

  // C: warning, acked after 20m, still open.
  ids.C = await seedIncident(db, { monId: 'MON-020', runbookId: 'RUN-002', severity: 'warning', openedAt: '2026-11-18T12:00:00Z', acknowledgedAt: '2026-11-18T12:20:00Z' });

  // D: an unknown MON- id, never acknowledged, resolved by its alerts after 30m; seen by two sources.
  ids.D = await seedIncident(db, { monId: 'MON-777', severity: 'warning', openedAt: '2026-11-19T00:00:00Z', resolvedAt: '2026-11-19T00:30:00Z', title: 'Mystery gauge' });
  await seedAlert(db, ids.D, { source: 'alertmanager', fingerprint: 'd1', monId: 'MON-777', title: 'Mystery gauge', firstSeenAt: '2026-11-19T00:00:00Z' });
  await seedAlert(db, ids.D, { source: 'grafana', fingerprint: 'd2', monId: 'MON-777', title: 'Mystery gauge', firstSeenAt: '2026-11-19T00:01:00Z' });

  // E: no MON- id; first acked after 2m and resolved after 12m (timeline only: reopening cleared the columns), then flapping.
  ids.E = await seedIncident(db, { monId: null, severity: 'warning', openedAt: '2026-11-20T06:00:00Z', status: 'triggered', reopenCount: 3, flapping: true, source: 'datadog', title: 'CPU high' });
  await seedEvent(db, ids.E, 'acknowledged', '2026-11-20T06:02:00Z');
  await seedEvent(db, ids.E, 'resolved', '2026-11-20T06:12:00Z');
  await seedEvent(db, ids.E, 'reopened', '2026-11-20T06:20:00Z', { reopenCount: 1 });
  await seedEvent(db, ids.E, 'acknowledged', '2026-11-20T06:25:00Z');
  await seedEvent(db, ids.E, 'flapping', '2026-11-20T07:00:00Z', { reopenCount: 3 });
  await seedAlert(db, ids.E, { source: 'datadog', fingerprint: 'e1', monId: null, title: 'CPU high', firstSeenAt: '2026-11-20T06:00:00Z' });

  // F: opened the week before (not counted), its last level repeated in the period; open and done follow-ups.
  ids.F = await seedIncident(db, { monId: 'MON-005', runbookId: 'RUN-001', severity: 'critical', openedAt: '2026-11-10T11:00:00Z', resolvedAt: '2026-11-16T02:00:00Z', escalationLevel: 2 });
  await seedEvent(db, ids.F, 'escalation_repeated', '2026-11-16T01:00:00Z', { level: 2, seq: 9 });
  await seedAlert(db, ids.F, { source: 'datadog', fingerprint: 'f1', monId: 'MON-005', title: 'pool', firstSeenAt: '2026-11-10T11:00:00Z', lastSeenAt: '2026-11-16T01:00:00Z' });
  // Unknown alerts outside the period are not counted.
  ids.G = await seedIncident(db, { monId: 'MON-778', severity: 'warning', openedAt: '2026-11-05T00:00:00Z', resolvedAt: '2026-11-05T01:00:00Z' });
  await seedAlert(db, ids.G, { source: 'grafana', fingerprint: 'g1', monId: 'MON-778', title: 'Old', firstSeenAt: '2026-11-05T00:00:00Z' });

  await db
    .insertInto('follow_ups')
    .values([
      { incident_id: ids.F, item_key: 'post-1', text: 'Document incident timeline', created_at: new Date('2026-11-10T12:00:00Z') },
      { incident_id: ids.F, item_key: 'post-2', text: 'Done already', created_at: new Date('2026-11-10T12:00:00Z'), done: true, done_by: 'dana', done_at: new Date('2026-11-11T00:00:00Z') },
      { incident_id: ids.A, item_key: 'post-1', text: 'File ticket for query optimization', created_at: new Date('2026-11-17T10:34:00Z') },
      // Done only after the report was made: still open as of the report.
      { incident_id: ids.A, item_key: 'post-2', text: 'Update this runbook', created_at: new Date('2026-11-17T10:34:00Z'), done: true, done_by: 'dana', done_at: new Date('2026-11-24T00:00:00Z') },
    ])
    .execute();

  // Drills: one overdue (cadence), two due this week, one later, one cancelled, two completed last week.
  ids.d1 = await seedDrill(db, { runbookId: 'RUN-002', trigger: 'cadence', dueAt: '2026-09-29T00:00:00Z', reason: 'warning runbooks are drilled every 90d' });
  ids.d2 = await seedDrill(db, { runbookId: 'RUN-001', dueAt: '2026-11-25T10:00:00Z', reason: 'new on-call' });
  ids.d3 = await seedDrill(db, { runbookId: 'RUN-001', trigger: 'escalation', incidentId: ids.B, dueAt: '2026-11-25T08:05:00Z', createdAt: '2026-11-18T08:05:00Z', reason: `escalated incident ${ids.B}` });
  ids.d4 = await seedDrill(db, { runbookId: 'RUN-002', dueAt: '2026-12-05T00:00:00Z' });
  ids.d5 = await seedDrill(db, { runbookId: 'RUN-002', status: 'cancelled', dueAt: '2026-11-01T00:00:00Z', completedAt: '2026-10-30T00:00:00Z' });
  ids.d6 = await seedDrill(db, { runbookId: 'RUN-003', runbookHash: run003, status: 'completed', outcome: 'passed', dueAt: '2026-11-21T00:00:00Z', startedAt: '2026-11-20T14:00:00Z', completedAt: '2026-11-20T15:00:00Z' });
  await seedCheck(db, { drillId: ids.d6 }, 'step-1', '2026-11-20T14:20:00Z');
  await seedCheck(db, { drillId: ids.d6 }, 'step-2', '2026-11-20T14:24:00Z');
  ids.d7 = await seedDrill(db, { runbookId: 'RUN-002', status: 'completed', outcome: 'gaps_found', gaps: 'Step 2 does not say which volume', dueAt: '2026-11-19T00:00:00Z', startedAt: '2026-11-19T09:00:00Z', completedAt: '2026-11-19T10:00:00Z' });
  // Completed after the report time: the report was made while it was still open and overdue.
  ids.d8 = await seedDrill(db, { runbookId: 'RUN-004', status: 'completed', outcome: 'passed', dueAt: '2026-11-20T00:00:00Z', startedAt: '2026-11-24T10:00:00Z', completedAt: '2026-11-24T11:00:00Z' });

  report = await buildWeeklyReport(db, catalog, '2026-W48', NOW, OPTIONS);
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

describe('weekly report of 2026-W48', () => {
  it('covers last week and judges the catalog as of now', () => {
    expect(report.week).toBe('2026-W48');
    expect(report.period).toEqual({ week: '2026-W47', start: '2026-11-16T00:00:00.000Z', end: '2026-11-23T00:00:00.000Z' });
    expect(report.thisWeek).toEqual({ start: '2026-11-23T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' });
    expect(report.asOf).toBe(NOW.toISOString());
    expect(report.runbookCount).toBe(4);
  });

  it('lists untested and stale runbooks by their effective last tested date', () => {
    expect(report.untested).toEqual([{ runbookId: 'RUN-004', title: 'Rotate Credentials', owner: 'Test Team' }]);
    // RUN-003's file says 2026-08-01 (114 days), but a drill passed on 2026-11-20: fresh. RUN-002's drill found gaps: still stale.
    expect(report.stale).toEqual([{ runbookId: 'RUN-002', title: 'Disk Full', owner: 'Test Team', lastTested: '2026-07-01', lastTestedBy: 'file', ageDays: 145 }]);
  });

  it('lists drills overdue, due this week and completed last week', () => {
    expect(report.drills.overdue.map((d) => [d.id, d.runbookId, d.trigger, d.status, d.daysOverdue])).toEqual([
      [ids.d1, 'RUN-002', 'cadence', 'scheduled', 55],
      [ids.d8, 'RUN-004', 'manual', 'scheduled', 3],
    ]);
    expect(report.drills.dueThisWeek.map((d) => [d.id, d.runbookId, d.trigger, d.incidentId, d.dueAt])).toEqual([
      [ids.d3, 'RUN-001', 'escalation', ids.B, '2026-11-25T08:05:00.000Z'],
      [ids.d2, 'RUN-001', 'manual', null, '2026-11-25T10:00:00.000Z'],
    ]);
    expect(report.drills.completedLastWeek).toEqual([
      { id: ids.d7, runbookId: 'RUN-002', completedAt: '2026-11-19T10:00:00.000Z', outcome: 'gaps_found', gaps: 'Step 2 does not say which volume' },
      { id: ids.d6, runbookId: 'RUN-003', completedAt: '2026-11-20T15:00:00.000Z', outcome: 'passed', gaps: null },
    ]);
  });

  it('lists coverage gaps with counts of the unknown alerts received', () => {
    expect(report.coverage.monIdsWithoutRunbook).toEqual([{ monId: 'MON-099', title: 'Queue stuck', runbookId: 'RUN-404' }]);
    expect(report.coverage.unreachedRunbooks).toEqual([{ runbookId: 'RUN-003', title: 'Customer Reported Outage', owner: 'Test Team' }]);
    expect(report.coverage.unknownAlerts).toEqual([
      { monId: 'MON-777', incidents: 1, alerts: 2, sources: ['alertmanager', 'grafana'], lastSeenAt: '2026-11-19T00:01:00.000Z', example: 'Mystery gauge' },
      { monId: null, incidents: 1, alerts: 1, sources: ['datadog'], lastSeenAt: '2026-11-20T06:00:00.000Z', example: 'CPU high' },
    ]);
  });

  it('lists lint errors (file-relative) and counts warnings', () => {
    expect(report.lint.errors.map((f) => [f.file, f.rule])).toEqual([
      ['RUN-004.md', 'missing-last-tested'],
      ['matrix.yml', 'matrix-unknown-runbook'],
    ]);
    // stale RUN-002 and RUN-003 (lint judges the file's own line), unreached RUN-003.
    expect(report.lint.warnings).toBe(3);
  });

  it('computes MTTA and MTTR overall, per severity and per runbook', () => {
    const { incidents } = report;
    expect(incidents.list.map((i) => [i.id, i.ttaMs, i.ttrMs, i.maxEscalationLevel])).toEqual([
      [ids.A, 4 * MIN, 34 * MIN, 1],
      [ids.B, 10 * MIN, 60 * MIN, 2],
      [ids.C, 20 * MIN, null, 0],
      [ids.D, null, 30 * MIN, 0],
      [ids.E, 2 * MIN, 12 * MIN, 0],
    ]);
    // MTTA (4 + 10 + 20 + 2) / 4 = 9m; MTTR (34 + 60 + 30 + 12) / 4 = 34m.
    expect(incidents.overall).toEqual({ incidents: 5, acknowledged: 4, resolved: 4, mttaMs: 9 * MIN, mttrMs: 34 * MIN });
    expect(incidents.bySeverity).toEqual([
      { severity: 'critical', incidents: 2, acknowledged: 2, resolved: 2, mttaMs: 7 * MIN, mttrMs: 47 * MIN },
      { severity: 'warning', incidents: 3, acknowledged: 2, resolved: 2, mttaMs: 11 * MIN, mttrMs: 21 * MIN },
    ]);
    expect(incidents.byRunbook).toEqual([
      { runbookId: 'RUN-001', incidents: 2, acknowledged: 2, resolved: 2, mttaMs: 7 * MIN, mttrMs: 47 * MIN },
      { runbookId: 'RUN-002', incidents: 1, acknowledged: 1, resolved: 0, mttaMs: 20 * MIN, mttrMs: null },
      { runbookId: null, incidents: 2, acknowledged: 1, resolved: 2, mttaMs: 2 * MIN, mttrMs: 21 * MIN },
    ]);
  });

  it('lists escalations past level 1, flapping incidents and failed notifications', () => {
    expect(report.incidents.escalations.map((e) => [e.incidentId, e.escalations, e.maxLevel])).toEqual([
      [ids.B, 1, 2],
      [ids.F, 1, 2],
    ]);
    expect(report.incidents.flapping).toEqual([{ incidentId: ids.E, monId: null, runbookId: null, title: 'CPU high', reopenCount: 3 }]);
    expect(report.incidents.failedNotifications.map((n) => [n.incidentId, n.contactId, n.attempts, n.error])).toEqual([
      [ids.B, 'leads', 8, 'HTTP 500'],
      [ids.B, 'ghost', 0, 'contact "ghost" is not in the matrix or has no channel'],
    ]);
  });

  it('lists open follow-ups with their age', () => {
    expect(report.followUps.map((f) => [f.incidentId, f.text, f.ageDays, f.runbookId])).toEqual([
      [ids.F, 'Document incident timeline', 12, 'RUN-001'],
      [ids.A, 'File ticket for query optimization', 5, 'RUN-001'],
      [ids.A, 'Update this runbook', 5, 'RUN-001'],
    ]);
  });

  it('lists steps that overran their Duration: in incidents and drills', () => {
    expect(report.overruns).toEqual([
      { subject: 'incident', subjectId: ids.A, runbookId: 'RUN-001', stepKey: 'step-1', stepNumber: 1, stepTitle: 'Do Thing 1', expectedMs: 3 * MIN, maxMs: 5 * MIN, actualMs: 6 * MIN, overMax: true },
      { subject: 'drill', subjectId: ids.d6, runbookId: 'RUN-003', stepKey: 'step-1', stepNumber: 1, stepTitle: 'Do Thing 1', expectedMs: 10 * MIN, maxMs: 15 * MIN, actualMs: 20 * MIN, overMax: true },
    ]);
  });

  it('charts incidents and MTTA per day', () => {
    expect(report.chart).toEqual([
      { date: '2026-11-16', incidents: 0, mttaMs: null },
      { date: '2026-11-17', incidents: 1, mttaMs: 4 * MIN },
      { date: '2026-11-18', incidents: 2, mttaMs: 15 * MIN },
      { date: '2026-11-19', incidents: 1, mttaMs: null },
      { date: '2026-11-20', incidents: 1, mttaMs: 2 * MIN },
      { date: '2026-11-21', incidents: 0, mttaMs: null },
      { date: '2026-11-22', incidents: 0, mttaMs: null },
    ]);
    const svg = renderReportChartSvg(report.chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).not.toMatch(/href|<script|url\(/);
    expect([...svg.matchAll(/data-incidents="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([0, 1, 2, 1, 1, 0, 0]);
    expect(svg).toContain('<title>2026-11-18: 2 incidents, MTTA 15m</title>');
    expect(svg.match(/<circle /g)).toHaveLength(3);
  });

  it('renders every section as markdown', () => {
    const md = renderReportMarkdown(report, { publicUrl: 'https://rr.example.com' });
    expect(md).toContain('# Weekly runbook report 2026-W48');
    expect(md).toContain('Incidents of last week (2026-W47, 2026-11-16 to 2026-11-22, UTC)');
    expect(md).toContain('**Summary:** 5 incidents (MTTA 9m, MTTR 34m), 1 untested runbook, 1 stale runbook of 4, 2 overdue drills, 2 drills due this week, 2 lint errors, 3 open follow-ups.');
    expect(md).toContain('| RUN-004 | Rotate Credentials | Test Team |');
    expect(md).toContain('| RUN-002 | Disk Full | Test Team | 2026-07-01 | Last Tested: | 145 |');
    expect(md).toContain(`| [#${ids.d1}](https://rr.example.com/drills/${ids.d1}) | RUN-002 | 2026-09-29 | 55 |`);
    expect(md).toContain('- MON-099 (Queue stuck): runbook RUN-404 does not exist');
    expect(md).toContain('- RUN-003 (Customer Reported Outage): Incident runbook no alert reaches');
    expect(md).toContain('- MON-777 (not in the matrix): 2 alerts in 1 incident from alertmanager, grafana, e.g. "Mystery gauge"');
    expect(md).toContain('- no MON- id: 1 alert in 1 incident from datadog, e.g. "CPU high"');
    expect(md).toContain('- matrix.yml:');
    expect(md).toContain('| critical | 2 | 2 | 7m | 2 | 47m |');
    expect(md).toContain('| no runbook | 2 | 1 | 2m | 2 | 21m |');
    expect(md).toContain(`- #${ids.E} no MON- id CPU high: reopened 3 times`);
    expect(md).toContain(`| incident #${ids.A} | RUN-001 | 1. Do Thing 1 | 3m (max 5m) | 6m (over max) |`);
    expect(md).toContain(`| #${ids.F} | RUN-001 | Document incident timeline | 12 |`);
  });

  it('judges an earlier week at its end, ignoring what happened after', async () => {
    const earlier = await buildWeeklyReport(handle.db, catalog, '2026-W47', NOW, OPTIONS);
    expect(earlier.asOf).toBe('2026-11-23T00:00:00.000Z');
    expect(earlier.period.week).toBe('2026-W46');
    expect(earlier.incidents.list.map((i) => i.id)).toEqual([ids.F]); // G opened in W45
    // F was resolved on 2026-11-16 02:00, after W46 ended... but before the as-of time of W47's report.
    expect(earlier.incidents.list[0]!.ttrMs).toBe(Date.parse('2026-11-16T02:00:00Z') - Date.parse('2026-11-10T11:00:00Z'));
    // At the end of W47 the RUN-003 drill had passed already; the follow-up done on the 24th was open.
    expect(earlier.stale.map((s) => s.runbookId)).toEqual(['RUN-002']);
    expect(earlier.followUps.map((f) => [f.text, f.ageDays])).toEqual([
      ['Document incident timeline', 12],
      ['File ticket for query optimization', 5],
      ['Update this runbook', 5],
    ]);
    const w46 = await buildWeeklyReport(handle.db, catalog, '2026-W46', NOW, OPTIONS);
    expect(w46.asOf).toBe('2026-11-16T00:00:00.000Z');
    expect(w46.stale.map((s) => s.runbookId)).toEqual(['RUN-002', 'RUN-003']);
    expect(w46.followUps.map((f) => f.text)).toEqual(['Document incident timeline']);
  });
});
