import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runEscalationTick } from '../../src/incidents/escalation-tick.js';
import { currentChannelUrl, enqueueNotification, postTarget, runOutboxTick } from '../../src/incidents/outbox.js';
import type { Service } from '../../src/service.js';
import { startSink } from '../support/http-sink.js';
import { startServiceProcess } from '../support/service-process.js';
import { runbooksWithMatrix, sinkMatrix } from '../support/runbooks-dir.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService } from '../support/test-service.js';
import { alertmanagerAlert } from '../support/webhook-payloads.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
const T0 = '2026-09-01T03:00:00Z';

let database: TestDatabase;
let sink: Sink | null = null;
let service: Service | null = null;
const clock = fixedClock(T0);

async function start(s: Sink, env: Record<string, string> = {}) {
  const dir = await runbooksWithMatrix(sinkMatrix(s.url, { ackWithin: '5m', repeatEvery: '10m' }));
  return createTestService(database, { RUNBOOKS_DIR: dir, PUBLIC_URL: 'https://rr.example.com', NOTIFY_BACKOFF: '10s', ...env }, { clock });
}

async function tick(s: Service) {
  await runEscalationTick(s.db.db, { routing: s.routing(), now: clock.now(), publicUrl: s.config.publicUrl });
  return runOutboxTick(s.db.db, () => clock.now(), s.config.notify);
}

const fire = (s: Service, monId: string) =>
  request(s.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerAlert({ monId, fingerprint: 'ffff000000000001' })).expect(202);

beforeEach(async () => {
  clock.set(T0);
  database = await createTestDatabase();
});
afterEach(async () => {
  await service?.stop().catch(() => undefined);
  service = null;
  await sink?.close();
  sink = null;
  await database.drop();
});

describe('a page waiting for a retry when the incident is acknowledged or resolved', () => {
  for (const action of ['acknowledge', 'resolve'] as const) {
    it(`is not delivered after ${action}, and the timeline says it was cancelled`, async () => {
      sink = await startSink((_req, index) => (index === 0 ? 500 : 200));
      service = await start(sink);
      const id = (await fire(service, 'MON-005')).body.incidents[0];
      expect(await tick(service)).toMatchObject({ retried: 1 });
      await request(service.app).post(`/api/incidents/${id}/${action}`).send({ by: 'dana' }).expect(200);

      clock.advance(60_000);
      expect(await tick(service)).toMatchObject({ sent: 0, retried: 0 });
      clock.advance(60 * 60_000);
      await tick(service);
      expect(sink.received).toHaveLength(1); // only the first, failed attempt

      const row = await service.db.db.selectFrom('notifications').selectAll().where('incident_id', '=', id).executeTakeFirstOrThrow();
      expect(row.status).toBe('cancelled');
      expect(row.last_error).toMatch(/^cancelled: incident (acknowledged|resolved)/);
      const timeline = (await request(service.app).get(`/api/incidents/${id}`)).body.timeline;
      expect(timeline.at(-1)).toMatchObject({ kind: 'notification_cancelled', data: { contact: 'level-one', status: action === 'acknowledge' ? 'acknowledged' : 'resolved' } });
      const page = await request(service.app).get(`/incidents/${id}`).expect(200);
      expect(page.text).toContain(`not sent: the incident was ${action === 'acknowledge' ? 'acknowledged' : 'resolved'} first`);
    });
  }
});

describe('a page of an earlier episode when the incident reopens', () => {
  it('is cancelled: only the reopened episode pages level 1', async () => {
    sink = await startSink((_req, index) => (index === 0 ? 500 : 200));
    service = await start(sink);
    const id = (await fire(service, 'MON-005')).body.incidents[0];
    expect(await tick(service)).toMatchObject({ retried: 1 });
    await request(service.app).post(`/api/incidents/${id}/resolve`).send({ by: 'dana' }).expect(200);
    clock.advance(60_000);
    const again = alertmanagerAlert({ monId: 'MON-005', fingerprint: 'ffff000000000002', startsAt: clock.now().toISOString() });
    const reopened = await request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(again).expect(202);
    expect(reopened.body.incidents).toEqual([id]);
    expect((await request(service.app).get(`/api/incidents/${id}`)).body).toMatchObject({ status: 'triggered', reopenCount: 1 });

    await tick(service);
    clock.advance(60_000);
    await tick(service);
    expect(sink.received.map((r) => r.headers['idempotency-key'])).toEqual([`incident-${id}-r0-e1-level-one-0`, `incident-${id}-r1-e2-level-one-0`]);
    const timeline = (await request(service.app).get(`/api/incidents/${id}`)).body.timeline;
    expect(timeline.filter((e: { kind: string }) => e.kind === 'notification_cancelled')).toMatchObject([{ data: { contact: 'level-one', status: 'reopened' } }]);
  });
});

