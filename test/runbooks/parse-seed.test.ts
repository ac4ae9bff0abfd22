// The seed's own RUN-001 and RUN-002 (test/fixtures/runbooks, copied verbatim from run-entries-skill.md,
// escaped fences and all) must parse field by field.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../../src/runbooks/parse-runbook.js';
import type { Runbook } from '../../src/runbooks/runbook.js';
import { fixture } from './helpers.js';

function parseFixture(name: string): { runbook: Runbook; text: string; findings: ReturnType<typeof parseRunbook>['findings'] } {
  const text = readFileSync(fixture(name), 'utf8');
  const { runbook, findings } = parseRunbook(text, name);
  expect(runbook).not.toBeNull();
  return { runbook: runbook!, text, findings };
}

describe('seed RUN-001', () => {
  const { runbook, text, findings } = parseFixture('RUN-001.md');

  it('parses without findings', () => {
    expect(findings).toEqual([]);
  });

  it('reads the header lines', () => {
    expect(runbook.id).toBe('RUN-001');
    expect(runbook.title).toBe('Database Connection Pool Exhaustion');
    expect(runbook.category).toBe('Incident');
    expect(runbook.trigger).toEqual({ text: 'MON-005 alert (connection pool >90%) — from v0.8 Monitoring Setup', monIds: ['MON-005'], line: 3 });
    expect(runbook.owner).toBe('Backend Team');
    expect(runbook.lastTested).toBe('2025-02-20');
    expect(runbook.lines).toMatchObject({ id: 1, category: 2, trigger: 3, owner: 4, lastTested: 5, prerequisites: 9, procedure: 14, postIncident: 52, linkedIds: 57 });
  });

  it('reads the scope with its RUN- references', () => {
    expect(runbook.scope.line).toBe(6);
    expect(runbook.scope.handles).toEqual([
      { text: 'Connection pool saturation', refs: [], line: 7 },
      { text: 'slow queries causing pooling', refs: [], line: 7 },
    ]);
    expect(runbook.scope.doesNotHandle).toEqual([
      { text: 'Database server crash', refs: ['RUN-010'], line: 8 },
      { text: 'Network failure', refs: ['RUN-011'], line: 8 },
    ]);
  });

  it('reads the prerequisites', () => {
    expect(runbook.prerequisites.map((p) => [p.key, p.text, p.line])).toEqual([
      ['prereq-1', 'Access to AWS RDS console', 10],
      ['prereq-2', 'PostgreSQL read credentials in LastPass', 11],
      ['prereq-3', 'PagerDuty access for escalation', 12],
      ['prereq-4', 'Datadog dashboard access (MON-005 source)', 13],
    ]);
  });

  it('reads four steps with commands from the escaped fences and their verification items', () => {
    const steps = runbook.steps;
    expect(steps.map((s) => [s.key, s.number, s.title, s.line])).toEqual([
      ['step-1', 1, 'Verify Alert', 15],
      ['step-2', 2, 'Identify Problematic Queries', 24],
      ['step-3', 3, 'Kill Problematic Queries (if safe)', 34],
      ['step-4', 4, 'Investigate Root Cause', 44],
    ]);
    expect(steps.map((s) => s.commands.map((c) => [c.lang, c.line]))).toEqual([[['sql', 18]], [['sql', 27]], [['sql', 37]], []]);
    expect(steps[0]!.commands[0]!.code).toBe(
      "SELECT count(*) FROM pg_stat_activity WHERE state = 'active';\nSELECT * FROM pg_stat_activity WHERE state = 'active' ORDER BY query_start;",
    );
    expect(steps[2]!.commands[0]!.code).toContain('WHERE pid = <problematic_pid>;');
    expect(steps[0]!.prose).toBe('Check current connection pool status:');
    expect(steps.map((s) => s.verification.map((v) => [v.key, v.line]))).toEqual([
      [['step-1.v1', 23]],
      [['step-2.v1', 33]],
      [['step-3.v1', 42], ['step-3.v2', 43]],
      [],
    ]);
    expect(steps[2]!.verification[1]!.text).toBe('MON-005 alert resolving');
    expect(steps.every((s) => s.duration === null && s.rollback === null && !s.checkpoint)).toBe(true);
  });

  it('keeps step 4 bullet list as prose (instructions, no verification)', () => {
    expect(runbook.steps[3]!.prose).toBe(
      '- Check recent deployments (last 24h via git log)\n- Review application logs for query patterns (Datadog logs)\n- Check for missing indexes on recent queries',
    );
  });

  it('reads escalation, post-incident and linked ids', () => {
    expect(runbook.escalation).toEqual({
      when: 'Issue persists >15 minutes, data integrity concern, cannot kill queries safely',
      who: 'Database Team Lead (Slack: @db-team, PagerDuty)',
      what: 'Timeline, queries identified, actions taken, connection count trend',
      line: 48,
      lines: { when: 49, who: 50, what: 51 },
    });
    expect(runbook.postIncident.map((p) => [p.key, p.line])).toEqual([['post-1', 53], ['post-2', 54], ['post-3', 55], ['post-4', 56]]);
    // The Linked IDs line directly follows the list; it must not end up in the last item.
    expect(runbook.postIncident[3]!.text).toBe('Schedule team drill of this runbook within 1 week if escalated');
    expect(runbook.linkedIds).toEqual(['MON-005', 'DEP-001', 'RISK-008']);
    expect(runbook.references).toEqual([{ id: 'RUN-010', line: 8 }, { id: 'RUN-011', line: 8 }]);
  });

  it('keeps the raw text, its sha256 and stable keys', () => {
    expect(runbook.text).toBe(text);
    expect(runbook.hash).toBe(createHash('sha256').update(text).digest('hex'));
    const again = parseRunbook(text, 'RUN-001.md').runbook!;
    expect(again.steps.flatMap((s) => [s.key, ...s.verification.map((v) => v.key)])).toEqual(runbook.steps.flatMap((s) => [s.key, ...s.verification.map((v) => v.key)]));
    expect(again.hash).toBe(runbook.hash);
  });
});

