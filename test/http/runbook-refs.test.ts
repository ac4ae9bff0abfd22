// What the incident page fills into a runbook and how it marks what it cannot fill: references read across all of an
// incident's alerts (one monitor seen by two tools need not carry the same labels), values the firing alerts disagree
// on, `{{...}}` text that is no reference, and a code block whose language names a <placeholder>.
import fs from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { alertRefsOf } from '../../src/http/render-runbook.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, copyRunbooksWith, incidentIdOf, incidentPage, postAlertmanager, type AmAlert } from './helpers.js';

const clock = fixedClock('2026-08-14T09:20:00.000Z');
let database: TestDatabase;
let service: Service;
let runbooksDir: string;

const RUN_003 = `RUN-003: Replica lag
Category: Incident
Trigger: MON-041 alerts
Owner: Backend Team
Last Tested: 2026-07-20

## Scope
- **Handles**: A replica falling behind
- **Does NOT handle**: Anything else (see RUN-001)

## Procedure

### Step 1: Look at the host
Host {{alert.labels.instance}} in {{alert.labels.env}}; the alert says {{alert.annotations.summary}}.

- If it is the replica, as postgres:

  \`\`\`<shell>
  pg_ctl promote -D <data_dir>
  \`\`\`

Commands:
\`\`\`bash
ssh -J bastion {{alert.labels.instance}} 'uptime'
ssh {{ alert.label.instance }} 'docker inspect -f {{.State.Status}} postgres'
\`\`\`

Verification:
- [ ] {{alert.labels.instance}} answers

## Escalation
- **When to escalate**: The lag keeps growing
- **Who to contact**: Backend on-call
- **What to provide**: Timeline

## Post-Incident
- [ ] Write up the lag

Linked IDs: MON-041 (alert), RUN-001
`;

const MON_IDS = ['MON-041', 'MON-042', 'MON-043', 'MON-044', 'MON-045', 'MON-046'];
const page = (id: number) => incidentPage(service.app, id);
const alertmanager = async (alerts: AmAlert[]) => incidentIdOf(await postAlertmanager(service.app, alertmanagerBody(alerts)).expect(202));
/** A Datadog monitor's alert: its tags are its labels, and it has no `instance`. */
const datadog = async (monId: string, tags: string) =>
  incidentIdOf(
    await request(service.app)
      .post('/webhooks/datadog')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ id: `${Date.parse(clock.now().toISOString())}`, alert_id: '148275309', title: `[Triggered] [${monId}] Replica lag`, alert_transition: 'Triggered', tags, mon_id: monId, date: `${clock.now().getTime()}` }))
      .expect(202),
  );
const later = (minutes: number) => clock.set(new Date(clock.now().getTime() + minutes * 60_000));
const between = (html: string, from: string, to: string) => html.slice(html.indexOf(from), html.indexOf(to, html.indexOf(from)));

beforeAll(async () => {
  database = await createTestDatabase();
  runbooksDir = await copyRunbooksWith('RUN-003.md', RUN_003, MON_IDS, 'Replica lag');
  service = await createTestService(database, { RUNBOOKS_DIR: runbooksDir }, { clock });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
  if (runbooksDir) await fs.rm(runbooksDir, { recursive: true, force: true });
});

