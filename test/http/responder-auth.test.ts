// Responder identity: HTTP basic users from RESPONDERS (scrypt hashes), a trusted auth-proxy header, and the rule that
// webhook, health and static routes never ask for it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { ConfigError } from '../../src/config.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../src/responders/password.js';
import { runHashPassword } from '../../src/responders/hash-password-command.js';
import { parseResponders } from '../../src/responders/responders.js';
import type { Service } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createTestService, ROOT } from '../support/test-service.js';
import { alertmanagerBody, csrfToken, FIXTURE_RUNBOOKS, incidentIdOf } from './helpers.js';

// Cheap parameters keep the suite fast; the format and the verification path are the production ones.
const FAST = { N: 1024, r: 8, p: 1 };
const clock = fixedClock('2026-08-14T09:20:00Z');
const html = { Accept: 'text/html' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('password hashes', () => {
  it('round-trips scrypt$N$r$p$salt$key and rejects a wrong password', async () => {
    const encoded = await hashPassword('correct horse', FAST);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const hash = parsePasswordHash(encoded);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    // Same password, fresh salt: different hashes.
    expect(await hashPassword('correct horse', FAST)).not.toBe(encoded);
  });

  it('explains what is wrong with a malformed hash', () => {
    expect(() => parsePasswordHash('scrypt$1024$8$1$c2FsdA==')).toThrow(/6 fields/);
    expect(() => parsePasswordHash('scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toThrow(/power of two/);
    expect(() => parsePasswordHash('scrypt$4194304$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toThrow(/N must be between/);
    expect(() => parsePasswordHash('scrypt$1024$8$1$not base64!$a2V5a2V5a2V5a2V5a2V5a2V5')).toThrow(/base64/);
  });

  it('refuses RESPONDERS entries with a malformed hash, naming the user but never echoing the hash', () => {
    const error = (() => {
      try {
        parseResponders(['carol:scrypt$1024$8$1$short', 'dave:scrypt$1024$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5', 'dave:scrypt$1024$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5']);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'RESPONDERS: the hash of "carol" is invalid: expected scrypt$N$r$p$salt$key (6 fields separated by $) (make one with "runbook-router hash-password")',
      'RESPONDERS: user "dave" is listed twice',
    ]);
    expect(parseResponders(['dave:scrypt$1024$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5']).has('dave')).toBe(true);
  });

  it('hash-password prints a hash from the argument or from stdin', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => undefined, readStdin: async () => 's3cret from stdin\nignored\n' };
    expect(await runHashPassword([], io)).toBe(0);
    expect(await verifyPassword('s3cret from stdin', parsePasswordHash(out[0]!))).toBe(true);
    expect(await runHashPassword(['p4ss'], io)).toBe(0);
    expect(await verifyPassword('p4ss', parsePasswordHash(out[1]!))).toBe(true);
    expect(await runHashPassword([], { ...io, readStdin: async () => '\n' })).toBe(2);
  });

  it('hash-password works end to end through the CLI, reading stdin', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin/runbook-router.js'), 'hash-password'], { input: 'from the pipe\n', encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^scrypt\$32768\$8\$1\$/);
  });
});

describe('basic mode (RESPONDERS)', () => {
  let database: TestDatabase;
  let service: Service;
  let incidentId: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    const alice = await hashPassword('correct horse', FAST);
    const bob = await hashPassword('battery staple', FAST);
    service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS, RESPONDERS: `alice:${alice},bob:${bob}` }, { clock });
    // Webhooks never use responder authentication.
    incidentId = incidentIdOf(await request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerBody([{ fingerprint: 'cccc000000000001' }])).expect(202));
  });
  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers 401 with a Basic challenge on pages and the API without credentials', async () => {
    for (const p of ['/', `/incidents/${incidentId}`, `/incidents/${incidentId}/retro.md`, '/runbooks', '/runbooks/RUN-001', '/matrix', '/api/incidents', '/api/runbooks', '/api/matrix']) {
      const res = await request(service.app).get(p).set(html);
      expect(res.status, p).toBe(401);
      expect(res.headers['www-authenticate'], p).toBe('Basic realm="runbook-router", charset="UTF-8"');
    }
    const api = await request(service.app).post(`/api/incidents/${incidentId}/acknowledge`).send({ by: 'mallory' }).expect(401);
    expect(api.headers['www-authenticate']).toMatch(/^Basic /);
    expect(api.body.error).toMatch(/sign in/);
    await request(service.app).post(`/api/incidents/${incidentId}/steps/prereq-1`).send({ checked: true }).expect(401);
    await request(service.app).post(`/incidents/${incidentId}/acknowledge`).type('form').send({}).expect(401);
    await request(service.app).post('/api/runbooks/reload').send({}).expect(401);
    expect((await service.db.db.selectFrom('incidents').select('status').where('id', '=', incidentId).executeTakeFirstOrThrow()).status).toBe('triggered');
  });

  it('refuses a wrong password or an unknown user', async () => {
    await request(service.app).get('/').set('Authorization', basic('alice', 'wrong')).expect(401);
    await request(service.app).get('/').set('Authorization', basic('mallory', 'correct horse')).expect(401);
    await request(service.app).get('/').set('Authorization', 'Basic !!!').expect(401);
    await request(service.app).get('/').set('Authorization', 'Bearer abc').expect(401);
  });

  it('keeps health, metrics, static assets and webhooks open', async () => {
    await request(service.app).get('/healthz').expect(200);
    await request(service.app).get('/readyz').expect(200);
    await request(service.app).get('/metrics').expect(200);
    await request(service.app).get('/static/app.css').expect(200);
  });

  it('with good credentials, pages work and every action is recorded as the signed-in user, whatever the body says', async () => {
    const page = await request(service.app).get(`/incidents/${incidentId}`).set(html).set('Authorization', basic('alice', 'correct horse')).expect(200);
    expect(page.text).toContain('Signed in as</span> <strong>alice</strong>');
    expect(page.text).not.toContain('Local mode');

    const ack = await request(service.app).post(`/api/incidents/${incidentId}/acknowledge`).set('Authorization', basic('alice', 'correct horse')).send({ by: 'mallory' }).expect(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', changed: true });
    const row = await service.db.db.selectFrom('incidents').selectAll().where('id', '=', incidentId).executeTakeFirstOrThrow();
    expect(row.acknowledged_by).toBe('alice');
    const step = await request(service.app).post(`/api/incidents/${incidentId}/steps/prereq-1`).set('Authorization', basic('bob', 'battery staple')).send({ checked: true, by: 'mallory' }).expect(200);
    expect(step.body).toMatchObject({ by: 'bob', checked: true });
    await request(service.app).post(`/api/incidents/${incidentId}/notes`).set('Authorization', basic('bob', 'battery staple')).send({ text: 'looking', by: 'mallory' }).expect(201);

    // A form: the CSRF token comes from a page this user loaded; the actor is the signed-in user.
    const agent = request.agent(service.app);
    const form = await agent.get(`/incidents/${incidentId}`).set(html).set('Authorization', basic('bob', 'battery staple')).expect(200);
    await agent.post(`/incidents/${incidentId}/steps/prereq-2`).set('Authorization', basic('bob', 'battery staple')).type('form').send({ _csrf: csrfToken(form.text), checked: 'true' }).expect(303);
    await agent.post(`/incidents/${incidentId}/steps/step-1.v1`).set('Authorization', basic('bob', 'battery staple')).type('form').send({ checked: 'true' }).expect(403);

    const events = await service.db.db.selectFrom('incident_events').select(['kind', 'actor']).where('incident_id', '=', incidentId).where('kind', 'in', ['acknowledged', 'step_checked', 'note']).orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'acknowledged', actor: 'alice' },
      { kind: 'step_checked', actor: 'bob' },
      { kind: 'note', actor: 'bob' },
      { kind: 'step_checked', actor: 'bob' },
    ]);
  });
});

