import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A fresh, empty database for one test file: a new PostgreSQL database when DATABASE_URL is set (the CI's real server),
 * else a new embedded data directory. Either way the suite runs against a real PostgreSQL engine.
 */
export interface TestDatabase {
  /** postgres:// URL of the fresh database, or null on the embedded one. */
  url: string | null;
  dataDir: string;
  kind: 'postgres' | 'embedded';
  drop(): Promise<void>;
}

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

/** `empty`: no migrations applied (tests of the migrations themselves); otherwise the embedded one starts migrated. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-test-'));
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const template = process.env.RR_TEST_TEMPLATE_DIR;
    if (template && !options.empty) await fs.cp(template, path.join(dataDir, 'pglite'), { recursive: true });
    return { url: null, dataDir, kind: 'embedded', drop: () => fs.rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `rr_test_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    kind: 'postgres',
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
