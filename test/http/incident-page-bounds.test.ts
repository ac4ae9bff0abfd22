// The incident page of an alert storm. It listed every alert instance and every timeline event: 10,000 instances made a
// 13 MB page, slow enough to hold up webhook answers, with the runbook 700,000 px down on a phone. Now the page, the
// resolve question and GET /api/incidents/:id load at most 50 alerts (those still firing first) and the latest 200
// events (with the openings, acknowledgements and reopenings before them, which step clocks read), count the rest and
// link to all of it; the retro still gets everything.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { BOUNDED, getIncidentWork } from '../../src/incidents/incident-queries.js';
import type { Service } from '../../src/service.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, csrfToken, incidentIdOf, postAlertmanager } from './helpers.js';

// After 10:30, when alertmanagerBody's resolutions end: a firing that starts later reopens.
const T0 = Date.parse('2026-08-14T11:00:00.000Z');
const clock = fixedClock(new Date(T0).toISOString());
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
let database: TestDatabase;
let service: Service;
/** MON-404 (not in the matrix): 130 alert instances, the first 70 resolved again, 20 notes. */
let storm: number;
/** MON-005 (RUN-001): acknowledged, step 1 ticked, resolved, reopened, then 210 notes. */
let reopened: number;

const ALERTS = 130;
const RESOLVED = 70;
const fingerprint = (n: number) => `5709${String(n).padStart(12, '0')}`;
const html = { Accept: 'text/html' };
const get = async (path: string) => (await request(service.app).get(path).set(html).expect(200)).text;
const note = (id: number, text: string) => request(service.app).post(`/api/incidents/${id}/notes`).send({ text, by: 'sam' }).expect(201);
const alertBlocks = (page: string) => [...page.matchAll(/<div class="alert alert-(\w+)">/g)].map((m) => m[1]);
const eventItems = (page: string) => page.match(/<li class="ev ev-/g)?.length ?? 0;
const eventTotal = async (id: number) => (await service.db.db.selectFrom('incident_events').select('id').where('incident_id', '=', id).execute()).length;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: await runbooksWithMatrix(sinkMatrix('http://127.0.0.1:9', { ackWithin: '5m' })) }, { clock });
  const stormAlerts = Array.from({ length: ALERTS }, (_, n) => ({ fingerprint: fingerprint(n), monId: 'MON-404', labels: { instance: `web-${n}:9100` } }));
  storm = incidentIdOf(await postAlertmanager(service.app, alertmanagerBody(stormAlerts)).expect(202));
  clock.set(at(1));
  await postAlertmanager(service.app, alertmanagerBody(stormAlerts.slice(0, RESOLVED).map((a) => ({ ...a, status: 'resolved' as const })))).expect(202);
  for (let n = 0; n < 20; n++) await note(storm, `storm note ${n}`);

  clock.set(at(0));
  reopened = incidentIdOf(await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'ae0e000000000001' }])).expect(202));
  clock.set(at(1));
  await request(service.app).post(`/api/incidents/${reopened}/acknowledge`).send({ by: 'dana' }).expect(200);
  clock.set(at(3));
  await request(service.app).post(`/api/incidents/${reopened}/steps/step-1`).send({ checked: true, by: 'dana' }).expect(200);
  clock.set(at(5));
  await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'ae0e000000000001', status: 'resolved' }])).expect(202);
  clock.set(at(10));
  expect(incidentIdOf(await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'ae0e000000000001', startsAt: at(10).toISOString() }])).expect(202))).toBe(reopened);
  for (let n = 0; n < 210; n++) await note(reopened, `reopened note ${n}`);
  clock.set(at(12));
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('the incident page of an alert storm', () => {
  it('lists 50 alerts, the firing ones first, with the counts of all and a link to every one', async () => {
    const page = await get(`/incidents/${storm}`);
    expect(alertBlocks(page)).toEqual(Array(50).fill('firing'));
    expect(page).toContain(`<h2 id="alerts-h">Alerts <span class="count">${ALERTS}</span></h2>`);
    expect(page).toContain(`<a href="#alerts">Alerts (${ALERTS})</a>`);
    expect(page).toContain(`60 firing, 70 resolved: the 50 shown are the first still firing. <a href="/incidents/${storm}?all&#x3D;alerts#alerts">Show all ${ALERTS}</a>`);
    // Next to Resolve, what fires is counted over every alert, not the 50 loaded.
    expect(page).toContain('<span class="firing-note" id="firing-note">60 alerts still firing</span>');
    // The first still firing, first seen first: instances 70 to 119.
    expect(page).toContain('<th scope="row">instance</th><td>web-70:9100</td>');
    expect(page).toContain('<th scope="row">instance</th><td>web-119:9100</td>');
    expect(page).not.toContain('<td>web-120:9100</td>');

    const all = await get(`/incidents/${storm}?all=alerts`);
    const blocks = alertBlocks(all);
    expect(blocks).toHaveLength(ALERTS);
    expect(blocks.slice(0, 60)).toEqual(Array(60).fill('firing'));
    expect(all).not.toContain('the 50 shown are');
  });

  it('shows the latest 200 events, then where the rest were left out, then the opening; all of them on request', async () => {
    const total = await eventTotal(storm);
    expect(total).toBe(1 + ALERTS + RESOLVED + 20);
    const page = await get(`/incidents/${storm}`);
    // The latest 200 and the opening before them.
    expect(eventItems(page)).toBe(201);
    expect(page).toContain(`<h2 id="tl-h">Timeline <span class="count">${total}</span></h2>`);
    const gap = page.indexOf('<li class="tl-gap">');
    expect(gap).toBeGreaterThan(page.indexOf('storm note 0'));
    expect(page.indexOf('Incident opened from alertmanager')).toBeGreaterThan(gap);
    expect(page.slice(gap, page.indexOf('</li>', gap))).toContain(`${total - 201} earlier events not shown`);
    expect(page).toContain(`<a href="/incidents/${storm}?all&#x3D;timeline#timeline">Show all ${total}</a>`);

    const whole = await get(`/incidents/${storm}?all=timeline`);
    expect(eventItems(whole)).toBe(total);
    expect(whole).not.toContain('tl-gap');
    // Each list's link keeps the other one whole.
    expect(whole).toContain(`href="/incidents/${storm}?all&#x3D;timeline,alerts#alerts"`);
    const both = await get(`/incidents/${storm}?all=alerts,timeline`);
    expect(alertBlocks(both)).toHaveLength(ALERTS);
    expect(eventItems(both)).toBe(total);
    await request(service.app).get(`/incidents/${storm}?all=everything`).set(html).expect(400);
  });

  it('writes the whole record into the retro', async () => {
    const retro = await get(`/incidents/${storm}/retro.md`);
    expect(retro.match(/^- \*\*alertmanager\*\* /gm)).toHaveLength(ALERTS);
    const timeline = retro.slice(retro.indexOf('## Timeline (UTC)'), retro.indexOf('## Runbook record'));
    expect(timeline.match(/^\| (?!Time|---)/gm)).toHaveLength(await eventTotal(storm));
  });

  it('bounds GET /api/incidents/:id the same way, saying how much it left out; ?all= loads it whole', async () => {
    const total = await eventTotal(storm);
    const bounded = (await request(service.app).get(`/api/incidents/${storm}`).expect(200)).body;
    expect(bounded.alerts).toHaveLength(50);
    expect(bounded.alerts.every((a: { status: string }) => a.status === 'firing')).toBe(true);
    expect(bounded).toMatchObject({ alertCount: ALERTS, alertsByStatus: { firing: 60, acknowledged: 0, resolved: RESOLVED }, alertsOmitted: ALERTS - 50 });
    expect(bounded.timeline).toHaveLength(201);
    expect(bounded.timeline[0].kind).toBe('opened');
    expect(bounded).toMatchObject({ timelineCount: total, timelineOmitted: total - 201 });

    const whole = (await request(service.app).get(`/api/incidents/${storm}?all=alerts,timeline`).expect(200)).body;
    expect(whole.alerts).toHaveLength(ALERTS);
    expect(whole.timeline).toHaveLength(total);
    expect(whole).toMatchObject({ alertCount: ALERTS, alertsOmitted: 0, timelineCount: total, timelineOmitted: 0 });
    expect((await request(service.app).get(`/api/incidents/${storm}?all=nope`).expect(400)).body.error).toMatch(/all/);
  });

  it('asks before resolving with the count of every firing alert, listing 50', async () => {
    const agent = request.agent(service.app);
    const token = csrfToken((await agent.get(`/incidents/${storm}`).set(html).expect(200)).text);
    const ask = (await agent.post(`/incidents/${storm}/resolve`).type('form').send({ _csrf: token }).expect(200)).text;
    expect(ask).toContain('<h1 id="confirm-h">60 alerts are still firing</h1>');
    expect(ask).toContain('Still firing at alertmanager. Resolve anyway?');
    expect(ask.match(/<li><span class="alert-src">/g)).toHaveLength(50);
    expect(ask).toContain(`<li class="muted"><a href="/incidents/${storm}?all&#x3D;alerts#alerts">and 10 more alerts</a></li>`);
    expect((await service.db.db.selectFrom('incidents').select('status').where('id', '=', storm).executeTakeFirstOrThrow()).status).toBe('triggered');
  });

  it('loads in one statement what plain selects within the same bounds return', async () => {
    const db = service.db.db;
    const work = (await getIncidentWork(db, storm, BOUNDED))!;
    const firingFirst = await db.selectFrom('alert_instances').selectAll().where('incident_id', '=', storm).orderBy(({ eb }) => eb('status', '=', 'resolved')).orderBy('first_seen_at').orderBy('id').limit(50).execute();
    expect(work.alerts).toEqual(firingFirst.sort((a, b) => a.first_seen_at.getTime() - b.first_seen_at.getTime() || a.id - b.id));
    expect(work.alertCounts).toEqual({ total: ALERTS, firing: 60, byStatus: { firing: 60, resolved: RESOLVED } });
    const events = await db.selectFrom('incident_events').selectAll().where('incident_id', '=', storm).orderBy('id').execute();
    const latest = events.slice(-200);
    expect(work.timeline).toEqual([...events.slice(0, -200).filter((e) => ['opened', 'acknowledged', 'reopened'].includes(e.kind)), ...latest]);
    expect(work.timelineExtent).toEqual({ total: events.length, hidden: events.length - 201, gapAt: 1 });
  });
});

