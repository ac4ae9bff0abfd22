// A tick refused on a scheduled drill (unknown box, or a step past an unconfirmed manual checkpoint) must change
// nothing: the drill stays scheduled, unpinned and unstarted, as a refused `/complete` leaves it. Through the JSON API
// and the page's form, which share checkDrillBox.
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { csrfToken } from '../http/helpers.js';
import { writeCatalog } from '../reports/report-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, fixedClock } from '../support/test-service.js';

const clock = fixedClock('2026-11-24T09:00:00Z');
let database: TestDatabase;
let service: Service;
let agent: ReturnType<typeof request.agent>;

beforeAll(async () => {
  database = await createTestDatabase();
  const dir = await writeCatalog();
  // RUN-002's step 1 becomes a manual checkpoint: step 2 cannot be ticked before it is confirmed.
  const file = path.join(dir, 'RUN-002.md');
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.replace('Duration: 2m\n', 'Duration: 2m\nCheckpoint: manual\n'));
  service = await createTestService(database, { RUNBOOKS_DIR: dir }, { clock });
  agent = request.agent(service.app);
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

const schedule = async (runbookId: string) => (await agent.post('/api/drills').send({ runbookId }).expect(201)).body.id as number;

async function expectUntouched(id: number) {
  const drill = (await agent.get(`/api/drills/${id}`).expect(200)).body;
  expect(drill).toMatchObject({ status: 'scheduled', startedAt: null, startedBy: null, runbookHash: null, runbookPinned: false, checks: [] });
  expect(await service.db.db.selectFrom('runbook_versions').select('hash').execute()).toEqual([]);
}

describe('a refused tick on a scheduled drill', () => {
  it('an unknown box over the JSON API: 404 and the drill is still scheduled', async () => {
    const id = await schedule('RUN-003');
    const res = await agent.post(`/api/drills/${id}/checks`).send({ key: 'nope' }).expect(404);
    expect(res.body.error).toMatch(/checkbox "nope" in RUN-003/);
    await expectUntouched(id);
  });

  it('an unknown box from the page form: 404 and the drill is still scheduled', async () => {
    const id = await schedule('RUN-003');
    const token = csrfToken((await agent.get(`/drills/${id}`).set('Accept', 'text/html').expect(200)).text);
    const res = await agent.post(`/drills/${id}/steps/nope`).type('form').send({ checked: 'true', _csrf: token });
    expect(res.status, res.text.slice(0, 500)).toBe(404);
    await expectUntouched(id);
  });

  it('a step past an unconfirmed manual checkpoint: 409 and the drill is still scheduled', async () => {
    const id = await schedule('RUN-002');
    const res = await agent.post(`/api/drills/${id}/checks`).send({ key: 'step-2' }).expect(409);
    expect(res.body.error).toMatch(/^step 1 is a manual checkpoint/);
    await expectUntouched(id);
  });

  it('a valid first tick still starts the drill and pins its runbook', async () => {
    const id = await schedule('RUN-003');
    await agent.post(`/api/drills/${id}/checks`).send({ key: 'step-1' }).expect(200);
    const drill = (await agent.get(`/api/drills/${id}`).expect(200)).body;
    expect(drill).toMatchObject({ status: 'running', startedAt: '2026-11-24T09:00:00.000Z', runbookHash: service.catalog.current().runbooks.get('RUN-003')!.hash, runbookPinned: true });
    expect(drill.checks.map((c: { key: string }) => c.key)).toEqual(['step-1']);
  });
});
