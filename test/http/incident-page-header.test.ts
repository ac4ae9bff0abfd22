// What the responder reads first on the incident page, above all on a phone: the alert that still fires before the ones
// that stopped (whose details fold away), links to the parts of the page, when the next level is paged as a clock time
// (true without JavaScript and on paper), and why escalation stopped.
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { titleBesideMonId } from '../../src/http/pages-incidents.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, copyRunbooks, incidentIdOf, incidentPage, postAlertmanager } from './helpers.js';

const T0 = '2026-08-14T09:20:00.000Z';
const clock = fixedClock(T0);
let database: TestDatabase;
let service: Service;
let id: number;

beforeAll(async () => {
  database = await createTestDatabase();
  // A prerequisite with inline code, as runbooks write them.
  const runbooks = await copyRunbooks();
  const file = path.join(runbooks, 'RUN-001.md');
  await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('- [ ] Access to AWS RDS console', '- [ ] Access to the `prod` RDS console'));
  service = await createTestService(database, { RUNBOOKS_DIR: runbooks }, { clock });
  id = incidentIdOf(await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'aaaa000000000001', labels: { instance: 'pg-old:9187' } }])).expect(202));
  await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'aaaa000000000002', labels: { instance: 'pg-now:9187' } }])).expect(202);
  await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'aaaa000000000001', status: 'resolved', labels: { instance: 'pg-old:9187' } }])).expect(202);
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('the incident page header and alerts', () => {
  it('lists the alert that still fires first and folds the resolved one’s labels and values away', async () => {
    const page = await incidentPage(service.app, id);
    const alerts = page.slice(page.indexOf('<section id="alerts"'), page.indexOf('<section id="runbook"'));
    const firing = alerts.indexOf('<td>pg-now:9187</td>');
    const resolved = alerts.indexOf('<td>pg-old:9187</td>');
    expect(firing).toBeGreaterThan(0);
    expect(resolved).toBeGreaterThan(firing);
    // The resolved alert's tables sit inside a closed <details>; the firing one's are open on the page.
    const folded = alerts.slice(alerts.lastIndexOf('<details class="alert-details">', resolved), resolved);
    expect(folded).toContain('<summary>Labels and values</summary>');
    expect(folded).not.toContain('</details>');
    expect(alerts.slice(0, firing)).not.toContain('<details');
  });

  it('links to the parts of the page and gives the next escalation as a clock time next to the countdown', async () => {
    clock.set('2026-08-14T09:21:00.000Z');
    await service.db.db.updateTable('incidents').set({ escalation_level: 1, next_escalation_at: new Date('2026-08-14T09:25:00.000Z') }).where('id', '=', id).execute();
    const page = await incidentPage(service.app, id);
    const head = page.slice(page.indexOf('<header class="incident-head'), page.indexOf('</header>', page.indexOf('<header class="incident-head')));
    expect(head).toContain('<time datetime="2026-08-14T09:25:00.000Z" data-countdown>in 4m</time> <span class="next-at">· at 09:25 UTC</span>');
    const jump = head.slice(head.indexOf('<nav class="jump-links"'));
    expect([...jump.matchAll(/href="([^"]+)"/g)].map((m) => m[1])).toEqual(['#runbook', '#alerts', '#escalation', '#timeline', '#note-text', `/incidents/${id}/retro.md`]);
    // While the incident is open the retro is a link among these, not a button beside Acknowledge and Resolve.
    expect(head.slice(head.indexOf('<div class="actions">'), head.indexOf('<nav class="jump-links"'))).not.toContain('retro.md');
    for (const anchor of ['id="runbook"', 'id="alerts"', 'id="escalation"', 'id="timeline"', 'id="note-text"']) expect(page).toContain(anchor);
    expect(jump).toContain('Alerts (2)');
  });

  it('says why escalation stopped: who acknowledged', async () => {
    await request(service.app).post(`/api/incidents/${id}/acknowledge`).send({ by: 'dana' }).expect(200);
    const page = await incidentPage(service.app, id);
    expect(page).toContain('<span class="muted">· stopped: acknowledged by dana</span>');
    expect(page).not.toContain('data-countdown');
  });

  it('for a MON- id the matrix does not know: the title without its MON- id twice, and where its severity comes from', async () => {
    const body = alertmanagerBody([{ fingerprint: 'bbbb000000000999', monId: 'MON-999', annotations: { summary: 'MON-999: queue backlog above 10k' } }]);
    const unknown = incidentIdOf(await postAlertmanager(service.app, body).expect(202));
    const page = await incidentPage(service.app, unknown);
    expect(page).toContain('<span class="mon-id">MON-999</span>\n    <span class="mon-title">queue backlog above 10k</span>');
    expect(page).toContain("<span class=\"default-policy\">Severity warning and its escalation are the matrix's default; the alert itself says critical.</span>");
    // A known MON- id has its own severity: no such sentence.
    expect(await incidentPage(service.app, id)).not.toContain('default-policy');
  });

  it('shows a ticked check’s inline code as plain words in the timeline, and keeps it as written in the retro', async () => {
    await request(service.app).post(`/api/incidents/${id}/steps/prereq-1`).send({ checked: true }).expect(200);
    const page = await incidentPage(service.app, id);
    const timeline = page.slice(page.indexOf('<section id="timeline"'));
    expect(timeline).toContain('Ticked: Prerequisite: Access to the prod RDS console');
    expect(timeline).not.toContain('`prod`');
    const retro = (await request(service.app).get(`/incidents/${id}/retro.md`).expect(200)).text;
    // The retro's table cells escape markdown, so the backticks stay as typed.
    expect(retro).toContain('Ticked: Prerequisite: Access to the \\`prod\\` RDS console');
  });
});

describe('an alert title beside its MON- id', () => {
  it('drops the id the title starts with, and nothing else', () => {
    expect(titleBesideMonId('MON-999: queue backlog above 10k', 'MON-999')).toBe('queue backlog above 10k');
    expect(titleBesideMonId('[MON-999] queue backlog', 'MON-999')).toBe('queue backlog');
    expect(titleBesideMonId('mon-999 - queue backlog', 'MON-999')).toBe('queue backlog');
    expect(titleBesideMonId('MON-999 -5% throughput', 'MON-999')).toBe('-5% throughput');
    expect(titleBesideMonId('MON-9990 queue backlog', 'MON-999')).toBe('MON-9990 queue backlog');
    expect(titleBesideMonId('MON-999x queue', 'MON-999')).toBe('MON-999x queue');
    expect(titleBesideMonId('Queue backlog (MON-999)', 'MON-999')).toBe('Queue backlog (MON-999)');
    expect(titleBesideMonId('MON-999', 'MON-999')).toBe('');
    expect(titleBesideMonId('MON-999: x', null)).toBe('MON-999: x');
  });
});