describe('a bounded timeline and the step clock', () => {
  it('still times the steps from the acknowledgement and the reopening left out of the latest events', async () => {
    const total = await eventTotal(reopened);
    const page = await get(`/incidents/${reopened}`);
    expect(eventItems(page)).toBeLessThan(total);
    // The step API and the page (both bounded, both keeping the older openings, acknowledgements and reopenings) agree:
    // step 1 took 2m from the acknowledgement; step 2, running when the incident reopened at 11:10, resumed then.
    const steps = (await request(service.app).get(`/api/incidents/${reopened}/steps`).expect(200)).body.steps;
    expect(steps[0]).toMatchObject({ key: 'step-1', actualMs: 120_000 });
    expect(steps[1]).toMatchObject({ key: 'step-2', startedAt: '2026-08-14T11:10:00.000Z', state: 'running' });
    const step2 = page.slice(page.indexOf('id="step-2"'));
    expect(step2).toMatch(/^[^]*?data-timer data-started="2026-08-14T11:10:00.000Z"/);
    const step1 = page.slice(page.indexOf('id="step-1"'), page.indexOf('id="step-2"'));
    expect(step1).toContain('<span class="timing-actual">took 2m</span>');
    // The acknowledgement and the reopening are listed below the gap.
    const gap = page.indexOf('<li class="tl-gap">');
    expect(gap).toBeGreaterThan(0);
    expect(page.indexOf('Reopened: the alert fired again')).toBeGreaterThan(gap);
    expect(page.indexOf('Acknowledged — escalation stopped')).toBeGreaterThan(gap);
  });
});