describe('trusted header mode (TRUSTED_USER_HEADER)', () => {
  let database: TestDatabase;
  let service: Service;
  let incidentId: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await createTestService(database, { RUNBOOKS_DIR: FIXTURE_RUNBOOKS, TRUSTED_USER_HEADER: 'X-Forwarded-User' }, { clock });
    incidentId = incidentIdOf(await request(service.app).post('/webhooks/alertmanager').set('Content-Type', 'application/json').send(alertmanagerBody([{ fingerprint: 'dddd000000000001' }])).expect(202));
  });
  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('refuses requests that did not come through the proxy', async () => {
    const res = await request(service.app).get('/').set(html).expect(401);
    expect(res.text).toMatch(/missing the X-Forwarded-User header/);
    await request(service.app).post(`/api/incidents/${incidentId}/acknowledge`).send({ by: 'mallory' }).expect(401);
    await request(service.app).get('/').set('X-Forwarded-User', '   ').expect(401);
  });

  it('records actions as the user the proxy names', async () => {
    clock.set('2026-08-14T09:31:00Z');
    const agent = request.agent(service.app);
    const page = await agent.get(`/incidents/${incidentId}`).set(html).set('X-Forwarded-User', 'dana@example.com').expect(200);
    expect(page.text).toContain('<strong>dana@example.com</strong>');
    expect(page.text).not.toContain('Local mode');
    await agent.post(`/incidents/${incidentId}/acknowledge`).set('X-Forwarded-User', 'dana@example.com').type('form').send({ _csrf: csrfToken(page.text) }).expect(303);
    const row = await service.db.db.selectFrom('incidents').selectAll().where('id', '=', incidentId).executeTakeFirstOrThrow();
    expect(row.acknowledged_by).toBe('dana@example.com');
    expect(row.acknowledged_at!.toISOString()).toBe('2026-08-14T09:31:00.000Z');
    const res = await request(service.app).post(`/api/incidents/${incidentId}/resolve`).set('X-Forwarded-User', 'sam').send({ by: 'mallory' }).expect(200);
    expect(res.body.status).toBe('resolved');
    const events = await service.db.db.selectFrom('incident_events').select(['kind', 'actor']).where('incident_id', '=', incidentId).where('kind', 'in', ['acknowledged', 'resolved']).orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'acknowledged', actor: 'dana@example.com' },
      { kind: 'resolved', actor: 'sam' },
    ]);
  });
});
