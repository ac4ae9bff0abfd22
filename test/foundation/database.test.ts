import { existsSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/create-db.js';
import { LOCK_REFRESH_MS, LOCK_STALE_MS } from '../../src/db/data-dir-lock.js';
import { migrateToLatest, pendingMigrations } from '../../src/db/migrate.js';
import { createIngestBatcher } from '../../src/incidents/ingest-batcher.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createCatalogStore } from '../../src/runbooks/catalog.js';
import { routingFromCatalog } from '../../src/incidents/catalog-routing.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/test-database.js';
import { startServiceProcess } from '../support/service-process.js';
import { createTestService, SHIPPED_RUNBOOKS } from '../support/test-service.js';
import { alertmanagerAlert, wireBody } from '../support/webhook-payloads.js';

/** The app alone, on a database the test controls (no migrations run, no background loops). */
async function bareApp(db: Db) {
  const catalog = createCatalogStore(SHIPPED_RUNBOOKS);
  await catalog.reload();
  return createApp({
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    db,
    clock: systemClock,
    logger: createLogger('silent'),
    metrics: createMetrics(),
    ingest: createIngestBatcher({ commit: async () => [], maxWaitMs: 1, maxSize: 1, concurrency: 1 }),
    catalog,
    routing: () => routingFromCatalog(catalog.current()),
    wakeEscalation: () => undefined,
  });
}

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
  });
  afterAll(async () => database.drop());

  it('apply the whole schema to an empty database, once', async () => {
    const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
    try {
      const pending = await pendingMigrations(handle.db);
      expect(pending[0]).toBe('0001_initial_schema');
      expect(await migrateToLatest(handle.db)).toEqual(pending);
      expect(await migrateToLatest(handle.db)).toEqual([]);
      expect(await pendingMigrations(handle.db)).toEqual([]);
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(handle.db);
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['alert_events', 'alert_instances', 'drills', 'follow_ups', 'incident_events', 'incidents', 'notifications', 'rejected_deliveries', 'reports', 'runbook_versions', 'step_checks']),
      );
      // int8 comes back as a number on both drivers.
      const count = await handle.db.selectFrom('incidents').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      expect(count.n).toBe(0);
      // Past 2^53 both give a bigint, exact, instead of a rounded number; numeric stays a string on both.
      const big = await sql<{ safe: unknown; big: unknown; num: unknown }>`select 9007199254740991::int8 as safe, 9007199254740993::int8 as big, 1.50::numeric as num`.execute(handle.db);
      expect(big.rows[0]).toEqual({ safe: 9007199254740991, big: 9007199254740993n, num: '1.50' });
    } finally {
      await handle.close();
    }
  });

  it('enforce one open incident per MON- id with a partial unique index', async () => {
    const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
    try {
      const now = new Date();
      const row = { group_key: 'mon:MON-777', mon_id: 'MON-777', title: 't', severity: 'critical', status: 'triggered' as const, source: 'grafana', escalation_chain: '[]', opened_at: now, last_alert_at: now, updated_at: now };
      await handle.db.insertInto('incidents').values(row).execute();
      await expect(handle.db.insertInto('incidents').values(row).execute()).rejects.toThrow(/duplicate key|unique/i);
      await handle.db.updateTable('incidents').set({ status: 'resolved', resolved_at: now }).where('group_key', '=', 'mon:MON-777').execute();
      await handle.db.insertInto('incidents').values(row).execute();
    } finally {
      await handle.close();
    }
  });
});

describe('/healthz and /readyz', () => {
  it('is not ready while migrations are pending, ready once applied', async () => {
    const database = await createTestDatabase({ empty: true });
    const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir });
    try {
      const app = await bareApp(handle.db);
      await request(app).get('/healthz').expect(200, { status: 'ok' });
      const notReady = await request(app).get('/readyz').expect(503);
      expect(notReady.body.reason).toMatch(/migrations not applied: 0001_initial_schema/);
      await migrateToLatest(handle.db);
      await request(app).get('/readyz').expect(200, { status: 'ready' });
      expect((await request(app).get('/metrics').expect(200)).text).toContain('runbook_router_deliveries_total');
    } finally {
      await handle.close();
      await database.drop();
    }
  });
});

describe('the embedded database keeps its data across restarts', () => {
  it.skipIf(onRealPostgres)('finds the incident of the first start after the second', async () => {
    const database = await createTestDatabase();
    try {
      const first = await createTestService(database);
      const opened = (await request(first.app).post('/webhooks/grafana').set('Content-Type', 'application/json').send(wireBody('grafana-firing')).expect(202)).body.incidents[0];
      await first.stop();
      const second = await createTestService(database);
      const detail = (await request(second.app).get(`/api/incidents/${opened}`).expect(200)).body;
      expect(detail).toMatchObject({ id: opened, monId: 'MON-012', status: 'triggered' });
      await second.stop();
    } finally {
      await database.drop();
    }
  });
});

