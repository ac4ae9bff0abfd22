import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClock, runDemo } from '../../src/demo-command.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';

// `demo` posted the examples with their recorded times, so `demo --keep-open` after `demo` sent firings older than the
// recoveries already applied: every post was answered 202 and every incident stayed resolved.
let database: TestDatabase;
let service: Service;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await createTestService(database);
  const server = createServer(service.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(async () => {
  await close?.();
  await service?.stop();
  await database?.drop();
});

const demo = (...args: string[]) => runDemo([url, ...args], { out: () => undefined, err: (s) => console.error(s), config: () => service.config });
const openIncidents = async () => (await service.db.db.selectFrom('incidents').select('id').where('status', '<>', 'resolved').execute()).length;

describe('demo', () => {
  it('opens the incidents again with --keep-open right after a full run resolved them', async () => {
    expect(await demo()).toBe(0);
    expect(await openIncidents()).toBe(0);
    expect(await demo('--keep-open')).toBe(0);
    expect(await openIncidents()).toBeGreaterThanOrEqual(3);
  });

  it('moves the examples\' times to the last milliseconds before now, in their order, leaving the zero time alone', () => {
    const examples = [{ startsAt: '2026-08-14T09:18:45.512Z', endsAt: '0001-01-01T00:00:00Z' }, { date: '1786699300000', at: '2026-08-14T09:49:15.512Z' }];
    const now = Date.parse('2026-12-01T12:00:00Z');
    const retime = demoClock(examples, now);
    expect(retime(examples[0])).toEqual({ startsAt: '2026-12-01T11:59:59.998Z', endsAt: '0001-01-01T00:00:00Z' });
    expect(retime(examples[1])).toEqual({ date: String(now - 1), at: '2026-12-01T12:00:00.000Z' });
  });
});