describe('the outbox lease', () => {
  it('outlasts a round that sends to a hanging receiver in several waves, so a second sender never re-sends it', async () => {
    sink = await startSink(() => 'hang');
    service = await start(sink, { NOTIFY_TIMEOUT: '300ms', NOTIFY_MAX_ATTEMPTS: '5' });
    const count = 140; // more than two waves of 64 parallel sends
    for (let i = 0; i < count; i++) {
      await enqueueNotification(service.db.db, { idempotencyKey: `lease-${i}`, kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url: `${sink.url}/n${i}` }, payload: { i }, now: clock.now() });
    }
    const options = service.config.notify;
    const first = runOutboxTick(service.db.db, () => clock.now(), options);
    await sink.waitFor(64);
    // Another replica looks once the old lease (two timeouts and a second) has passed, while the first is still sending.
    const later = new Date(clock.now().getTime() + 2 * 300 + 1000 + 100);
    const second = await runOutboxTick(service.db.db, () => later, options);
    expect(second).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await first).toMatchObject({ retried: count });
    expect(sink.received).toHaveLength(count);
    expect(new Set(sink.paths()).size).toBe(count);
  });
});

describe('an outcome that comes back after its claim was lost', () => {
  it('does not overwrite what the replica that claimed it again recorded', async () => {
    // The first POST hangs past the lease; another replica claims the notification, delivers it, and records it sent.
    sink = await startSink((_req, index) => (index === 0 ? 'hang' : 200));
    service = await start(sink, { NOTIFY_TIMEOUT: '300ms', NOTIFY_MAX_ATTEMPTS: '1' });
    await enqueueNotification(service.db.db, { idempotencyKey: 'late-1', kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url: `${sink.url}/late` }, payload: {}, now: clock.now() });
    const options = service.config.notify;
    const first = runOutboxTick(service.db.db, () => clock.now(), options);
    await sink.waitFor(1);
    const later = new Date(clock.now().getTime() + 2 * 300 + 1000 + 100);
    expect(await runOutboxTick(service.db.db, () => later, options)).toMatchObject({ sent: 1 });
    // The first claim's time-out arrives last: its attempt was the last allowed, but the page went out.
    await first;
    const row = await service.db.db.selectFrom('notifications').selectAll().where('idempotency_key', '=', 'late-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', last_error: null, attempts: 2 });
  });
});

