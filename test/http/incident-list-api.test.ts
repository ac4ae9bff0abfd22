// GET /api/incidents a page at a time. It answered the 200 most recently opened incidents and ignored `limit`, `offset`
// and `before`, so the oldest open incidents (those waiting longest) could not be read at all. Now: a bounded `limit`,
// a keyset cursor (`nextCursor`, passed back as `before`), and unknown query keys refused by name.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerBody, FIXTURE_RUNBOOKS, postAlertmanager } from './helpers.js';

const T0 = Date.parse('2026-08-14T09:00:00.000Z');
const clock = fixedClock(new Date(T0).toISOString());
let database: TestDatabase;
let service: Service;

interface Listed {
  id: number;
  status: string;
  openedAt: string;
  alertCount: number;
}
interface ListAnswer {
  incidents: Listed[];
  nextCursor: string | null;
}

const list = async (query: string) => (await request(service.app).get(`/api/incidents${query}`).expect(200)).body as ListAnswer;
const refused = async (query: string) => (await request(service.app).get(`/api/incidents${query}`).expect(400)).body as { error: string };

/** Follows nextCursor from `before` (or the newest) to the end; every page's incidents, in order. */
async function everyPage(query: string, before: string | null = null): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let pages = 0;
  let cursor = before;
  do {
    const answer = await list(cursor ? `${query}&before=${encodeURIComponent(cursor)}` : query);
    pages++;
    ids.push(...answer.incidents.map((i) => i.id));
    cursor = answer.nextCursor;
  } while (cursor);
  return { ids, pages };
}

/** All incidents as the database orders them: newest opened first, then highest id. */
async function newestFirst(status?: string): Promise<number[]> {
  let query = service.db.db.selectFrom('incidents').select('id').orderBy('opened_at', 'desc').orderBy('id', 'desc');
  if (status === 'open') query = query.where('status', '<>', 'resolved');
  return (await query.execute()).map((r) => Number(r.id));
}

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS }, { clock });
  // 250 open incidents with no MON- id (one per fingerprint), 50 a minute: many share an opened_at.
  for (let minute = 0; minute < 5; minute++) {
    clock.set(new Date(T0 + minute * 60_000));
    const alerts = Array.from({ length: 50 }, (_, n) => ({ fingerprint: `1157${String(minute * 50 + n).padStart(12, '0')}`, monId: null }));
    await postAlertmanager(service.app, alertmanagerBody(alerts)).expect(202);
  }
  // Two resolved ones, which `status=open` leaves out.
  clock.set(new Date(T0 + 6 * 60_000));
  await postAlertmanager(service.app, alertmanagerBody([0, 1].map((n) => ({ fingerprint: `1157${String(n).padStart(12, '0')}`, monId: null, status: 'resolved' as const })))).expect(202);
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('GET /api/incidents', () => {
  it('answers 200 open incidents by default with a nextCursor, and the next page holds the oldest, waiting longest', async () => {
    const first = await list('?status=open');
    expect(first.incidents).toHaveLength(200);
    expect(first.nextCursor).toEqual(expect.any(String));
    // The answer keeps its shape: summaries, newest first.
    expect(first.incidents[0]).toMatchObject({ status: 'triggered', alertCount: 1, openedAt: '2026-08-14T09:04:00.000Z' });
    const second = await list(`?status=open&before=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.incidents).toHaveLength(48);
    expect(second.nextCursor).toBeNull();
    const open = await newestFirst('open');
    expect([...first.incidents, ...second.incidents].map((i) => i.id)).toEqual(open);
    expect(second.incidents.at(-1)!.openedAt).toBe('2026-08-14T09:00:00.000Z');
  });

  it('pages through incidents opened at the same instant without skipping or repeating one', async () => {
    // 7 does not divide 50: pages end in the middle of a minute's incidents, which share their opened_at.
    const { ids, pages } = await everyPage('?status=all&limit=7');
    expect(pages).toBe(Math.ceil(250 / 7));
    expect(ids).toEqual(await newestFirst());
    expect(new Set(ids).size).toBe(250);
  });

  it('keeps the microseconds of opened_at in the cursor', async () => {
    // Two incidents within one millisecond: a cursor rounded to the millisecond would skip the second.
    const [a, b] = (await newestFirst()).slice(-2);
    await service.db.db.updateTable('incidents').set({ opened_at: '2026-08-14T08:00:00.000700Z' }).where('id', '=', a!).execute();
    await service.db.db.updateTable('incidents').set({ opened_at: '2026-08-14T08:00:00.000300Z' }).where('id', '=', b!).execute();
    const { ids } = await everyPage('?status=all&limit=1', '2026-08-14T08:30:00Z,1');
    expect(ids).toEqual([a, b]);
  });

  it('answers up to 1000 at once, and refuses a limit beyond that or below 1', async () => {
    const all = await list('?status=all&limit=1000');
    expect(all.incidents).toHaveLength(250);
    expect(all.nextCursor).toBeNull();
    expect((await refused('?limit=1001')).error).toMatch(/limit/);
    expect((await refused('?limit=0')).error).toMatch(/limit/);
    expect((await refused('?limit=ten')).error).toMatch(/limit/);
  });

  it('refuses unknown query keys by name, and a cursor it did not make', async () => {
    expect((await refused('?status=open&offset=200')).error).toMatch(/offset/);
    const both = (await refused('?page=2&per_page=50')).error;
    expect(both).toMatch(/page/);
    expect(both).toMatch(/per_page/);
    expect((await refused('?before=yesterday')).error).toMatch(/before: expected the nextCursor/);
    expect((await refused('?before=2026-08-14T09:00:00Z')).error).toMatch(/before/);
    expect((await refused('?status=closed')).error).toMatch(/status/);
  });
});
