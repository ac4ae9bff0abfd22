// The responder's incident page and its forms, in local mode (no responder authentication): what is shown, who and
// when each action records, CSRF refusals that change nothing, escaping of hostile alert content, the pinned runbook.
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, copyRunbooks, csrfToken, incidentIdOf, postAlertmanager } from './helpers.js';

const T0 = '2026-08-14T09:20:00.000Z';
const clock = fixedClock(T0);
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000);

let database: TestDatabase;
let service: Service;
let runbooksDir: string;
let incidentId: number;
let noMonIncident: number;

const XSS_SUMMARY = 'Pool above 90% <script>window.pwned=1</script>';
const XSS_LABEL = '<img src=x onerror="window.pwned=2">';

const webhook = (body: string) => postAlertmanager(service.app, body);
const html = { Accept: 'text/html' };

async function timeline(id: number) {
  return service.db.db.selectFrom('incident_events').selectAll().where('incident_id', '=', id).orderBy('id').execute();
}
async function incidentRow(id: number) {
  return service.db.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
async function stepCheck(id: number, key: string) {
  return service.db.db.selectFrom('step_checks').selectAll().where('incident_id', '=', id).where('step_key', '=', key).executeTakeFirst();
}

/** A browser session: cookie jar plus the page's form token. */
async function session(pagePath: string) {
  const agent = request.agent(service.app);
  const page = await agent.get(pagePath).set(html).expect(200);
  return { agent, token: csrfToken(page.text), page: page.text };
}

beforeAll(async () => {
  database = await createTestDatabase();
  runbooksDir = await copyRunbooks();
  service = await createTestService(database, { RUNBOOKS_DIR: runbooksDir }, { clock });
  incidentId = incidentIdOf(
    await webhook(alertmanagerBody([{ fingerprint: 'aaaa000000000001', labels: { team: XSS_LABEL }, annotations: { summary: XSS_SUMMARY, description: 'pool at 96%' } }])).expect(202),
  );
  noMonIncident = incidentIdOf(await webhook(alertmanagerBody([{ fingerprint: 'bbbb000000000002', monId: null, labels: { alertname: 'DiskAlmostFull', instance: 'web-3' }, annotations: { summary: 'Disk /var almost full' } }])).expect(202));
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
  if (runbooksDir) await fs.rm(runbooksDir, { recursive: true, force: true });
});

describe('GET / and GET /incidents/:id', () => {
  it('lists open incidents with severity, age, status and assignee, and flags the one without a runbook', async () => {
    clock.set(at(2));
    const res = await request(service.app).get('/').set(html).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const row = res.text.slice(res.text.indexOf(`href="/incidents/${incidentId}"`) - 400, res.text.indexOf(`href="/incidents/${incidentId}"`) + 1200);
    expect(row).toContain('sev-critical');
    expect(row).toContain('MON-005');
    expect(row).toContain('Database connection pool above 90%');
    expect(row).toContain('RUN-001');
    expect(row).toContain('>2m<');
    expect(row).toContain('status-triggered');
    expect(row).toContain('unassigned');
    const other = res.text.slice(res.text.indexOf(`href="/incidents/${noMonIncident}"`));
    expect(other.slice(0, 600)).toContain('No runbook');
    // Every page says it is in local mode.
    expect(res.text).toContain('Local mode');
  });

  it('renders the header, the alert and the runbook pinned at open, with the alert filled in and escaped', async () => {
    const res = await request(service.app).get(`/incidents/${incidentId}`).set(html).expect(200);
    const page = res.text;
    expect(page).toContain('<span class="mon-id">MON-005</span>');
    expect(page).toContain('Database connection pool above 90%');
    expect(page).toMatch(/<span class="run-id">RUN-001<\/span> Database Connection Pool Exhaustion/);
    expect(page).toContain('Nobody yet');
    // Level 1 was due at open: the escalation loop is off in tests, so the next step is "level 1 due now".
    expect(page).toContain('→ level 1 (Backend on-call) <time datetime="2026-08-14T09:20:00.000Z" data-countdown>due now</time>');
    expect(page).toContain('<span class="lvl">L2</span>');
    // {{alert.labels.instance}} filled (prose, inline code and command block), {{alert.values.summary}} and {{alert.title}} escaped.
    expect(page).toContain('<span class="ref" title="{{alert.labels.instance}}">pg-primary-1:9187</span>');
    expect(page).toMatch(/export PGHOST=\$\(echo &quot;<span class="ref" title="\{\{alert\.labels\.instance\}\}">pg-primary-1:9187<\/span>&quot;/);
    expect(page).toContain('<span class="ref" title="{{alert.title}}">Pool above 90% &lt;script&gt;window.pwned=1&lt;/script&gt;</span>');
    expect(page).toContain('<span class="ref" title="{{alert.values.summary}}">Pool above 90% &lt;script&gt;window.pwned=1&lt;/script&gt;</span>');
    // An unknown reference stays as typed; <placeholders> stay for the responder.
    expect(page).toContain('{{alert.labels.no_such_label}}</span>');
    expect(page).toContain('<span class="fill" title="fill in before running">&lt;problematic_pid&gt;</span>');
    // Hostile alert content is text, never markup.
    expect(page).not.toContain('<script>window.pwned');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('<th scope="row">team</th><td>&lt;img src&#x3D;x onerror&#x3D;&quot;window.pwned&#x3D;2&quot;&gt;</td>');
    // Labels, values and the link back to the monitoring tool.
    expect(page).toContain('<th scope="row">instance</th><td>pg-primary-1:9187</td>');
    expect(page).toContain('<th scope="row">description</th><td>pool at 96%</td>');
    expect(page).toContain('href="http://prometheus-0:9090/graph?g0.expr&#x3D;pg_stat_activity_count"');
    // Steps with durations, the manual checkpoint, escalation contacts from the runbook and the matrix.
    expect(page).toContain('3m (max 5m)');
    expect(page).toContain('Checkpoint: I have reviewed this step');
    expect(page).toContain('Database Team Lead (Slack: @db-team)');
    expect(page).toContain('<span class="contact">Database Team Lead</span>');
    // Forms: acknowledge, resolve, note, each with the form token; every checkbox (prerequisite, step, verification item,
    // checkpoint) is a submit button of the one check form, which holds the token once, posting to its own action.
    for (const action of ['acknowledge', 'resolve', 'notes']) {
      expect(page).toMatch(new RegExp(`<form method="post" action="/incidents/${incidentId}/${action}"[^>]*>\\s*<input type="hidden" name="_csrf" value="[\\w-]{43}">`));
    }
    expect(page).toMatch(new RegExp(`<form id="runbook-checks" method="post" action="/incidents/${incidentId}" hidden><input type="hidden" name="_csrf" value="[\\w-]{43}"></form>`));
    for (const key of ['prereq-1', 'step-1.v1', 'step-1', 'step-2.checkpoint']) {
      expect(page).toContain(`<button form="runbook-checks" formaction="/incidents/${incidentId}/steps/${key}" name="checked" value="true" class="box" aria-pressed="false"`);
    }
    expect(page.match(/<button form="runbook-checks" /g)!.length).toBe(page.match(/class="check kind-/g)!.length);
  });

  it('sends a strict Content-Security-Policy and no inline script or style', async () => {
    const res = await request(service.app).get(`/incidents/${incidentId}`).set(html).expect(200);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc="\/static\/)/);
    expect(res.text).not.toMatch(/<style|\sstyle="/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const css = await request(service.app).get('/static/app.css').expect(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    expect(css.text).toContain('prefers-color-scheme: dark');
    expect(css.text).toContain('@media print');
    await request(service.app).get('/static/app.js').expect(200).expect('content-type', /javascript/);
    await request(service.app).get('/static/nope.js').expect(404);
  });

  it('answers 404 with an HTML page for an unknown incident, whose way back is the list, not the missing page', async () => {
    const res = await request(service.app).get('/incidents/999999').set(html).expect(404);
    expect(res.text).toContain('Incident 999999 not found');
    expect(res.text).toContain('<a class="btn" href="/">Open incidents</a>');
    expect(res.text).not.toContain('href="/incidents/999999"');
  });
});

describe('forms record who and when, and refuse requests without a valid CSRF token', () => {
  it('ticks a prerequisite: step_checks row and a step_checked timeline event, by local, at the clock time', async () => {
    clock.set(at(3));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    const res = await agent.post(`/incidents/${incidentId}/steps/prereq-1`).type('form').send({ _csrf: token, checked: 'true' }).expect(303);
    expect(res.headers.location).toBe(`/incidents/${incidentId}#check-prereq-1`);
    const row = await stepCheck(incidentId, 'prereq-1');
    expect(row).toMatchObject({ checked: true, checked_by: 'local' });
    expect(row!.checked_at.toISOString()).toBe(at(3).toISOString());
    const event = (await timeline(incidentId)).at(-1)!;
    expect(event).toMatchObject({ kind: 'step_checked', actor: 'local' });
    expect(event.at.toISOString()).toBe(at(3).toISOString());
    expect(event.data).toEqual({ stepKey: 'prereq-1', title: 'Prerequisite: Access to AWS RDS console', itemKind: 'prerequisite' });
    const page = await agent.get(`/incidents/${incidentId}`).set(html).expect(200);
    expect(page.text).toMatch(/id="check-prereq-1"[\s\S]{0,1200}aria-pressed="true"[\s\S]{0,600}local · <time datetime="2026-08-14T09:23:00.000Z">/);
  });

  it('refuses a form without a token, with a wrong token, without the cookie, or marked cross-site — 403 and nothing changes', async () => {
    const before = (await timeline(incidentId)).length;
    const { agent, token } = await session(`/incidents/${incidentId}`);
    const noToken = await agent.post(`/incidents/${incidentId}/acknowledge`).type('form').send({}).expect(403);
    expect(noToken.text).toContain('Nothing was changed');
    await agent.post(`/incidents/${incidentId}/acknowledge`).type('form').send({ _csrf: 'x'.repeat(43) }).expect(403);
    await agent.post(`/incidents/${incidentId}/acknowledge`).type('form').send({ _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }).expect(403);
    // The right token from another browser (no cookie) is not enough.
    await request(service.app).post(`/incidents/${incidentId}/acknowledge`).type('form').send({ _csrf: token }).expect(403);
    // A page on another site that somehow knows the token: the browser says so.
    await agent.post(`/incidents/${incidentId}/acknowledge`).set('Sec-Fetch-Site', 'cross-site').type('form').send({ _csrf: token }).expect(403);
    await agent.post(`/incidents/${incidentId}/acknowledge`).set('Origin', 'https://evil.example').type('form').send({ _csrf: token }).expect(403);
    // A JSON body to a page route carries no token either.
    await agent.post(`/incidents/${incidentId}/steps/prereq-2`).send({ checked: 'true', _csrf: undefined }).expect(403);
    expect((await incidentRow(incidentId)).status).toBe('triggered');
    expect(await stepCheck(incidentId, 'prereq-2')).toBeUndefined();
    expect((await timeline(incidentId)).length).toBe(before);
  });

  it('answers a post to a URL with no route 404, not a form-token refusal (a monitoring tool with a mistyped webhook URL)', async () => {
    const typo = await request(service.app).post('/webhook/alertmanager').set('Content-Type', 'application/json').send('{}').expect(404);
    expect(typo.body.error).toBe('no route for POST /webhook/alertmanager; monitoring tools post to /webhooks/<source>, one of datadog, grafana, alertmanager, pagerduty');
    const elsewhere = await request(service.app).post('/healthz').type('form').send({}).expect(404);
    expect(elsewhere.body.error).toBe('no route for POST /healthz');
    // Every form area still wants its token, including a URL there that has no route.
    await request(service.app).post('/drills').type('form').send({}).expect(403);
    await request(service.app).post('/runbooks/reload').type('form').send({}).expect(403);
    await request(service.app).post(`/incidents/${incidentId}/nothing-here`).type('form').send({}).expect(403);
    // Express routes regardless of case, so the form areas are found regardless of case too.
    await request(service.app).post(`/INCIDENTS/${incidentId}/acknowledge`).set('Origin', 'https://evil.example').type('form').send({}).expect(403);
    await request(service.app).post(`/Drills`).type('form').send({}).expect(403);
    expect((await incidentRow(incidentId)).status).toBe('triggered');
  });

  it('issues the form token as an HttpOnly, SameSite=Lax cookie once per browser; __Host- and Secure behind HTTPS', async () => {
    const first = await request(service.app).get(`/incidents/${incidentId}`).set(html).expect(200);
    const cookie = (first.headers['set-cookie'] as unknown as string[])[0]!;
    expect(cookie).toMatch(/^rr_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookie.split(';')[0]!.split('=')[1]!;
    expect(csrfToken(first.text)).toBe(value);
    // A browser that has the cookie keeps its token (other open tabs stay valid).
    const again = await request(service.app).get(`/incidents/${incidentId}`).set(html).set('Cookie', `rr_csrf=${value}`).expect(200);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(csrfToken(again.text)).toBe(value);
    // Behind a TLS-terminating proxy on loopback.
    const secure = await request(service.app).get('/').set(html).set('X-Forwarded-Proto', 'https').expect(200);
    expect((secure.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^__Host-rr_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('acknowledges: status, who and when on the incident and in the timeline; the page shows it', async () => {
    clock.set(at(5));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    await agent.post(`/incidents/${incidentId}/acknowledge`).set('Sec-Fetch-Site', 'same-origin').type('form').send({ _csrf: token }).expect(303).expect('location', `/incidents/${incidentId}`);
    const row = await incidentRow(incidentId);
    expect(row).toMatchObject({ status: 'acknowledged', acknowledged_by: 'local', next_escalation_at: null });
    expect(row.acknowledged_at!.toISOString()).toBe(at(5).toISOString());
    const ack = (await timeline(incidentId)).find((e) => e.kind === 'acknowledged')!;
    expect(ack.actor).toBe('local');
    expect(ack.at.toISOString()).toBe(at(5).toISOString());
    const page = (await agent.get(`/incidents/${incidentId}`).set(html).expect(200)).text;
    expect(page).toContain('<strong>local</strong> <span class="muted">· after 5m</span>');
    expect(page).not.toContain(`action="/incidents/${incidentId}/acknowledge"`);
    expect(page).toContain('Acknowledged — escalation stopped');
  });

  it('adds a note to the timeline, escaped', async () => {
    clock.set(at(6));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    await agent.post(`/incidents/${incidentId}/notes`).type('form').send({ _csrf: token, text: 'Killed pid 4242 <b>now</b>' }).expect(303).expect('location', `/incidents/${incidentId}#timeline`);
    const note = (await timeline(incidentId)).at(-1)!;
    expect(note).toMatchObject({ kind: 'note', actor: 'local', data: { text: 'Killed pid 4242 <b>now</b>' } });
    expect(note.at.toISOString()).toBe(at(6).toISOString());
    const page = (await agent.get(`/incidents/${incidentId}`).set(html)).text;
    expect(page).toContain('Killed pid 4242 &lt;b&gt;now&lt;/b&gt;');
    await agent.post(`/incidents/${incidentId}/notes`).type('form').send({ _csrf: token, text: '   ' }).expect(400);
  });

  it('takes a note as long as its field allows in any script, and refuses a larger form with an HTML page saying why', async () => {
    const { agent, token } = await session(`/incidents/${incidentId}`);
    const before = (await timeline(incidentId)).length;
    // 10,000 characters (the textarea's maxlength) of CJK: 90 KB once percent-encoded.
    const long = '漢'.repeat(10_000);
    await agent.post(`/incidents/${incidentId}/notes`).type('form').send({ _csrf: token, text: long }).expect(303);
    expect((await timeline(incidentId)).at(-1)).toMatchObject({ kind: 'note', data: { text: long } });

    const huge = await agent.post(`/incidents/${incidentId}/notes`).set(html).type('form').send({ _csrf: token, text: '漢'.repeat(40_000) }).expect(413);
    expect(huge.headers['content-type']).toMatch(/^text\/html/);
    expect(huge.text).toContain('The form is larger than 256kb (shorten the longest text). Nothing was changed.');
    expect(huge.text).toContain(`href="/incidents/${incidentId}"`);
    // Text the database cannot store: an HTML page naming the field too.
    const nul = await agent.post(`/incidents/${incidentId}/notes`).set(html).type('form').send(`_csrf=${token}&text=a%00b`).expect(400);
    expect(nul.headers['content-type']).toMatch(/^text\/html/);
    expect(nul.text).toContain('Invalid input: text: contains a NUL character or half of a surrogate pair, which cannot be stored. Nothing was changed.');
    expect((await timeline(incidentId)).length).toBe(before + 1);
  });

  it('times steps against Duration: and shows an overrun', async () => {
    // Acknowledged at +5m; step 1 (3m, max 5m) ticked at +9m: 4m, over the estimate, within the max.
    clock.set(at(9));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    await agent.post(`/incidents/${incidentId}/steps/step-1`).type('form').send({ _csrf: token, checked: 'true' }).expect(303);
    // Step 2 (5m, max 10m) is running; at +21m it has run 12m: past its max.
    clock.set(at(21));
    const page = (await agent.get(`/incidents/${incidentId}`).set(html).expect(200)).text;
    const step1 = page.slice(page.indexOf('id="step-1"'), page.indexOf('id="step-2"'));
    expect(step1).toContain('timing t-over');
    expect(step1).toContain('took 4m');
    expect(step1).toContain('1m over the estimate');
    const step2 = page.slice(page.indexOf('id="step-2"'), page.indexOf('id="step-3"'));
    expect(step2).toContain('timing t-overrun');
    expect(step2).toContain('data-started="2026-08-14T09:29:00.000Z"');
    expect(step2).toContain('running 12m');
    expect(step2).toContain('over the max by 2m');
  });

  it('holds the steps after a manual checkpoint until someone confirms it', async () => {
    clock.set(at(22));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    const page = (await agent.get(`/incidents/${incidentId}`).set(html)).text;
    const step3 = page.slice(page.indexOf('id="step-3"'));
    expect(step3).toContain('Waiting for the manual checkpoint of step 2');
    expect(step3).toMatch(/<button form="runbook-checks" formaction="[^"]+" name="checked" value="true" class="box" aria-pressed="false" disabled/);
    const refused = await agent.post(`/incidents/${incidentId}/steps/step-3.v1`).type('form').send({ _csrf: token, checked: 'true' }).expect(409);
    expect(refused.text).toContain('Step 2 is a manual checkpoint: confirm it before working on step 3. Nothing was changed.');
    expect(await stepCheck(incidentId, 'step-3.v1')).toBeUndefined();
    await agent.post(`/incidents/${incidentId}/steps/step-2.checkpoint`).type('form').send({ _csrf: token, checked: 'true' }).expect(303);
    await agent.post(`/incidents/${incidentId}/steps/step-3.v1`).type('form').send({ _csrf: token, checked: 'true' }).expect(303);
    expect(await stepCheck(incidentId, 'step-3.v1')).toMatchObject({ checked: true, checked_by: 'local' });
    const events = (await timeline(incidentId)).filter((e) => e.kind === 'step_checked').map((e) => (e.data as { stepKey: string }).stepKey);
    expect(events).toEqual(['prereq-1', 'step-1', 'step-2.checkpoint', 'step-3.v1']);
    // Unknown keys are 404, and a repeated tick changes nothing.
    await agent.post(`/incidents/${incidentId}/steps/step-9`).type('form').send({ _csrf: token, checked: 'true' }).expect(404);
    await agent.post(`/incidents/${incidentId}/steps/step-3.v1`).type('form').send({ _csrf: token, checked: 'true' }).expect(303);
    expect((await timeline(incidentId)).filter((e) => e.kind === 'step_checked')).toHaveLength(4);
  });

  it('resolves, then tracks the post-incident checklist as follow-ups that can be ticked later', async () => {
    clock.set(at(30));
    const { agent, token } = await session(`/incidents/${incidentId}`);
    // Its alert still fires, so the form asks first (resolve-while-firing.test.ts); this is the "Resolve anyway" post.
    await agent.post(`/incidents/${incidentId}/resolve`).type('form').send({ _csrf: token, confirm: '1' }).expect(303).expect('location', `/incidents/${incidentId}#follow-ups`);
    const row = await incidentRow(incidentId);
    expect(row).toMatchObject({ status: 'resolved', resolved_by: 'local' });
    expect(row.resolved_at!.toISOString()).toBe(at(30).toISOString());
    const page = (await agent.get(`/incidents/${incidentId}`).set(html)).text;
    expect(page).toContain('Post-incident follow-ups');
    expect(page).toContain(`action="/incidents/${incidentId}/follow-ups/post-1"`);
    expect(page).toContain('Document incident timeline');
    expect(page).toContain(`href="/incidents/${incidentId}/retro.md"`);

    clock.set(at(60 * 26));
    await agent.post(`/incidents/${incidentId}/follow-ups/post-1`).type('form').send({ _csrf: token, done: 'true' }).expect(303);
    const fu = await service.db.db.selectFrom('follow_ups').selectAll().where('incident_id', '=', incidentId).where('item_key', '=', 'post-1').executeTakeFirstOrThrow();
    expect(fu).toMatchObject({ done: true, done_by: 'local' });
    expect(fu.done_at!.toISOString()).toBe(at(60 * 26).toISOString());
    const event = (await timeline(incidentId)).at(-1)!;
    expect(event).toMatchObject({ kind: 'follow_up_done', actor: 'local', data: { itemKey: 'post-1', text: 'Document incident timeline' } });
    const after = (await agent.get(`/incidents/${incidentId}`).set(html)).text;
    expect(after).toContain('1 open');
  });

  it('writes a retro summary: header facts, the timeline and the step record as markdown', async () => {
    const res = await request(service.app).get(`/incidents/${incidentId}/retro.md`).expect(200);
    // Plain text, so a phone shows it wrapped instead of downloading it; the file name keeps the .md for saving.
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`inline; filename="incident-${incidentId}-retro.md"`);
    const md = res.text;
    expect(md).toContain(`# Incident #${incidentId}: MON-005 Database connection pool above 90%`);
    expect(md).toContain('| Acknowledged | 2026-08-14 09:25 UTC by local (after 5m) |');
    expect(md).toContain('| Resolved | 2026-08-14 09:50 UTC by local (after 30m) |');
    expect(md).toContain('| 09:25:00 | local | Acknowledged — escalation stopped |');
    expect(md).toContain('| 09:26:00 | local | Killed pid 4242 \\<b\\>now\\</b\\> |');
    expect(md).toContain('### Step 1: Verify Alert (expected 3m, max 5m; took 4m — over the estimate)');
    expect(md).toContain('- [ ] Connection count ≥90% of max\\_connections on pg-primary-1:9187');
    expect(md).toContain('- [x] Step done — local, 2026-08-14 09:29 UTC');
    expect(md).toContain('- [x] Manual checkpoint confirmed — local, 2026-08-14 09:42 UTC');
    expect(md).toContain('- [x] Document incident timeline — local, 2026-08-15 11:20 UTC');
    expect(md).toContain('- [ ] Update this runbook if steps were wrong/missing');
    // Alert content stays text in markdown too.
    expect(md).toContain('\\<script\\>window.pwned=1\\</script\\>');
    expect(md).not.toContain('<script>');
  });
});

describe('JSON API: steps and follow-ups', () => {
  it('checks and unchecks a step with who and when (the body may name the actor in local mode)', async () => {
    clock.set(at(61 * 26));
    const res = await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).send({ checked: true, by: 'dana' }).expect(200);
    expect(res.body).toMatchObject({ stepKey: 'step-2.v1', checked: true, by: 'dana', changed: true, title: 'Step 2: Kill Problematic Queries (if safe) — Connection count dropping within 2 minutes' });
    expect(res.body.at).toBe(at(61 * 26).toISOString());
    const off = await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).send({ checked: false }).expect(200);
    expect(off.body).toMatchObject({ checked: false, by: 'local', changed: true });
    const events = (await timeline(incidentId)).slice(-2);
    expect(events.map((e) => [e.kind, e.actor, (e.data as { stepKey: string }).stepKey])).toEqual([
      ['step_checked', 'dana', 'step-2.v1'],
      ['step_unchecked', 'local', 'step-2.v1'],
    ]);
    const list = await request(service.app).get(`/api/incidents/${incidentId}/steps`).expect(200);
    expect(list.body.items.find((i: { key: string }) => i.key === 'step-1')).toMatchObject({ kind: 'step', checked: true, by: 'local', at: at(9).toISOString() });
    expect(list.body.steps[0]).toMatchObject({ key: 'step-1', expectedMs: 180_000, maxMs: 300_000, actualMs: 240_000, state: 'over' });
  });

  it('requires JSON for writes and refuses cross-site requests, changing nothing', async () => {
    const before = (await timeline(incidentId)).length;
    await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).type('form').send({ checked: 'true' }).expect(415);
    await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).set('Content-Type', 'text/plain').send('{"checked":true}').expect(415);
    await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).set('Sec-Fetch-Site', 'cross-site').send({ checked: true }).expect(403);
    await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).set('Origin', 'https://evil.example').send({ checked: true }).expect(403);
    await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).send({ checked: 'yes' }).expect(400);
    // JSON that is not an object is named as such, not as unreadable JSON.
    const notAnObject = await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).set('Content-Type', 'application/json').send('null').expect(400);
    expect(notAnObject.body.error).toMatch(/^invalid input: \(root\): .*object/);
    const unreadable = await request(service.app).post(`/api/incidents/${incidentId}/steps/step-2.v1`).set('Content-Type', 'application/json').send('{"checked":').expect(400);
    expect(unreadable.body.error).toMatch(/JSON/);
    await request(service.app).post(`/api/incidents/${noMonIncident}/steps/step-1`).send({ checked: true }).expect(404);
    expect((await timeline(incidentId)).length).toBe(before);
    expect((await stepCheck(incidentId, 'step-2.v1'))!.checked).toBe(false);
  });

  it('refuses text the database cannot store (NUL, half a surrogate pair) with 400 naming the field, changing nothing', async () => {
    const before = (await timeline(incidentId)).length;
    const note = await request(service.app).post(`/api/incidents/${incidentId}/notes`).set('Content-Type', 'application/json').send('{"text":"a\\u0000b"}').expect(400);
    expect(note.body).toEqual({
      error: 'invalid input: text: contains a NUL character or half of a surrogate pair, which cannot be stored',
      issues: [{ path: 'text', message: 'contains a NUL character or half of a surrogate pair, which cannot be stored' }],
    });
    const by = await request(service.app).post(`/api/incidents/${incidentId}/notes`).set('Content-Type', 'application/json').send('{"text":"ok","by":"\\ud800"}').expect(400);
    expect(by.body.issues).toEqual([{ path: 'by', message: expect.stringContaining('cannot be stored') }]);
    const drill = await request(service.app).post(`/api/drills`).set('Content-Type', 'application/json').send('{"runbookId":"RUN-001","reason":"x\\udc00"}').expect(400);
    expect(drill.body.issues).toEqual([{ path: 'reason', message: expect.stringContaining('cannot be stored') }]);
    // However deep the text sits, in linear time, and the answer names a path of bounded length.
    const deep = await request(service.app).post(`/api/incidents/${incidentId}/notes`).set('Content-Type', 'application/json').send(`${'{"a":'.repeat(100_000)}"\\u0000"${'}'.repeat(100_000)}`).expect(400);
    expect(deep.body.error).toMatch(/^invalid input: (a\.){99}a.*…: contains a NUL character/);
    expect(deep.body.error.length).toBeLessThan(400);
    await request(service.app).post(`/api/incidents/${incidentId}/notes`).set('Content-Type', 'application/json').send(`${'['.repeat(200_000)}${']'.repeat(200_000)}`).expect(400);
    // A whole surrogate pair (an emoji) is ordinary text.
    await request(service.app).post(`/api/incidents/${incidentId}/notes`).send({ text: 'fixed \u{1F44D}' }).expect(201);
    // The same from a page form.
    const { agent, token } = await session(`/incidents/${incidentId}`);
    await agent.post(`/incidents/${incidentId}/notes`).set('Sec-Fetch-Site', 'same-origin').type('form').send(`_csrf=${token}&text=a%00b`).expect(400);
    expect((await timeline(incidentId)).length).toBe(before + 1);
  });

  it('ticks a follow-up and lists them', async () => {
    const res = await request(service.app).post(`/api/incidents/${incidentId}/follow-ups/post-2`).send({ by: 'sam' }).expect(200);
    expect(res.body).toMatchObject({ itemKey: 'post-2', done: true, by: 'sam', changed: true });
    const list = await request(service.app).get(`/api/incidents/${incidentId}/follow-ups`).expect(200);
    expect(list.body.followUps.map((f: { key: string; done: boolean; by: string }) => [f.key, f.done, f.by])).toEqual([
      ['post-1', true, 'local'],
      ['post-2', true, 'sam'],
    ]);
    await request(service.app).post(`/api/incidents/${incidentId}/follow-ups/post-9`).send({}).expect(404);
    // Follow-ups only exist once an incident resolved.
    await request(service.app).post(`/api/incidents/${noMonIncident}/follow-ups/post-1`).send({}).expect(404);
  });
});

describe('the runbook pinned at open', () => {
  it('stays on the incident page after the file changes and the catalog reloads', async () => {
    const file = path.join(runbooksDir, 'RUN-001.md');
    const original = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, original.replace('### Step 1: Verify Alert', '### Step 1: Verify The Alert (rewritten)').replace('Duration: 3m (max 5m)', 'Duration: 1m'));
    const reload = await request(service.app).post('/api/runbooks/reload').send({}).expect(200);
    expect(reload.body.ok).toBe(true);
    expect(service.catalog.current().runbooks.get('RUN-001')!.steps[0]!.title).toBe('Verify The Alert (rewritten)');

    const page = (await request(service.app).get(`/incidents/${incidentId}`).set(html).expect(200)).text;
    expect(page).toContain('Verify Alert');
    expect(page).not.toContain('Verify The Alert (rewritten)');
    expect(page).toContain('3m (max 5m)');
    expect(page).toContain('The runbook file has changed since this incident opened');
    const retro = (await request(service.app).get(`/incidents/${incidentId}/retro.md`)).text;
    expect(retro).toContain('### Step 1: Verify Alert (');
    // The catalog page shows the new text; a new incident pins the new version.
    expect((await request(service.app).get('/runbooks/RUN-001').set(html).expect(200)).text).toContain('Verify The Alert (rewritten)');
  });
});