describe('a receiver that never answers', () => {
  it("does not hold another receiver's page: the service's outbox claims it while the first POST still waits", async () => {
    // The first page (MON-005's level one) hangs until NOTIFY_TIMEOUT; the second page, for another incident, is answered at once.
    sink = await startSink((_req, index) => (index === 0 ? 'hang' : 200));
    const dir = await runbooksWithMatrix(sinkMatrix(sink.url, { ackWithin: '5m' }));
    service = await createTestService(database, { RUNBOOKS_DIR: dir, ESCALATION_TICK: '100ms', NOTIFY_TIMEOUT: '8s' }, { backgroundLoops: true });
    const url = (await service.start()).url;
    const post = (monId: string, fingerprint: string) =>
      fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerAlert({ monId, fingerprint }) });
    expect((await post('MON-005', 'aaaa000000000001')).status).toBe(202);
    await sink.waitFor(1, 5_000);
    const hungAt = Date.now();
    expect((await post('MON-901', 'bbbb000000000002')).status).toBe(202);
    await sink.waitFor(2, 5_000);
    // Well inside the first POST's 8 s timeout.
    expect(sink.received[1]!.at - hungAt).toBeLessThan(3_000);
    expect(sink.received[1]!.body).toMatchObject({ type: 'escalation', monId: 'MON-901' });
    // Cut the hanging POST off, so the service stops without waiting for its timeout.
    await sink.close();
    sink = null;
  });

  it('claimed in the same round as a hundred others, holds only its own send slot', async () => {
    sink = await startSink((req) => (req.path === '/hang' ? 'hang' : 200));
    const dir = await runbooksWithMatrix(sinkMatrix(sink.url, { ackWithin: '5m' }));
    service = await createTestService(database, { RUNBOOKS_DIR: dir, ESCALATION_TICK: '100ms', NOTIFY_TIMEOUT: '8s' }, { backgroundLoops: true });
    const enqueue = (key: string, to: string) =>
      enqueueNotification(service!.db.db, { idempotencyKey: key, kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url: `${sink!.url}${to}` }, payload: {}, now: new Date() });
    // Queued before the service starts: its first round claims the hanging one and 63 others together.
    await enqueue('hang', '/hang');
    for (let i = 0; i < 100; i++) await enqueue(`ok-${i}`, `/ok-${i}`);
    await service.start();
    // All 100 well inside the hanging POST's 8 s timeout (the other 37 waited for it before).
    await sink.waitFor(101, 4_000);
    expect(sink.paths().filter((p) => p.startsWith('/ok-')), sink.paths().slice(0, 5).join(' ')).toHaveLength(100);
    await sink.close();
    sink = null;
  });

  it('has its retries claimed after first attempts, so a new page never waits behind them', async () => {
    sink = await startSink();
    service = await start(sink);
    const enqueue = (key: string) =>
      enqueueNotification(service!.db.db, { idempotencyKey: key, kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url: `${sink!.url}/${key}` }, payload: {}, now: clock.now() });
    await enqueue('retry-1');
    await enqueue('retry-2');
    // Both failed before and are due again since a minute ago; the new page is due now.
    await service.db.db.updateTable('notifications').set({ attempts: 3, next_attempt_at: new Date(clock.now().getTime() - 60_000) }).execute();
    await enqueue('new-page');
    const one = { ...service.config.notify, limit: 1 };
    await runOutboxTick(service.db.db, () => clock.now(), one);
    await runOutboxTick(service.db.db, () => clock.now(), one);
    await runOutboxTick(service.db.db, () => clock.now(), one);
    expect(sink.paths()).toEqual(['/new-page', '/retry-1', '/retry-2']);
  });
});

describe('a receiver that asks to wait (429 with Retry-After)', () => {
  it('is retried after the wait it asked for when that is longer than the backoff, and the backoff is the floor', async () => {
    sink = await startSink((_req, index) => (index === 0 ? { status: 429, headers: { 'Retry-After': '120' } } : index === 1 ? { status: 429, headers: { 'Retry-After': '0' } } : 200));
    service = await start(sink, { NOTIFY_BACKOFF: '10s' });
    await enqueueNotification(service.db.db, { idempotencyKey: 'rate-1', kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url: `${sink.url}/rate` }, payload: {}, now: clock.now() });
    const round = () => runOutboxTick(service!.db.db, () => clock.now(), service!.config.notify);
    const nextAttempt = async () => (await service!.db.db.selectFrom('notifications').select('next_attempt_at').where('idempotency_key', '=', 'rate-1').executeTakeFirstOrThrow()).next_attempt_at;

    expect(await round()).toMatchObject({ retried: 1 });
    expect((await nextAttempt()).getTime() - clock.now().getTime()).toBe(120_000);
    clock.advance(119_000);
    expect(await round()).toMatchObject({ sent: 0, retried: 0 });
    clock.advance(1_000);
    // Retry-After 0 is shorter than the backoff (10 s doubled for the second attempt): the backoff stands.
    expect(await round()).toMatchObject({ retried: 1 });
    expect((await nextAttempt()).getTime() - clock.now().getTime()).toBe(20_000);
    clock.advance(20_000);
    expect(await round()).toMatchObject({ sent: 1 });
  });
});

