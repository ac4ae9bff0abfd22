// The incident page renders each pinned runbook text once and keeps its pinned runbooks in memory; these check what
// must not leak through or go stale in those caches: one incident's alert values on another's page, hostile values
// served from a cached rendering, checks and follow-ups made after a page was rendered. Also the one-statement load
// of an incident against the plain selects it replaced.
import fs from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { getIncidentWork } from '../../src/incidents/incident-queries.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, copyRunbooksWith, incidentIdOf, incidentPage, postAlertmanager } from './helpers.js';

const clock = fixedClock('2026-08-14T09:20:00.000Z');
let database: TestDatabase;
let service: Service;
let runbooksDir: string;

// References in every position markdown gives them: prose, a link's text, target and title, an image, code, a command.
const RUN_002 = `RUN-002: Host checks for {{alert.labels.instance}}
Category: Incident
Trigger: MON-021, MON-022, MON-023, MON-024, MON-025 alerts
Owner: Backend Team
Last Tested: 2026-07-20

## Scope
- **Handles**: Checks on {{alert.labels.instance}}
- **Does NOT handle**: Anything else (see RUN-001)

## Prerequisites
- [ ] Shell on {{alert.labels.instance}}

## Procedure

### Step 1: Look at {{alert.labels.instance}}
Host {{alert.labels.instance}} ({{alert.title}}), see [the dashboard of {{alert.labels.instance}}](https://grafana.example.com/d/host?var-host={{alert.labels.instance}} "{{alert.labels.instance}}").
![graph of {{alert.labels.instance}}](https://grafana.example.com/render/{{alert.labels.instance}}.png) and \`ping {{alert.labels.instance}}\`.

Commands:
\`\`\`bash
ssh "{{alert.labels.instance}}" uptime
\`\`\`

Verification:
- [ ] {{alert.labels.instance}} answers

### Step 2: Done
Nothing more.

Verification:
- [ ] All good
- [ ] Raw <b>markup</b> & "quotes" stay text

## Escalation
- **When to escalate**: {{alert.labels.instance}} stays down
- **Who to contact**: Backend on-call
- **What to provide**: Timeline

## Post-Incident
- [ ] Write up {{alert.labels.instance}}

Linked IDs: MON-021 (alert), RUN-001
`;

const webhook = (body: string) => postAlertmanager(service.app, body);
const page = (id: number) => incidentPage(service.app, id);
const open = async (fingerprint: string, monId: string, instance: string, summary = 'Host checks') =>
  incidentIdOf(await webhook(alertmanagerBody([{ fingerprint, monId, labels: { instance }, annotations: { summary } }])).expect(202));
const json = (path: string, body: object) => request(service.app).post(path).set('Content-Type', 'application/json').send(body);

