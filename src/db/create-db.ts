import fs from 'node:fs/promises';
import path from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import { preparingPool } from './prepared-statements.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A store function's first argument: the database or a transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DbHandle {
  db: Db;
  kind: 'postgres' | 'embedded';
  /** Where the data is, for logs: the URL without its password, or the embedded data directory. */
  location: string;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * int8 comes back as PGlite gives it: a JS number while it is exact (ids and counts stay far below 2^53), a bigint beyond
 * that rather than a silently rounded number.
 */
const parseInt8 = (value: string): number | bigint => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
};
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export async function createDb(options: {
  databaseUrl: string | null;
  dataDir: string;
  poolSize?: number;
  /** The service waits out a lock it cannot check (another container's) until it is stale; commands refuse at once. */
  waitForUncheckableLock?: boolean;
  onLockWait?: (message: string) => void;
}): Promise<DbHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      connectionTimeoutMillis: 3000,
      // A statement stuck on a dead server must fail fast so the sender gets a 5xx and retries.
      query_timeout: 10_000,
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    return { db, kind: 'postgres', location: redactUrl(options.databaseUrl), close: () => db.destroy() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = path.resolve(options.dataDir, 'pglite');
  await fs.mkdir(dir, { recursive: true });
  const unlock = await lockDataDir(dir, { waitForUncheckable: options.waitForUncheckableLock ?? false, onWait: options.onLockWait });
  try {
    const pglite = await PGlite.create(dir);
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    return {
      db,
      kind: 'embedded',
      location: dir,
      close: async () => {
        await db.destroy();
        await unlock();
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