describe('a receiver URL fixed in the matrix while a page waits for its retry', () => {
  it('takes the waiting page too: the retry goes to the new URL, and the notification records it', async () => {
    sink = await startSink((req) => (req.path === '/level-one' ? 500 : 200));
    const matrix = sinkMatrix(sink.url, { ackWithin: '5m' });
    const dir = await runbooksWithMatrix(matrix);
    service = await createTestService(database, { RUNBOOKS_DIR: dir, ESCALATION_TICK: '100ms', NOTIFY_BACKOFF: '1s' }, { backgroundLoops: true });
    const url = (await service.start()).url;
    const fired = await fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerAlert({ monId: 'MON-005', fingerprint: 'aaaa000000000001' }) });
    expect(fired.status).toBe(202);
    await sink.waitFor(1, 5_000);

    // The on-call fixes the webhook's URL and reloads before the retry is due.
    await fs.writeFile(path.join(dir, 'matrix.yml'), matrix.replace(`${sink.url}/level-one`, `${sink.url}/level-one-fixed`));
    expect((await fetch(`${url}/api/runbooks/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    await sink.waitFor(2, 5_000);
    expect(sink.paths()).toEqual(['/level-one', '/level-one-fixed']);
    expect(sink.received[1]!.headers['idempotency-key']).toBe(sink.received[0]!.headers['idempotency-key']);
    const stored = () => service!.db.db.selectFrom('notifications').select(['url', 'status', 'attempts']).executeTakeFirstOrThrow();
    for (const giveUp = Date.now() + 5_000; (await stored()).status !== 'sent' && Date.now() < giveUp; ) await new Promise((r) => setTimeout(r, 50));
    expect(await stored()).toEqual({ url: `${sink.url}/level-one-fixed`, status: 'sent', attempts: 2 });
  });
});

describe('a contact that loses a failing channel of a type it still has another of', () => {
  // Level one has three webhooks; the matrix is reloaded with only the one left, while the others' pages wait for retries.
  const withLevelOne = (sinkUrl: string, paths: string[]) =>
    sinkMatrix(sinkUrl, { ackWithin: '5m' }).replace(
      `notify: [{ type: webhook, url: "${sinkUrl}/level-one" }]`,
      `notify: [${paths.map((p) => `{ type: webhook, url: "${sinkUrl}/${p}" }`).join(', ')}]`,
    );

  async function firstRound(failing: (path: string) => boolean, paths: string[]) {
    sink = await startSink((req) => (failing(req.path) ? 500 : 200));
    const dir = await runbooksWithMatrix(withLevelOne(sink.url, paths));
    service = await createTestService(database, { RUNBOOKS_DIR: dir, NOTIFY_BACKOFF: '10s' }, { clock });
    await fire(service, 'MON-005');
    await tick(service);
    expect(sink.paths().sort()).toEqual(paths.map((p) => `/${p}`).sort());
    return dir;
  }
  async function reloadAndRetry(dir: string, paths: string[]) {
    await fs.writeFile(path.join(dir, 'matrix.yml'), withLevelOne(sink!.url, paths));
    await request(service!.app).post('/api/runbooks/reload').set('Content-Type', 'application/json').send('{}').expect(200);
    clock.advance(10_000);
    return runOutboxTick(service!.db.db, () => clock.now(), service!.config.notify, currentChannelUrl(service!.routing()));
  }
  const stored = () => service!.db.db.selectFrom('notifications').select(['url', 'status', 'last_error']).orderBy('id').execute();

  it('does not page the channel left a second time when it already has the page', async () => {
    const dir = await firstRound((p) => p === '/one-a', ['one-a', 'one-b']);
    expect(await reloadAndRetry(dir, ['one-b'])).toMatchObject({ sent: 0, retried: 0, cancelled: 1 });
    expect(sink!.paths().filter((p) => p === '/one-b')).toHaveLength(1);
    expect(await stored()).toEqual([
      { url: `${sink!.url}/one-a`, status: 'cancelled', last_error: 'cancelled: its channel left the matrix, and the channel left already has this page' },
      { url: `${sink!.url}/one-b`, status: 'sent', last_error: null },
    ]);
    const page = await request(service!.app).get('/incidents/1').expect(200);
    expect(page.text).toContain('not retried: its channel left the matrix, and the webhook channel left already has this page');
  });

  it('sends one page, not two, when two failing channels are both moved to the one left', async () => {
    const dir = await firstRound((p) => p !== '/one-c', ['one-a', 'one-b']);
    expect(await reloadAndRetry(dir, ['one-c'])).toMatchObject({ sent: 1, cancelled: 1 });
    expect(sink!.paths().filter((p) => p === '/one-c')).toHaveLength(1);
    expect((await stored()).map((n) => [n.url, n.status])).toEqual([
      [`${sink!.url}/one-c`, 'sent'],
      [`${sink!.url}/one-b`, 'cancelled'],
    ]);
  });
});

describe('a receiver that redirects', () => {
  const enqueue = (key: string, url: string) => enqueueNotification(service!.db.db, { idempotencyKey: key, kind: 'test', contactId: 'level-one', channel: { type: 'webhook', url }, payload: { text: key }, now: clock.now() });
  const stored = (key: string) => service!.db.db.selectFrom('notifications').select(['status', 'last_error']).where('idempotency_key', '=', key).executeTakeFirstOrThrow();

  it('gets the page at the new URL after a 307 or 308, the same body and Idempotency-Key', async () => {
    sink = await startSink((req) =>
      req.path === '/old' ? { status: 307, headers: { Location: '/moved' } } : req.path === '/moved' ? { status: 308, headers: { Location: `${sink!.url}/final` } } : 200,
    );
    service = await start(sink);
    await enqueue('moved-1', `${sink.url}/old`);
    expect(await runOutboxTick(service.db.db, () => clock.now(), service.config.notify)).toMatchObject({ sent: 1 });
    expect(sink.paths()).toEqual(['/old', '/moved', '/final']);
    expect(sink.received.map((r) => [r.headers['idempotency-key'], r.body])).toEqual(Array(3).fill(['moved-1', { text: 'moved-1' }]));
    expect(await stored('moved-1')).toEqual({ status: 'sent', last_error: null });
  });

  it('is a failure that says where it moved after a 301, and after too many redirects', async () => {
    sink = await startSink((req) => (req.path === '/gone' ? { status: 301, headers: { Location: 'https://hooks.example.com/new' } } : { status: 307, headers: { Location: '/loop' } }));
    service = await start(sink);
    await enqueue('moved-2', `${sink.url}/gone`);
    await enqueue('moved-3', `${sink.url}/loop`);
    expect(await runOutboxTick(service.db.db, () => clock.now(), service.config.notify)).toMatchObject({ sent: 0, retried: 2 });
    expect(await stored('moved-2')).toEqual({ status: 'pending', last_error: 'HTTP 301, moved to https://hooks.example.com/new' });
    expect(await stored('moved-3')).toEqual({ status: 'pending', last_error: 'HTTP 307 (too many redirects), moved to /loop' });
    expect(sink.paths().filter((p) => p === '/loop')).toHaveLength(4);
  });
});

describe('stopping while a page is in flight', () => {
  it('says it is waiting for it, and exits cleanly once it is answered or timed out', async () => {
    sink = await startSink((_req, index) => (index === 0 ? 'hang' : 200));
    const dir = await runbooksWithMatrix(sinkMatrix(sink.url, { ackWithin: '5m' }));
    const env: Record<string, string> = { RUNBOOKS_DIR: dir, ESCALATION_TICK: '100ms', NOTIFY_TIMEOUT: '1500ms', LOG_LEVEL: 'info' };
    if (database.url) env.DATABASE_URL = database.url;
    else env.DATA_DIR = database.dataDir;
    const replica = await startServiceProcess(env);
    const fired = await fetch(`${replica.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerAlert({ monId: 'MON-005', fingerprint: 'aaaa000000000001' }) });
    expect(fired.status).toBe(202);
    await sink.waitFor(1, 5_000);
    expect(await replica.stop()).toBe(0);
    expect(replica.output(), replica.output().slice(-3000)).toMatch(/"notifications":1,.*"msg":"waiting for notifications in flight before stopping"/);
  });
});

describe('where a page is posted', () => {
  it('follows a redirect within http or https, or from http to https, but never from https to http', () => {
    const at = (href: string, base: string | null) => {
      const target = postTarget(href, base ? new URL(base) : null);
      return target instanceof URL ? target.href : target.error;
    };
    expect(at('https://hooks.example.com/a', null)).toBe('https://hooks.example.com/a');
    expect(at('/b?x=1', 'https://hooks.example.com/a')).toBe('https://hooks.example.com/b?x=1');
    expect(at('https://hooks.example.com/c', 'http://127.0.0.1:9/a')).toBe('https://hooks.example.com/c');
    expect(at('http://hooks.example.com/d', 'https://hooks.example.com/a')).toBe('redirect from https to http refused, moved to http://hooks.example.com/d');
    expect(at('ftp://hooks.example.com/e', 'http://hooks.example.com/a')).toBe('TypeError: unsupported protocol ftp:');
    expect(at('not a url', null)).toBe('TypeError: invalid URL "not a url"');
  });
});
