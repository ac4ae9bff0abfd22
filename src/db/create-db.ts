import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
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

/** int8 comes back as a JS number on both drivers (PGlite already does this); ids and counts stay far below 2^53. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

export async function createDb(options: { databaseUrl: string | null; dataDir: string; poolSize?: number }): Promise<DbHandle> {
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
  const unlock = await lockDataDir(dir);
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

/**
 * The embedded database is one process's files: a second process (a `report` or `migrate` while the service runs)
 * opening them too would corrupt them. A lock file with the owner's pid refuses that, and a dead owner's lock is taken over.
 * A pid alone is not enough: a container restarted after a kill -9 or an OOM kill gets the same pid again, and a reboot
 * hands old pids to other programs, so such a service would refuse to start forever. The lock also records when its
 * owner started (Linux's /proc), and a live pid that started at another time is somebody else.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(path.dirname(dir), 'pglite.lock');
  const mine = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(lockPath, mine, { flag: 'wx' });
      return () => fs.rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pid, started] = (await fs.readFile(lockPath, 'utf8').catch(() => '')).trim().split(/\s+/);
      const owner = Number(pid);
      if (owner && ownerStillHoldsIt(owner, started)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${owner}; stop it first, or use a PostgreSQL server (DATABASE_URL)`);
      }
      await fs.rm(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock the embedded database in ${dir}`);
}

function ownerStillHoldsIt(pid: number, started: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  const now = processStartTime(pid);
  // A lock without a start time (or a system without /proc) only has the pid to go by; this very process cannot have
  // written such a lock, so one naming our own pid is an earlier process's.
  if (!started || now === null) return !(started === undefined && pid === process.pid);
  return started === now;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where there is no /proc. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
