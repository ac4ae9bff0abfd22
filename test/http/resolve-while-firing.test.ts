// Resolving an incident whose alerts still fire: the page says how many fire next to Resolve, and the plain form asks
// once ("Resolve anyway", confirm=1) before resolving — decided from what fires when the form is posted. Nothing is
// asked when nothing fires, and the JSON API resolves as it always did.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, csrfToken, FIXTURE_RUNBOOKS, incidentIdOf, postAlertmanager } from './helpers.js';

const T0 = '2026-08-14T09:20:00.000Z';
const clock = fixedClock(T0);
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000);
let database: TestDatabase;
let service: Service;

const html = { Accept: 'text/html' };
const webhook = (body: string) => postAlertmanager(service.app, body);
const incidentRow = (id: number) => service.db.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const eventCount = async (id: number) => (await service.db.db.selectFrom('incident_events').select('id').where('incident_id', '=', id).execute()).length;

/** A browser session on the incident page: cookie jar plus the page's form token. */
async function session(id: number) {
  const agent = request.agent(service.app);
  const page = (await agent.get(`/incidents/${id}`).set(html).expect(200)).text;
  return { agent, token: csrfToken(page), page };
}

/** The Resolve form of the incident page's header. */
const resolveForm = (page: string) => page.slice(page.indexOf('<form method="post" action="/incidents/'), page.indexOf('</div>', page.indexOf('class="resolve-form"')));

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('resolving while alerts still fire', () => {
  let id: number;

  it('shows next to Resolve how many of the incident’s alerts still fire', async () => {
    id = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000001' }, { fingerprint: 'f1f1000000000002', labels: { instance: 'pg-replica-2:9187' } }])).expect(202));
    const { page } = await session(id);
    expect(resolveForm(page)).toContain('<button type="submit" class="btn btn-big btn-resolve" aria-describedby="firing-note">Resolve</button>');
    expect(resolveForm(page)).toContain('<span class="firing-note" id="firing-note">2 alerts still firing</span>');
    // One resolves at its source: the count follows.
    await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000002', status: 'resolved', labels: { instance: 'pg-replica-2:9187' } }])).expect(202);
    expect(resolveForm((await session(id)).page)).toContain('>1 alert still firing</span>');
  });

  it('answers the plain form with a question, changing nothing, and resolves on "Resolve anyway"', async () => {
    clock.set(at(7));
    const { agent, token } = await session(id);
    const before = await eventCount(id);
    const ask = await agent.post(`/incidents/${id}/resolve`).type('form').send({ _csrf: token }).expect(200);
    expect(ask.headers['content-type']).toMatch(/text\/html/);
    expect(ask.text).toContain('<h1 id="confirm-h">1 alert is still firing</h1>');
    expect(ask.text).toContain('Still firing at alertmanager. Resolve anyway?');
    expect(ask.text).toContain('<span class="alert-src">alertmanager</span> <strong class="alert-title">Connection pool above 90% on pg-primary-1</strong>');
    expect(ask.text).toContain('Nothing has been changed yet.');
    expect(ask.text).toContain('Resolving stops the escalation.');
    // The answer is a form of its own: same action, the token, confirm=1; and a way back.
    const form = ask.text.slice(ask.text.indexOf(`<form method="post" action="/incidents/${id}/resolve">`), ask.text.indexOf('</form>', ask.text.indexOf('confirm-h')));
    expect(form).toContain(`<input type="hidden" name="_csrf" value="${token}">`);
    expect(form).toContain('<input type="hidden" name="confirm" value="1">');
    expect(form).toContain('Resolve anyway</button>');
    expect(ask.text).toContain(`<a class="btn btn-big" href="/incidents/${id}">Back to the incident</a>`);
    expect((await incidentRow(id)).status).toBe('triggered');
    expect(await eventCount(id)).toBe(before);

    // The confirmation is a form post like any other: without the token it is refused and nothing changes.
    await agent.post(`/incidents/${id}/resolve`).type('form').send({ confirm: '1' }).expect(403);
    expect((await incidentRow(id)).status).toBe('triggered');

    await agent.post(`/incidents/${id}/resolve`).type('form').send({ _csrf: token, confirm: '1' }).expect(303).expect('location', `/incidents/${id}#follow-ups`);
    const row = await incidentRow(id);
    expect(row).toMatchObject({ status: 'resolved', resolved_by: 'local' });
    expect(row.resolved_at!.toISOString()).toBe(at(7).toISOString());
    // Resolved: no Resolve button, no count; posting again just goes back.
    const after = (await session(id)).page;
    expect(after).not.toContain('firing-note');
    expect(after).not.toContain(`action="/incidents/${id}/resolve"`);
    await agent.post(`/incidents/${id}/resolve`).type('form').send({ _csrf: token }).expect(303);
  });

  it('asks from what fires when the form is posted, not from what fired when the page was shown', async () => {
    clock.set(at(60 * 3));
    const other = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000003', monId: 'MON-777' }])).expect(202));
    const { agent, token, page } = await session(other);
    expect(page).toContain('1 alert still firing');
    // The alert clears at its source, which resolves the incident by itself …
    await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000003', monId: 'MON-777', status: 'resolved' }])).expect(202);
    expect((await incidentRow(other)).status).toBe('resolved');
    // … so the stale page's Resolve goes straight back, with no question.
    await agent.post(`/incidents/${other}/resolve`).type('form').send({ _csrf: token }).expect(303).expect('location', `/incidents/${other}#follow-ups`);
  });

  it('does not ask when none of the alerts fire any more', async () => {
    clock.set(at(60 * 6));
    const quiet = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000004', monId: 'MON-778' }])).expect(202));
    // An open incident whose instances all read resolved (a resolution applied without closing it, e.g. by hand).
    await service.db.db.updateTable('alert_instances').set({ status: 'resolved' }).where('incident_id', '=', quiet).execute();
    const { agent, token, page } = await session(quiet);
    expect(page).not.toContain('firing-note');
    expect(page).toContain('<button type="submit" class="btn btn-big btn-resolve">Resolve</button>');
    await agent.post(`/incidents/${quiet}/resolve`).type('form').send({ _csrf: token }).expect(303).expect('location', `/incidents/${quiet}#follow-ups`);
    expect((await incidentRow(quiet)).status).toBe('resolved');
  });

  it('does not claim resolving stops an escalation that acknowledging already stopped', async () => {
    clock.set(at(60 * 8));
    const acked = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000006', monId: 'MON-780' }])).expect(202));
    await request(service.app).post(`/api/incidents/${acked}/acknowledge`).send({ by: 'dana' }).expect(200);
    const { agent, token } = await session(acked);
    const ask = await agent.post(`/incidents/${acked}/resolve`).type('form').send({ _csrf: token }).expect(200);
    expect(ask.text).toContain('<h1 id="confirm-h">1 alert is still firing</h1>');
    expect(ask.text).not.toContain('stops the escalation');
    expect(ask.text).toContain('If they keep firing, their next notification can reopen this incident');
  });

  it('leaves the JSON API as it was: resolves at once while alerts fire', async () => {
    clock.set(at(60 * 9));
    const api = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'f1f1000000000005', monId: 'MON-779' }])).expect(202));
    const res = await request(service.app).post(`/api/incidents/${api}/resolve`).send({ by: 'dana' }).expect(200);
    expect(res.body).toMatchObject({ status: 'resolved' });
    expect(await incidentRow(api)).toMatchObject({ status: 'resolved', resolved_by: 'dana' });
  });
});