describe('seed RUN-002', () => {
  const { runbook, findings } = parseFixture('RUN-002.md');

  it('parses without findings and reads the header', () => {
    expect(findings).toEqual([]);
    expect(runbook).toMatchObject({ id: 'RUN-002', title: 'Production Deployment Procedure', category: 'Deployment', owner: 'DevOps Team', lastTested: '2025-02-18' });
    expect(runbook.trigger).toEqual({ text: 'Scheduled release when all DEP- criteria met', monIds: [], line: 3 });
  });

  it('reads the scope', () => {
    expect(runbook.scope.handles).toEqual([{ text: 'Standard production deployments (mainline releases)', refs: [], line: 7 }]);
    expect(runbook.scope.doesNotHandle.map((s) => [s.text, s.refs])).toEqual([
      ['Hotfix deployments', ['RUN-003']],
      ['Database migrations', ['RUN-004']],
      ['Emergency rollback', ['RUN-005']],
    ]);
  });

  it('reads seven prerequisites', () => {
    expect(runbook.prerequisites).toHaveLength(7);
    expect(runbook.prerequisites[0]).toEqual({ key: 'prereq-1', text: 'All DEP- criteria verified', line: 10 });
    expect(runbook.prerequisites[6]).toEqual({ key: 'prereq-7', text: 'On-call engineer available for rollback (next 30 minutes)', line: 16 });
  });

  it('reads five steps; step 5 has verification but no commands', () => {
    expect(runbook.steps.map((s) => [s.number, s.title, s.line, s.commands.length, s.verification.length])).toEqual([
      [1, 'Pre-Deploy Announcement', 18, 1, 1],
      [2, 'Create Deployment Checkpoint', 26, 1, 1],
      [3, 'Execute Deployment', 35, 1, 2],
      [4, 'Post-Deploy Validation', 44, 1, 3],
      [5, 'Monitor for 30 Minutes', 54, 0, 4],
    ]);
    expect(runbook.steps.map((s) => s.commands[0]?.line ?? null)).toEqual([21, 29, 38, 47, null]);
    expect(runbook.steps[1]!.commands[0]).toEqual({
      lang: 'bash',
      code: 'git tag -a "pre-deploy-$(date +%Y%m%d-%H%M)" -m "Checkpoint before v${VERSION}"\ngit push origin --tags',
      line: 29,
    });
    expect(runbook.steps[3]!.verification.map((v) => v.line)).toEqual([51, 52, 53]);
    expect(runbook.steps[4]!.prose).toBe('Watch dashboards for anomalies:');
    expect(runbook.steps[4]!.verification[1]!.text).toBe('Latency (MON-001) within normal range (<500ms p95)');
  });

  it('reads escalation and treats Post-Deployment as the post-incident section', () => {
    expect(runbook.escalation).toMatchObject({
      when: 'Smoke tests fail, error rate >2%, user reports critical issue, latency >2s',
      who: 'On-call engineer (PagerDuty), then Tech Lead',
      what: 'Version deployed, failure mode, logs from Datadog, timeline',
      line: 61,
    });
    expect(runbook.lines.postIncident).toBe(65);
    expect(runbook.postIncident.map((p) => [p.key, p.text, p.line])).toEqual([
      ['post-1', 'Post deployment success to #deployments', 66],
      ['post-2', 'Update deployment log in runbook folder', 67],
      ['post-3', 'If issues: Escalate and execute RUN-005 (emergency rollback)', 68],
    ]);
  });

  it('expands DEP-001/002/003/004 in Linked IDs', () => {
    expect(runbook.linkedIds).toEqual(['DEP-001', 'DEP-002', 'DEP-003', 'DEP-004', 'RUN-005']);
    expect(runbook.lines.linkedIds).toBe(69);
    expect(runbook.references.map((r) => `${r.id}@${r.line}`)).toEqual(['RUN-003@8', 'RUN-004@8', 'RUN-005@8', 'RUN-005@68', 'RUN-005@69']);
  });
});