describe('references of an incident with several alerts', () => {
  it('reads a key the first firing alert lacks from another of the incident\'s alerts', async () => {
    const id = await datadog('MON-041', 'mon_id:MON-041,env:prod');
    later(1);
    expect(await alertmanager([{ fingerprint: 'a11ce00000000001', monId: 'MON-041', labels: { instance: 'db-7:5432' } }])).toBe(id);
    const html = await page(id);
    // The Datadog alert came first and has no instance; the Alertmanager one has it. env is only on the Datadog one.
    expect(html).toContain('Host <span class="ref" title="{{alert.labels.instance}}">db-7:5432</span> in <span class="ref" title="{{alert.labels.env}}">prod</span>;');
    expect(html).toContain('ssh -J bastion <span class="ref" title="{{alert.labels.instance}}">db-7:5432</span> &#39;uptime&#39;');
    expect(html).not.toContain('title="not in this alert"');
  });

  it('says so wherever a value is filled that the firing alerts disagree on, and stops once they agree', async () => {
    const id = await alertmanager([{ fingerprint: 'a11ce00000000002', monId: 'MON-042', labels: { instance: 'db-7' } }]);
    later(1);
    await alertmanager([{ fingerprint: 'a11ce00000000003', monId: 'MON-042', labels: { instance: 'web-3' } }]);
    const html = await page(id);
    const mark = '<span class="ref ref-differs" title="{{alert.labels.instance}} — 1 of 2 values in the firing alerts: db-7 (filled here), web-3" data-of="1 of 2">db-7</span>';
    expect(between(html, '<div class="prose">', '</div>')).toContain(`Host ${mark} in`);
    const command = between(html, '<figure class="command', '</figure>');
    expect(command).toContain(`ssh -J bastion ${mark} &#39;uptime&#39;`);
    // Above the command, so it is read before anything is copied; the mark's count is drawn by the stylesheet, never copied.
    expect(command).toContain(
      '<p class="command-note" role="note"><span aria-hidden="true">⚠</span> The firing alerts of this incident disagree on a value in this command: <code>{{alert.labels.instance}}</code> is <code>db-7</code> here, 1 of 2 values (also <code>web-3</code>). Check which one it is meant for before running it.</p>',
    );
    expect(command.indexOf('command-note')).toBeLessThan(command.indexOf('<pre>'));
    expect(between(html, 'class="check kind-verification', '</li>')).toContain(mark);

    // A resolved alert's value is no longer a live alternative.
    later(1);
    await alertmanager([{ fingerprint: 'a11ce00000000003', monId: 'MON-042', status: 'resolved', labels: { instance: 'web-3' } }]);
    const agreed = await page(id);
    expect(agreed).toContain('ssh -J bastion <span class="ref" title="{{alert.labels.instance}}">db-7</span>');
    expect(agreed).not.toContain('ref-differs');
    expect(agreed).not.toContain('disagree');
  });

  it('keeps in the timeline the value a box was ticked with, after the alert it came from resolves', async () => {
    const id = await alertmanager([{ fingerprint: 'a11ce00000000008', monId: 'MON-045', labels: { instance: 'db-7' } }]);
    later(1);
    await alertmanager([{ fingerprint: 'a11ce00000000009', monId: 'MON-045', labels: { instance: 'web-3' } }]);
    await request(service.app).post(`/api/incidents/${id}/steps/step-1.v1`).send({ checked: true, by: 'dana' }).expect(200);
    // db-7 resolves: the page now fills web-3, but the tick was about db-7.
    later(1);
    await alertmanager([{ fingerprint: 'a11ce00000000008', monId: 'MON-045', status: 'resolved', labels: { instance: 'db-7' } }]);
    expect(between(await page(id), 'class="check kind-verification', '</li>')).toContain('web-3');
    const retro = (await request(service.app).get(`/incidents/${id}/retro.md`).expect(200)).text;
    expect(retro).toMatch(/Ticked: Step 1: Look at the host — db-7 answers/);
    expect(retro).not.toMatch(/Ticked: .*web-3/);
  });

  it('lists a few of a storm\'s values and counts the rest, so fifty hosts do not make every reference a list of fifty', async () => {
    let id = 0;
    for (let i = 1; i <= 7; i++) id = await alertmanager([{ fingerprint: `a11ce0000000010${i}`, monId: 'MON-046', labels: { instance: `host-${i}` } }]);
    const html = await page(id);
    expect(html).toContain('title="{{alert.labels.instance}} — 1 of 7 values in the firing alerts: host-1 (filled here), host-7, host-6, host-5, host-4 and 2 more"');
    expect(html).toContain('is <code>host-1</code> here, 1 of 7 values (also <code>host-7</code>, <code>host-6</code>, <code>host-5</code>, <code>host-4</code> and 2 more)');
  });

  it('escapes the values it lists', async () => {
    const id = await alertmanager([{ fingerprint: 'a11ce00000000004', monId: 'MON-043', labels: { instance: 'db-7' } }]);
    await alertmanager([{ fingerprint: 'a11ce00000000005', monId: 'MON-043', labels: { instance: '<img src=x onerror=alert(1)>' } }]);
    const html = await page(id);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('(also <code>&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</code>)');
    expect(html).toContain('title="{{alert.labels.instance}} — 1 of 2 values in the firing alerts: db-7 (filled here), &lt;img src=x onerror=alert(1)&gt;"');
  });
});

describe('alertRefsOf', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 7, 14, 9, minute));
  const alert = (status: string, labels: Record<string, string>, minute: number) => ({ status, title: 'Replica lag', labels, values: {}, last_seen_at: at(minute) });

  it('reads a missing key from the firing alerts first, the most recent first, then from the resolved ones', () => {
    const refs = alertRefsOf([
      alert('firing', { env: 'prod' }, 1),
      alert('resolved', { instance: 'resolved-late', zone: 'resolved-late' }, 9),
      alert('firing', { instance: 'firing-early' }, 2),
      alert('resolved', { zone: 'resolved-early' }, 3),
    ])!;
    expect(refs.labels).toEqual({ env: 'prod', instance: 'firing-early', zone: 'resolved-late' });
    expect(refs.differing).toBeUndefined();
  });

  it('keeps a key named like an Object property a plain key', () => {
    const refs = alertRefsOf([alert('firing', JSON.parse('{"__proto__":"x","constructor":"y"}') as Record<string, string>, 1)])!;
    expect(Object.hasOwn(refs.labels, '__proto__')).toBe(true);
    expect(refs.labels.constructor).toBe('y');
  });
});

describe('text that is no reference, and code blocks in prose', () => {
  it('marks `{{...}}` that is not a reference like a missing one, on the incident and the catalog page', async () => {
    const id = await alertmanager([{ fingerprint: 'a11ce00000000006', monId: 'MON-044', labels: { instance: 'db-7' }, annotations: { summary: 'Replica lag' } }]);
    const title = 'title="not a reference ({{alert.title}}, {{alert.labels.&lt;key&gt;}} or {{alert.values.&lt;key&gt;}}): shown as typed"';
    const catalog = (await request(service.app).get('/runbooks/RUN-003').set('Accept', 'text/html').expect(200)).text;
    for (const html of [await page(id), catalog]) {
      expect(html).toContain(`the alert says <span class="ref ref-missing ref-invalid" ${title}>{{alert.annotations.summary}}</span>.`);
      expect(html).toContain(`ssh <span class="ref ref-missing ref-invalid" ${title}>{{ alert.label.instance }}</span> &#39;docker inspect -f <span class="ref ref-missing ref-invalid" ${title}>{{.State.Status}}</span> postgres&#39;`);
    }
  });

  it('marks a <placeholder> in a code block\'s code, never in its language', async () => {
    const html = await page(await alertmanager([{ fingerprint: 'a11ce00000000007', monId: 'MON-044', labels: { instance: 'db-7' } }]));
    expect(html).toContain('<pre><code class="language-&lt;shell&gt;">pg_ctl promote -D <span class="fill" title="fill in before running">&lt;data_dir&gt;</span>\n</code></pre>');
  });
});
