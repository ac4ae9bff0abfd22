// The runbook catalog pages and their JSON (issue 3): the list with effective last-tested dates (file or passed drill)
// and lint counts, one runbook rendered, the matrix with its gaps, reloading.
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { effectiveLastTested } from '../../src/runbooks/freshness.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { copyRunbooks } from './helpers.js';

const clock = fixedClock('2026-08-14T09:20:00Z');
const html = { Accept: 'text/html' };
let database: TestDatabase;
let service: Service;
let runbooksDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  runbooksDir = await copyRunbooks();
  service = await createTestService(database, { RUNBOOKS_DIR: runbooksDir, STALE_AFTER_DAYS: '90' }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
  if (runbooksDir) await fs.rm(runbooksDir, { recursive: true, force: true });
});

describe('effectiveLastTested', () => {
  const now = new Date('2026-08-14T09:20:00Z');
  const options = { now, staleAfterDays: 90 };
  it('takes the later of the file date and the last passed drill', () => {
    expect(effectiveLastTested({ lastTested: '2026-07-20' }, null, options)).toEqual({ date: new Date('2026-07-20T00:00:00Z'), source: 'file', stale: false, ageDays: 25 });
    expect(effectiveLastTested({ lastTested: '2026-07-20' }, new Date('2026-08-01T12:00:00Z'), options)).toEqual({ date: new Date('2026-08-01T12:00:00Z'), source: 'drill', stale: false, ageDays: 12 });
    expect(effectiveLastTested({ lastTested: '2026-07-20' }, new Date('2026-01-01T00:00:00Z'), options).source).toBe('file');
    expect(effectiveLastTested({ lastTested: null }, new Date('2026-08-01T00:00:00Z'), options).source).toBe('drill');
  });
  it('is stale past the limit (whole days, like lint) and when never tested', () => {
    expect(effectiveLastTested({ lastTested: '2026-05-16' }, null, options)).toMatchObject({ stale: false, ageDays: 90 });
    expect(effectiveLastTested({ lastTested: '2026-05-15' }, null, options)).toMatchObject({ stale: true, ageDays: 91 });
    expect(effectiveLastTested({ lastTested: null }, null, options)).toEqual({ date: null, source: 'file', stale: true, ageDays: null });
  });
  it('does not trust a Last Tested date after today: untested, and a drill passed meanwhile counts', () => {
    expect(effectiveLastTested({ lastTested: '2027-06-01' }, null, options)).toEqual({ date: null, source: 'file', stale: true, ageDays: null });
    expect(effectiveLastTested({ lastTested: '2027-06-01' }, new Date('2026-08-01T12:00:00Z'), options)).toEqual({ date: new Date('2026-08-01T12:00:00Z'), source: 'drill', stale: false, ageDays: 12 });
    expect(effectiveLastTested({ lastTested: '2026-08-14' }, null, options)).toMatchObject({ source: 'file', stale: false, ageDays: 0 });
    // Tomorrow in UTC is today in Auckland.
    expect(effectiveLastTested({ lastTested: '2026-08-15' }, null, options)).toMatchObject({ source: 'file', stale: false, date: new Date('2026-08-15T00:00:00Z') });
    expect(effectiveLastTested({ lastTested: '2026-08-16' }, null, options)).toMatchObject({ date: null, stale: true });
  });
});