// Faults against the real server: connections are refused and killed, then allowed again.
describe.runIf(onRealPostgres)('when PostgreSQL becomes unreachable', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  const dbName = () => new URL(database.url!).pathname.slice(1);
  const cutOff = async () => {
    await admin.query(`alter database ${dbName()} allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [dbName()]);
  };
  const restore = () => admin.query(`alter database ${dbName()} allow_connections true`);

  beforeAll(async () => {
    database = await createTestDatabase();
    admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await restore().catch(() => undefined);
    await admin.end();
    await database.drop();
  });

  it('/readyz answers 503, webhooks answer 503 with Retry-After, and the retry is applied once after recovery', async () => {
    const service = await createTestService(database);
    try {
      await request(service.app).get('/readyz').expect(200);
      await cutOff();
      const ready = await request(service.app).get('/readyz').expect(503);
      expect(ready.body.reason).toMatch(/database unreachable/);
      const body = wireBody('grafana-firing');
      const refused = await request(service.app).post('/webhooks/grafana').set('Content-Type', 'application/json').send(body).expect(503);
      expect(refused.headers['retry-after']).toBe('5');

      await restore();
      await request(service.app).get('/readyz').expect(200);
      const applied = await request(service.app).post('/webhooks/grafana').set('Content-Type', 'application/json').send(body).expect(202);
      expect(applied.body.duplicate).toBe(false);
      const again = await request(service.app).post('/webhooks/grafana').set('Content-Type', 'application/json').send(body).expect(202);
      expect(again.body.duplicate).toBe(true);
      const rows = await service.db.db.selectFrom('alert_events').select('id').execute();
      expect(rows).toHaveLength(1);
      const incidents = await service.db.db.selectFrom('incidents').select('id').execute();
      expect(incidents).toHaveLength(1);
    } finally {
      await restore();
      await service.stop();
    }
  });

  it('under load: every delivery answered 202 is stored, the rest get 503, and each is applied once when its sender retries', async () => {
    const service = await createTestService(database);
    try {
      const { url } = await service.start();
      const send = async (fingerprint: string) => {
        const res = await fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerAlert({ monId: 'MON-005', fingerprint }) });
        await res.arrayBuffer();
        return res.status;
      };
      const count = async (table: 'alert_events' | 'alert_instances') =>
        Number((await service.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const before = { events: await count('alert_events'), instances: await count('alert_instances') };
      const fingerprints = Array.from({ length: 400 }, (_, i) => `10ad${String(i).padStart(12, '0')}`);
      const first = new Map<string, number>();
      let next = 0;
      const until = async (done: () => boolean) => {
        while (!done()) await new Promise((r) => setTimeout(r, 2));
      };
      // Ten senders at once; PostgreSQL is cut off after the first hundred deliveries and back after the 250th.
      const senders = Array.from({ length: 10 }, async () => {
        while (next < fingerprints.length) {
          const fingerprint = fingerprints[next++]!;
          first.set(fingerprint, await send(fingerprint));
        }
      });
      const fault = (async () => {
        await until(() => next >= 100);
        await cutOff();
        await until(() => next >= 250);
        await restore();
      })();
      await Promise.all([...senders, fault]);

      const answers = [...first.values()];
      expect(new Set(answers)).toEqual(new Set([202, 503]));
      // What was answered 202 is stored, before any retry.
      const stored = new Set((await service.db.db.selectFrom('alert_instances').select('fingerprint').execute()).map((r) => r.fingerprint));
      const accepted = [...first].filter(([, status]) => status === 202).map(([fingerprint]) => fingerprint);
      expect(accepted.filter((fingerprint) => !stored.has(fingerprint))).toEqual([]);
      // The senders retry the rest, as monitoring tools do with a 503: each is applied once.
      for (const [fingerprint, status] of first) if (status !== 202) expect(await send(fingerprint)).toBe(202);
      expect(await count('alert_instances')).toBe(before.instances + fingerprints.length);
      expect(await count('alert_events')).toBe(before.events + fingerprints.length);
    } finally {
      await restore();
      await service.stop();
    }
  }, 60_000);

  it('lives on when the server drops a connection the service has checked out: the statement fails, the pool recovers', async () => {
    const handle = await createDb({ databaseUrl: database.url, dataDir: database.dataDir, poolSize: 2 });
    try {
      const failed = handle.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        // The client hears of it between statements, while checked out: unheard, its 'error' event crashed the process.
        await new Promise((r) => setTimeout(r, 300));
        await sql`select 1`.execute(tx);
      });
      await expect(failed).rejects.toThrow();
      expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows[0]!.one).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it('/readyz answers 503 for a database URL nothing listens on', async () => {
    const handle = await createDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing', dataDir: database.dataDir });
    const app = await bareApp(handle.db);
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.reason).toMatch(/^database unreachable: .*(ECONNREFUSED|connect)/i);
    await handle.close();
  });
});

describe('the embedded database belongs to one process at a time', () => {
  it.skipIf(onRealPostgres)('refuses a second open of the same data directory while the first is open', async () => {
    const database = await createTestDatabase();
    try {
      const first = await createDb({ databaseUrl: null, dataDir: database.dataDir });
      await expect(createDb({ databaseUrl: null, dataDir: database.dataDir })).rejects.toThrow(`is in use by this process (${process.pid}); stop it first`);
      await first.close();
      const again = await createDb({ databaseUrl: null, dataDir: database.dataDir });
      await again.close();
    } finally {
      await database.drop();
    }
  });

  const myNamespace = existsSync('/proc/self/ns/pid') ? readlinkSync('/proc/self/ns/pid') : null;

  /** A fresh embedded data directory and where its lock file goes, dropped afterwards. */
  async function withDataDir(run: (dataDir: string, lockPath: string) => Promise<void>): Promise<void> {
    const database = await createTestDatabase();
    try {
      await run(database.dataDir, path.join(database.dataDir, 'pglite.lock'));
    } finally {
      await database.drop();
    }
  }

  it.skipIf(onRealPostgres || !myNamespace)('takes over a lock whose owner is gone, even when its pid is alive again (a restart, a reboot)', async () => {
    await withDataDir(async (dataDir, lockPath) => {
      const stale = [
        `${process.pid}`, // the earlier format, naming this very pid: a container restarted after kill -9
        `${process.pid} 1 ${myNamespace}`, // this pid, started at another time
        `1 999999999999 ${myNamespace}`, // a live pid of this namespace that another program started
        `4194303 5 ${myNamespace}`, // a pid nobody has
      ];
      for (const lock of stale) {
        await fs.writeFile(lockPath, lock);
        const handle = await createDb({ databaseUrl: null, dataDir });
        expect((await fs.readFile(lockPath, 'utf8')).split(' ')).toEqual([String(process.pid), expect.stringMatching(/^\d+$/), myNamespace]);
        await handle.close();
        await expect(fs.access(lockPath)).rejects.toThrow();
      }
    });
  });

  it.skipIf(onRealPostgres || !myNamespace)('leaves a lock from another pid namespace alone while it is refreshed, and takes it once it is stale', async () => {
    await withDataDir(async (dataDir, lockPath) => {
      // Another container on the same volume: its pid 1 says nothing here, only the lock's freshness does.
      await fs.writeFile(lockPath, '1 12345 pid:[1]');
      await expect(createDb({ databaseUrl: null, dataDir })).rejects.toThrow(/is in use by process 1 \(its pid cannot be checked from here; its lock was refreshed \d+ s ago and is taken over once it is 30 s old\)/);
      const old = new Date(Date.now() - LOCK_STALE_MS - 1000);
      await fs.utimes(lockPath, old, old);
      const handle = await createDb({ databaseUrl: null, dataDir });
      expect((await fs.readFile(lockPath, 'utf8')).split(' ')[0]).toBe(String(process.pid));
      await handle.close();
    });
  });

  it.skipIf(onRealPostgres || !myNamespace)('the service waits, saying so, for such a lock to go stale instead of refusing to start', async () => {
    await withDataDir(async (dataDir, lockPath) => {
      // A container restarted after a crash: its old lock names pid 1 of a namespace that is gone, refreshed until 28 s ago.
      await fs.writeFile(lockPath, '1 12345 pid:[1]');
      const refreshed = new Date(Date.now() - LOCK_STALE_MS + 2000);
      await fs.utimes(lockPath, refreshed, refreshed);
      const said: string[] = [];
      const started = Date.now();
      const handle = await createDb({ databaseUrl: null, dataDir, waitForUncheckableLock: true, onLockWait: (m) => said.push(m) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect(said).toEqual([expect.stringContaining('is locked by process 1, whose pid cannot be checked from here (another container?); waiting for its lock to go stale (30 s without a refresh)')]);
      expect((await fs.readFile(lockPath, 'utf8')).split(' ')[0]).toBe(String(process.pid));
      await handle.close();
    });
  }, 15_000);

  it.skipIf(onRealPostgres)('refuses while a running service holds the data directory, and opens once it has stopped', async () => {
    const database = await createTestDatabase();
    const service = await startServiceProcess({ DATA_DIR: database.dataDir, RUNBOOKS_DIR: SHIPPED_RUNBOOKS });
    try {
      await expect(createDb({ databaseUrl: null, dataDir: database.dataDir })).rejects.toThrow(`is in use by process ${service.child.pid}; stop it first`);
      expect(await service.stop()).toBe(0);
      const handle = await createDb({ databaseUrl: null, dataDir: database.dataDir });
      await handle.close();
    } finally {
      await service.stop();
      await database.drop();
    }
  }, 40_000);

  it.skipIf(onRealPostgres)('refreshes its own lock while it holds it', async () => {
    const database = await createTestDatabase();
    const lockPath = path.join(database.dataDir, 'pglite.lock');
    const handle = await createDb({ databaseUrl: null, dataDir: database.dataDir });
    try {
      const old = new Date(Date.now() - 60_000);
      await fs.utimes(lockPath, old, old);
      await new Promise((r) => setTimeout(r, LOCK_REFRESH_MS + 700));
      expect(Date.now() - (await fs.stat(lockPath)).mtimeMs).toBeLessThan(LOCK_REFRESH_MS + 500);
    } finally {
      await handle.close();
      await database.drop();
    }
  }, 15_000);
});