beforeAll(async () => {
  database = await createTestDatabase();
  runbooksDir = await copyRunbooksWith('RUN-002.md', RUN_002, ['MON-021', 'MON-022', 'MON-023', 'MON-024', 'MON-025'], 'Host check');
  service = await createTestService(database, { RUNBOOKS_DIR: runbooksDir }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
  if (runbooksDir) await fs.rm(runbooksDir, { recursive: true, force: true });
});

describe('incident pages that share a pinned runbook', () => {
  it("each shows its own alert's values, however often and in whatever order they are rendered", async () => {
    const a = await open('c0ffee0000000001', 'MON-021', 'host-alpha:9100');
    const b = await open('c0ffee0000000002', 'MON-022', 'host-bravo:9100');
    const hash = async (id: number) => (await service.db.db.selectFrom('incidents').select('runbook_hash').where('id', '=', id).executeTakeFirstOrThrow()).runbook_hash;
    expect(await hash(a)).toBe(await hash(b));
    for (const id of [a, b, a, b, a]) {
      const [mine, theirs] = id === a ? ['host-alpha:9100', 'host-bravo'] : ['host-bravo:9100', 'host-alpha'];
      const html = await page(id);
      expect(html).not.toContain(theirs);
      // Prose, link text, inline code, the command, the verification item, escalation and the post-incident item.
      expect(html.split(`<span class="ref" title="{{alert.labels.instance}}">${mine}</span>`).length - 1).toBeGreaterThanOrEqual(8);
      expect(html).toContain(`ssh &quot;<span class="ref" title="{{alert.labels.instance}}">${mine}</span>&quot; uptime`);
      // In attributes the value is plain escaped text; in a URL the reference stays as typed.
      expect(html).toContain(`title="${mine}"`);
      expect(html).toContain(`alt="graph of ${mine}"`);
      expect(html).toContain('href="https://grafana.example.com/d/host?var-host=%7B%7Balert.labels.instance%7D%7D"');
      expect(html).toContain('src="https://grafana.example.com/render/%7B%7Balert.labels.instance%7D%7D.png"');
      // A checkbox's label and text are the runbook's words as text, never markup.
      expect(html).toContain('aria-label="Tick: Raw &lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot; stay text"');
      expect(html).toContain('<span class="check-text">Raw &lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot; stay text</span>');
      expect(html).not.toContain('<b>markup');
    }
  });

  it('escapes hostile values and never links them, on the first rendering and on the cached ones', async () => {
    const hostile = [
      ['<script>window.pwned=1</script>', '&lt;script&gt;window.pwned=1&lt;/script&gt;'],
      ['javascript:alert(1)', 'javascript:alert(1)'],
      ['[x](http://evil.example/a)', '[x](http://evil.example/a)'],
      ['http://evil.example/b', 'http://evil.example/b'],
      ['"><img src=x onerror=alert(1)>', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ];
    for (const [n, [value, escaped]] of hostile.entries()) {
      const id = await open(`badc0de00000000${n}`, 'MON-023', value!, `Summary ${value}`);
      for (let round = 0; round < 2; round++) {
        const html = await page(id);
        expect(html).toContain(`<span class="ref" title="{{alert.labels.instance}}">${escaped}</span>`);
        expect(html).toContain(`alt="graph of ${escaped}"`);
        expect(html).not.toContain('<script>window.pwned');
        expect(html).not.toContain('<img src=x');
        expect(html).not.toMatch(/href="javascript:/i);
        expect(html).not.toMatch(/href="http:\/\/evil/);
        expect(html).not.toMatch(/src="http:\/\/evil/);
      }
      // Resolve it, so the next delivery of MON-023 opens an incident of its own.
      await json(`/api/incidents/${id}/resolve`, { by: 'dana' }).expect(200);
      clock.set(new Date(clock.now().getTime() + 3_600_000));
    }
  });

  it('shows a step check and a follow-up made after the page was rendered', async () => {
    const id = await open('c0ffee0000000009', 'MON-024', 'host-charlie:9100');
    expect(await page(id)).toMatch(/id="check-step-1-v1"[^>]*><button form="runbook-checks" [^>]*aria-pressed="false"/);
    await json(`/api/incidents/${id}/steps/step-1.v1`, { checked: true, by: 'dana' }).expect(200);
    const checked = await page(id);
    expect(checked).toMatch(/id="check-step-1-v1"[^>]*><button form="runbook-checks" [^>]*aria-pressed="true"[\s\S]{0,600}dana · <time/);
    await json(`/api/incidents/${id}/steps/step-1.v1`, { checked: false, by: 'sam' }).expect(200);
    expect(await page(id)).toMatch(/id="check-step-1-v1"[^>]*><button form="runbook-checks" [^>]*aria-pressed="false"/);

    await json(`/api/incidents/${id}/resolve`, { by: 'dana' }).expect(200);
    const resolved = await page(id);
    expect(resolved).toContain('Post-incident follow-ups');
    expect(resolved).toContain('<span class="ref" title="{{alert.labels.instance}}">host-charlie:9100</span>');
    await json(`/api/incidents/${id}/follow-ups/post-1`, { done: true, by: 'sam' }).expect(200);
    expect(await page(id)).toMatch(/id="check-follow-post-1"[\s\S]{0,1500}sam/);
  });
});

describe('the incident page reads an incident in one statement', () => {
  it('returns what the plain selects return, loaded whole: the same rows, order and types (dates as Date)', async () => {
    const id = await open('c0ffee0000000010', 'MON-025', 'host-delta:9100');
    await webhook(alertmanagerBody([{ fingerprint: 'c0ffee0000000011', monId: 'MON-025', labels: { instance: 'host-echo:9100' } }])).expect(202);
    await json(`/api/incidents/${id}/acknowledge`, { by: 'dana' }).expect(200);
    await json(`/api/incidents/${id}/steps/prereq-1`, { checked: true, by: 'dana' }).expect(200);
    await json(`/api/incidents/${id}/steps/step-1.v1`, { checked: true, by: 'sam' }).expect(200);
    await json(`/api/incidents/${id}/notes`, { text: 'looking', by: 'sam' }).expect(201);
    await json(`/api/incidents/${id}/resolve`, { by: 'dana' }).expect(200);
    await json(`/api/incidents/${id}/follow-ups/post-1`, { done: true, by: 'sam' }).expect(200);

    const db = service.db.db;
    const work = await getIncidentWork(db, id);
    expect(work).not.toBeNull();
    expect(work!.incident).toEqual(await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    expect(work!.alerts).toEqual(await db.selectFrom('alert_instances').selectAll().where('incident_id', '=', id).orderBy('first_seen_at').orderBy('id').execute());
    expect(work!.timeline).toEqual(await db.selectFrom('incident_events').selectAll().where('incident_id', '=', id).orderBy('id').execute());
    expect(work!.checks).toEqual(await db.selectFrom('step_checks').selectAll().where('incident_id', '=', id).orderBy('id').execute());
    expect(work!.followUps).toEqual(await db.selectFrom('follow_ups').selectAll().where('incident_id', '=', id).orderBy('id').execute());
    expect(work!.alerts).toHaveLength(2);
    // Loaded whole (the default, as the retro loads it): nothing left out, and the counts agree with the rows.
    expect(work!.alertCounts).toEqual({ total: 2, firing: 2, byStatus: { firing: 2 } });
    expect(work!.timelineExtent).toEqual({ total: work!.timeline.length, hidden: 0, gapAt: null });
    expect(work!.checks).toHaveLength(2);
    expect(work!.followUps.some((f) => f.done_at instanceof Date)).toBe(true);
    expect(work!.timeline.every((e) => e.at instanceof Date)).toBe(true);
    expect(await getIncidentWork(db, 987654)).toBeNull();
  });
});
