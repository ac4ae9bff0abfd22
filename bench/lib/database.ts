import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { runCli } from './proc.js';

export type DbKind = 'postgres' | 'embedded';

/** A fresh database for one scenario: a new database on the local PostgreSQL, or a new embedded data directory. */
export interface BenchDatabase {
  kind: DbKind;
  url: string | null;
  dataDir: string;
  /** The service's environment for this database. */
  env: Record<string, string>;
  /** Opens it from the bench process (the embedded one only while no service has it open). */
  open(): Promise<DbHandle>;
  drop(): Promise<void>;
}

let embeddedTemplate: Promise<string> | null = null;

/**
 * An embedded data directory, initialised and migrated once per bench run (PGlite's initdb takes seconds), that every
 * embedded scenario copies: a fresh database in a fraction of a second.
 */
export function embeddedTemplateDir(): Promise<string> {
  embeddedTemplate ??= (async () => {
    // In a child process: PGlite's initdb would block the bench's event loop (and its load generator) for seconds.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-bench-template-'));
    await runCli(['migrate'], { DATA_DIR: dir });
    return dir;
  })();
  return embeddedTemplate;
}

export async function removeEmbeddedTemplate(): Promise<void> {
  if (!embeddedTemplate) return;
  const dir = await embeddedTemplate.catch(() => null);
  embeddedTemplate = null;
  if (dir) await fs.rm(dir, { recursive: true, force: true });
}

export async function createBenchDatabase(kind: DbKind, adminUrl: string | null): Promise<BenchDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-bench-db-'));
  if (kind === 'embedded') {
    await fs.cp(await embeddedTemplateDir(), dataDir, { recursive: true });
    return {
      kind,
      url: null,
      dataDir,
      env: { DATA_DIR: dataDir },
      open: () => createDb({ databaseUrl: null, dataDir }),
      drop: () => fs.rm(dataDir, { recursive: true, force: true }),
    };
  }
  if (!adminUrl) throw new Error('DATABASE_URL is needed for the PostgreSQL runs');
  const name = `rr_bench_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e4)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    kind,
    url,
    dataDir,
    env: { DATABASE_URL: url, DATA_DIR: dataDir },
    open: () => createDb({ databaseUrl: url, dataDir, poolSize: 4 }),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Applies the migrations from the bench process (the service would do it at start; seeding needs the tables first). */
export async function migrate(db: BenchDatabase): Promise<void> {
  if (db.kind === 'embedded') return; // copied from the migrated template
  const h = await db.open();
  try {
    await migrateToLatest(h.db);
  } finally {
    await h.close();
  }
}

export async function withDb<T>(db: BenchDatabase, fn: (h: DbHandle) => Promise<T>): Promise<T> {
  const h = await db.open();
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

/** Drops databases a crashed earlier run left behind (they are all named rr_bench_*). */
export async function dropLeftovers(adminUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(`select datname from pg_database where datname like 'rr\\_bench\\_%'`);
    for (const r of rows) {
      const pid = Number(/^rr_bench_(\d+)_/.exec(r.datname)?.[1]);
      if (pid === process.pid) continue;
      try {
        process.kill(pid, 0);
        continue; // another bench still running
      } catch {
        await c.query(`drop database if exists ${r.datname} with (force)`);
      }
    }
  } finally {
    await c.end();
  }
}