describe('/runbooks and /api/runbooks', () => {
  it('lists every runbook with owner, last tested, stale flag and lint counts', async () => {
    const res = await request(service.app).get('/api/runbooks').expect(200);
    const byId = Object.fromEntries(res.body.runbooks.map((r: { id: string }) => [r.id, r]));
    expect(Object.keys(byId)).toEqual(['RUN-001', 'RUN-011']);
    expect(byId['RUN-001']).toMatchObject({
      title: 'Database Connection Pool Exhaustion',
      category: 'Incident',
      owner: 'Backend Team',
      file: 'RUN-001.md',
      alerts: ['MON-005'],
      lastTested: { date: '2026-07-20', source: 'file', stale: false, ageDays: 25 },
      findings: { errors: 0, warnings: 0 },
    });
    // RUN-011: stale (2025-01-10) and reached by no alert.
    expect(byId['RUN-011']).toMatchObject({ lastTested: { date: '2025-01-10', source: 'file', stale: true }, findings: { errors: 0, warnings: 2 }, alerts: [] });
    expect(res.body.findings).toEqual({ errors: 1, warnings: 2 });

    const page = (await request(service.app).get('/runbooks').set(html).expect(200)).text;
    const row011 = page.slice(page.indexOf('href="/runbooks/RUN-011"'));
    expect(row011.slice(0, 1500)).toContain('2025-01-10');
    expect(row011.slice(0, 1500)).toContain('flag-stale">Stale<');
    expect(row011.slice(0, 1500)).toContain('2 warnings');
    const row001 = page.slice(page.indexOf('href="/runbooks/RUN-001"'), page.indexOf('href="/runbooks/RUN-011"'));
    expect(row001).toContain('Backend Team');
    expect(row001).not.toContain('Stale');
    expect(page).toContain('matrix-unknown-runbook');
  });

  it('a passed drill makes a stale runbook fresh; a failed one does not', async () => {
    const drill = (outcome: 'passed' | 'gaps_found', completedAt: string) =>
      service.db.db
        .insertInto('drills')
        .values({ runbook_id: 'RUN-011', reason: 'test', trigger: 'manual', status: 'completed', due_at: completedAt, created_at: completedAt, completed_at: completedAt, outcome })
        .execute();
    await drill('gaps_found', '2026-08-12T10:00:00Z');
    let r = (await request(service.app).get('/api/runbooks').expect(200)).body.runbooks.find((x: { id: string }) => x.id === 'RUN-011');
    expect(r.lastTested).toMatchObject({ date: '2025-01-10', source: 'file', stale: true });
    await drill('passed', '2026-08-10T15:30:00Z');
    r = (await request(service.app).get('/api/runbooks').expect(200)).body.runbooks.find((x: { id: string }) => x.id === 'RUN-011');
    expect(r.lastTested).toEqual({ date: '2026-08-10', source: 'drill', stale: false, ageDays: 3 });
    expect(r.lastPassedDrillAt).toBe('2026-08-10T15:30:00.000Z');
    const page = (await request(service.app).get('/runbooks').set(html)).text;
    expect(page.slice(page.indexOf('href="/runbooks/RUN-011"')).slice(0, 1500)).toContain('passed drill');
  });

  it('renders one runbook: steps, commands in code blocks, verification checklists, escalation and its lint findings', async () => {
    const page = (await request(service.app).get('/runbooks/RUN-001').set(html).expect(200)).text;
    expect(page).toContain('<span class="run-id">RUN-001</span> Database Connection Pool Exhaustion');
    expect(page).toMatch(/<pre><code>export PGHOST=\$\(echo &quot;<span class="ref ref-missing" title="filled from the alert on the incident page">\{\{alert\.labels\.instance\}\}<\/span>&quot;/);
    expect(page).toContain('<span class="fill" title="fill in before running">&lt;problematic_pid&gt;</span>');
    expect(page).toContain('Connection count dropping within 2 minutes');
    expect(page).toContain('Issue persists &gt;15 minutes');
    expect(page).toContain('Database Team Lead (Slack: @db-team)');
    expect(page).toContain('No lint findings.');
    // Read-only: no forms on the catalog page's checklists.
    expect(page).not.toContain('/steps/');
    expect(page).toContain('<strong>MON-005</strong> Database connection pool above 90%');

    const other = (await request(service.app).get('/runbooks/RUN-011').set(html).expect(200)).text;
    expect(other).toContain('unreached-runbook');
    // Raw HTML in runbook markdown is text (markdown-it with html disabled).
    expect(other).toContain('&lt;script&gt;window.pwnedRunbook=1&lt;/script&gt;');
    expect(other).not.toContain('<script>window.pwnedRunbook');
    expect(other).not.toContain('<img src=x');

    const json = (await request(service.app).get('/api/runbooks/run-001').expect(200)).body;
    expect(json.runbook.steps.map((s: { key: string }) => s.key)).toEqual(['step-1', 'step-2', 'step-3']);
    expect(json.runbook.steps[1]).toMatchObject({ checkpoint: true, duration: { expectedMs: 300_000, maxMs: 600_000 } });
    expect(json.findings).toEqual([]);
    expect((await request(service.app).get('/api/runbooks/RUN-011').expect(200)).body.findings.map((f: { rule: string }) => f.rule)).toEqual(['unreached-runbook', 'stale']);
    await request(service.app).get('/api/runbooks/RUN-999').expect(404);
    const missing = await request(service.app).get('/runbooks/RUN-999').set(html).expect(404);
    expect(missing.text).toContain('Runbook RUN-999 not found');
  });
});

describe('/matrix and /api/matrix', () => {
  it('shows MON- → RUN-, severity, the escalation chain by name, and the gaps', async () => {
    const m = (await request(service.app).get('/api/matrix').expect(200)).body;
    expect(m.alerts).toEqual([
      {
        monId: 'MON-005',
        title: 'Database connection pool above 90%',
        runbookId: 'RUN-001',
        runbookTitle: 'Database Connection Pool Exhaustion',
        runbookExists: true,
        severity: 'critical',
        escalation: [
          { id: 'backend-oncall', name: 'Backend on-call', known: true },
          { id: 'db-lead', name: 'Database Team Lead', known: true },
        ],
      },
      { monId: 'MON-404', title: 'Replication lag above 60s', runbookId: 'RUN-404', runbookTitle: null, runbookExists: false, severity: 'warning', escalation: [{ id: 'backend-oncall', name: 'Backend on-call', known: true }] },
    ]);
    expect(m.gaps).toEqual({
      missingRunbooks: [{ monId: 'MON-404', title: 'Replication lag above 60s', runbookId: 'RUN-404' }],
      unreachedRunbooks: [{ id: 'RUN-011', title: 'Network Partition Between Zones' }],
    });
    expect(m.severities[0]).toEqual({ name: 'critical', page: true, ackWithin: '5m', repeatEvery: '10m', drillEvery: '30d' });
    // Notification URLs (Slack webhook URLs are credentials) are never shown.
    expect(JSON.stringify(m)).not.toContain('secret-slack-token');

    const page = (await request(service.app).get('/matrix').set(html).expect(200)).text;
    expect(page).toContain('Coverage gaps');
    expect(page).toMatch(/<strong>MON-404<\/strong> Replication lag above 60s — routes to RUN-404, which does not exist/);
    expect(page).toContain('<span class="run-id">RUN-011</span> Network Partition Between Zones');
    expect(page).toMatch(/<span class="lvl">L1<\/span> Backend on-call<\/li><li><span class="lvl">L2<\/span> Database Team Lead/);
    expect(page).not.toContain('secret-slack-token');
  });
});

describe('POST /api/runbooks/reload', () => {
  it('answers ok with the findings; a file that stops parsing keeps its last good version and reports why', async () => {
    const ok = await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    // The fixture matrix routes MON-404 to a runbook that does not exist: a gap the reload names, not an error of the reload.
    expect(ok.body).toMatchObject({ ok: true, runbooks: 2, findings: [{ file: 'matrix.yml', rule: 'matrix-unknown-runbook', severity: 'warning', message: "alerts.MON-404.runbook: RUN-404 does not exist, so MON-404's incidents open without a runbook" }] });
    // Reload without a body works too (still JSON content type).
    await request(service.app).post('/api/runbooks/reload').set('Content-Type', 'application/json').expect(200);
    await request(service.app).post('/api/runbooks/reload').expect(415);

    await fs.writeFile(path.join(runbooksDir, 'RUN-011.md'), 'not a runbook at all\n');
    const bad = await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.findings.map((f: { file: string; rule: string }) => `${f.file} ${f.rule}`)).toContain('RUN-011.md parse');
    expect(service.catalog.current().runbooks.get('RUN-011')?.title).toBe('Network Partition Between Zones');

    // The page's reload form goes through the CSRF check.
    const agent = request.agent(service.app);
    const page = await agent.get('/runbooks').set(html).expect(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    await agent.post('/runbooks/reload').type('form').send({}).expect(403);
    const redirected = await agent.post('/runbooks/reload').type('form').send({ _csrf: token }).expect(303);
    expect(redirected.headers.location).toBe('/runbooks?reloaded=errors');
    expect((await agent.get('/runbooks?reloaded=errors').set(html)).text).toContain('Catalog reloaded with errors');
  });
});
