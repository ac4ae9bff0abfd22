import { readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** How often the owner refreshes its lock, and how old a lock must be before a process that cannot check its owner takes it. */
export const LOCK_REFRESH_MS = 5_000;
export const LOCK_STALE_MS = 30_000;

/** Data directories this process holds: a second open of one is refused whatever the lock file says. */
const heldHere = new Set<string>();

/**
 * The embedded database is one process's files: a second process (a `report` or `migrate` while the service runs, or a
 * second container on the same volume) opening them too would corrupt them. The lock file names its owner by pid, start
 * time and pid namespace, and the owner refreshes it every few seconds:
 * - in our own pid namespace the owner is checked exactly: its pid must be alive and have started when the lock says
 *   (a container restarted after kill -9 gets the same pid again; a reboot hands old pids to other programs);
 * - from another namespace (another container) or without /proc, a pid says nothing, so a lock is live while it is
 *   refreshed and taken over once it is LOCK_STALE_MS old;
 * - a lock of the earlier format (a pid only) is live while that pid is alive and is not ours.
 * The lock is created whole (written aside, then linked into place), so no one ever reads a half-written one.
 */
export async function lockDataDir(dir: string, options: { waitForUncheckable?: boolean; onWait?: (message: string) => void } = {}): Promise<() => Promise<void>> {
  const lockPath = path.join(path.dirname(dir), 'pglite.lock');
  if (heldHere.has(lockPath)) throw inUse(dir, `this process (${process.pid})`);
  const mine = `${process.pid} ${processStartTime(process.pid) ?? '-'} ${pidNamespace() ?? '-'}`;
  const waitUntil = Date.now() + (options.waitForUncheckable ? LOCK_STALE_MS + LOCK_REFRESH_MS : 0);
  let waited = false;
  for (let attempt = 0; attempt < 2; ) {
    if (await createWhole(lockPath, mine)) {
      heldHere.add(lockPath);
      const refresh = setInterval(() => {
        const now = new Date();
        fs.utimes(lockPath, now, now).catch(() => {});
      }, LOCK_REFRESH_MS);
      refresh.unref();
      return async () => {
        clearInterval(refresh);
        heldHere.delete(lockPath);
        await fs.rm(lockPath, { force: true });
      };
    }
    const holder = await readLock(lockPath);
    if (holder && stillHeld(holder)) {
      // A lock that can only be judged by its age: wait while it may yet go stale (its owner refreshes it if alive).
      if (holder.foreign && Date.now() < waitUntil) {
        if (!waited) options.onWait?.(`the embedded database in ${dir} is locked by process ${holder.pid}, whose pid cannot be checked from here (another container?); waiting for its lock to go stale (${LOCK_STALE_MS / 1000} s without a refresh)`);
        waited = true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(50, LOCK_STALE_MS - holder.ageMs))));
        continue;
      }
      const where = holder.foreign
        ? ` (its pid cannot be checked from here; its lock was refreshed ${Math.round(holder.ageMs / 1000)} s ago and is taken over once it is ${LOCK_STALE_MS / 1000} s old)`
        : '';
      throw inUse(dir, `process ${holder.pid}${where}`);
    }
    await fs.rm(lockPath, { force: true });
    attempt++;
  }
  throw new Error(`could not lock the embedded database in ${dir}`);
}

const inUse = (dir: string, who: string) => new Error(`the embedded database in ${dir} is in use by ${who}; stop it first, or use a PostgreSQL server (DATABASE_URL)`);

/** Creates `file` with `text` in one step; false when it exists. */
async function createWhole(file: string, text: string): Promise<boolean> {
  const aside = `${file}.${process.pid}.${Date.now()}`;
  await fs.writeFile(aside, text);
  try {
    await fs.link(aside, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    // A file system without hard links: create it in place (a reader may then, rarely, see it before it is written).
    try {
      await fs.writeFile(file, text, { flag: 'wx' });
      return true;
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fallback;
    }
  } finally {
    await fs.rm(aside, { force: true });
  }
}

interface Holder {
  pid: number;
  started: string | null;
  legacy: boolean;
  ageMs: number;
  /** Its pid means nothing here (another pid namespace, or no /proc to tell). */
  foreign: boolean;
}

async function readLock(lockPath: string): Promise<Holder | null> {
  const [text, stat] = await Promise.all([fs.readFile(lockPath, 'utf8').catch(() => null), fs.stat(lockPath).catch(() => null)]);
  if (text === null || !stat) return null;
  const [pid, started, namespace] = text.trim().split(/\s+/);
  const legacy = started === undefined;
  const ns = namespace && namespace !== '-' ? namespace : null;
  return {
    pid: Number(pid),
    started: started && started !== '-' ? started : null,
    legacy,
    ageMs: Date.now() - stat.mtimeMs,
    foreign: !legacy && (ns === null || ns !== pidNamespace()),
  };
}

function stillHeld(holder: Holder): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.legacy) return holder.pid !== process.pid && isAlive(holder.pid);
  if (holder.foreign) return holder.ageMs < LOCK_STALE_MS;
  return isAlive(holder.pid) && processStartTime(holder.pid) === holder.started;
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

/** This process's pid namespace (`pid:[4026531836]`), or null where there is no /proc. */
function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
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
