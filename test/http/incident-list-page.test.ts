// The incident list page `/` with more open incidents than it shows. It fetched the 500 newest and only then sorted them
// (unacknowledged first, then by severity), so an older triggered critical incident fell off behind 600 newer warnings,
// and the header and title counted 500 open when more were. Now the order is the query's, the counts are of every open
// incident, and the page says where the list stops.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, incidentIdOf, postAlertmanager } from './helpers.js';

const T0 = Date.parse('2026-08-14T09:00:00.000Z');
const clock = fixedClock(new Date(T0).toISOString());
let database: TestDatabase;
let service: Service;
let critical: number;
let acknowledged: number;
let newestWarning: number;
let info: number;

const listPage = async () => (await request(service.app).get('/').set('Accept', 'text/html').expect(200)).text;
/** The ids of the open list's rows, top to bottom. */
const openIds = (html: string) => {
  const open = html.slice(html.indexOf('id="open-h"'), html.indexOf('id="resolved-h"'));
  return [...open.matchAll(/<a href="\/incidents\/(\d+)" class="row-link">/g)].map((m) => Number(m[1]));
};

beforeAll(async () => {
  database = await createTestDatabase();
  // MON-005 critical, MON-012 info, anything else warning: matrix.yml lists them critical, warning, info.
  service = await createTestService(database, { RUNBOOKS_DIR: await runbooksWithMatrix(sinkMatrix('http://127.0.0.1:9', { ackWithin: '5m' })) }, { clock });
  // The oldest: MON-005, critical, nobody has acknowledged it.
  critical = incidentIdOf(await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: 'c417000000000001' }])).expect(202));
  // Then 600 alerts with no MON- id (warning, the matrix's default), 100 a minute, all newer.
  for (let minute = 1; minute <= 6; minute++) {
    clock.set(new Date(T0 + minute * 60_000));
    const alerts = Array.from({ length: 100 }, (_, n) => ({ fingerprint: `7a9e${String(minute * 100 + n).padStart(12, '0')}`, monId: null }));
    newestWarning = Math.max(...((await postAlertmanager(service.app, alertmanagerBody(alerts)).expect(202)).body.incidents as number[]));
  }
  // The newest of all is an info: less urgent than any warning, though "info" sorts before "warning" as text.
  clock.set(new Date(T0 + 7 * 60_000));
  info = incidentIdOf(await postAlertmanager(service.app, alertmanagerBody([{ fingerprint: '1bf0000000000001', monId: 'MON-012' }])).expect(202));
  // One of the older warnings is being worked on.
  acknowledged = newestWarning - 550;
  await request(service.app).post(`/api/incidents/${acknowledged}/acknowledge`).send({ by: 'dana' }).expect(200);
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('GET / with more open incidents than the list shows', () => {
  it('shows the old triggered critical first, then the triggered warnings newest first, and the acknowledged one last', async () => {
    const ids = openIds(await listPage());
    expect(ids).toHaveLength(500);
    expect(ids[0]).toBe(critical);
    expect(ids[1]).toBe(newestWarning);
    // 599 triggered warnings: the 499 newest of them fit; the oldest 100, the info and the acknowledged one are left for the API.
    expect(ids).not.toContain(acknowledged);
    expect(ids).not.toContain(info);
    expect(ids.slice(1)).toEqual([...ids.slice(1)].sort((a, b) => b - a));
  });

  it('counts every open incident in the header and the title, and says where the list stops', async () => {
    const html = await listPage();
    expect(html).toContain('<title>(602) Incidents');
    expect(html).toMatch(/<strong>602<\/strong> open — <strong class="t-alarm">601 not acknowledged<\/strong>, 1 being worked on\./);
    expect(html).toContain('Showing the 500 most urgent of 602 open incidents: unacknowledged first, then by severity, newest first.');
    expect(html).toContain('<a href="/api/incidents?status&#x3D;open&amp;limit&#x3D;1000">');
  });

  it('says nothing about a cut when every open incident is shown', async () => {
    // The alerts of minutes 2 to 6 resolve at their source: 102 stay open.
    clock.set(new Date(T0 + 10 * 60_000));
    for (let minute = 2; minute <= 6; minute++) {
      const alerts = Array.from({ length: 100 }, (_, n) => ({ fingerprint: `7a9e${String(minute * 100 + n).padStart(12, '0')}`, monId: null, status: 'resolved' as const }));
      await postAlertmanager(service.app, alertmanagerBody(alerts)).expect(202);
    }
    const html = await listPage();
    const ids = openIds(html);
    expect(ids).toHaveLength(102);
    expect(ids[0]).toBe(critical);
    expect(ids.slice(-2)).toEqual([info, acknowledged]);
    expect(html).toContain('<title>(102) Incidents');
    expect(html).toMatch(/<strong>102<\/strong> open — <strong class="t-alarm">101 not acknowledged<\/strong>, 1 being worked on\./);
    expect(html).not.toContain('most urgent of');
  });
});
