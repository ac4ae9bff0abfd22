// DATABASE_URL=postgres://… npm run bench:stages [-- --batches=400 --size=25 --runs=3]
// Where PostgreSQL's CPU goes for the receive path's common batch (every alert fires for an open incident): the service's
// own receiveFiring() sends real Alertmanager deliveries, as the ingest scenario does, to receive_firing (migrations/0002)
// and to copies of it with its writes taken away one by one; the backend's CPU (/proc), not wall time, is counted.
// See BENCHMARKS.md, "Where PostgreSQL's time goes".
import fs from 'node:fs';
import { sql } from 'kysely';
import { adapters } from '../src/alerts/adapters.js';
import { deliveryKey } from '../src/alerts/delivery-key.js';
import { createDb, type Db } from '../src/db/create-db.js';
import { receiveFiring } from '../src/incidents/receive-firing.js';
import type { Delivery } from '../src/incidents/receive.js';
import { createBenchDatabase, migrate } from './lib/database.js';
import { MON_IDS } from './lib/fixtures.js';
import { alertmanagerSingle } from './lib/payloads.js';

/** Each stage is receive_firing with the statements of the stages after it removed, so each row adds one write. */
const STAGES = [
  { name: 'inbox look-up, incident locks, answer', remove: ['update', 'upsert', 'timeline', 'inbox'] },
  { name: '+ incidents stamped (update)', remove: ['upsert', 'timeline', 'inbox'] },
  { name: '+ alert instances upserted', remove: ['timeline', 'inbox'] },
  { name: '+ timeline entries appended', remove: ['inbox'] },
  { name: '+ inbox rows with raw bodies (= receive_firing)', remove: [] },
] as const;
type Piece = (typeof STAGES)[number]['remove'][number];

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive whole number, got "${arg}"`);
  return n;
}

/** Cuts `from` up to (not including) `to` out of the function's text; fails loudly if a later migration reshaped it. */
function cut(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  const j = text.indexOf(to, i + from.length);
  if (i < 0 || j < 0) throw new Error(`receive_firing no longer has "${from.trim()}" … "${to.trim()}": update bench/postgres-stages.ts`);
  return text.slice(0, i) + text.slice(j);
}

function stageFunction(definition: string, remove: readonly Piece[]): string {
  let text = definition;
  if (remove.includes('inbox')) text = cut(text, ',\n      inbox as (', '\n      select json_agg(d.incident_ids');
  if (remove.includes('timeline')) text = cut(text, '      timeline as (', '      d as (');
  if (remove.includes('upsert')) text = cut(text, '      upsert as (', remove.includes('timeline') ? '      d as (' : '      timeline as (');
  if (remove.includes('update')) text = cut(text, 'update incidents set last_alert_at', '\n\n');
  return text;
}

/** user + system CPU of one process, in µs (clock ticks are 10 ms on Linux: runs are long enough for that). */
function processCpuUs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function deliveriesOf(first: number, size: number, receivedAt: Date): Delivery[] {
  return Array.from({ length: size }, (_, i) => {
    const n = first + i;
    const text = alertmanagerSingle(n);
    const raw = Buffer.from(text);
    return {
      source: 'alertmanager' as const,
      deliveryKey: deliveryKey('alertmanager', {}, raw),
      rawBody: text,
      headers: { 'content-type': 'application/json' },
      receivedAt,
      alerts: adapters.alertmanager(JSON.parse(text), receivedAt),
    };
  });
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is needed: the stages run on the local PostgreSQL');
  const batches = option('batches', 400);
  const size = option('size', 25);
  const runs = option('runs', 3);
  const bench = await createBenchDatabase('postgres', adminUrl);
  try {
    await migrate(bench);
    // One connection, so every call runs in the backend whose CPU is read.
    const handle = await createDb({ databaseUrl: bench.url, dataDir: bench.dataDir, poolSize: 1 });
    const db: Db = handle.db;
    try {
      const now = new Date();
      await sql`insert into incidents (group_key, mon_id, title, severity, status, source, opened_at, last_alert_at, updated_at)
                select 'mon:' || m, m, m, 'critical', 'triggered', 'alertmanager', ${now}, ${now}, ${now} from unnest(${MON_IDS}::text[]) m`.execute(db);
      const { rows } = await sql<{ def: string; pid: number }>`select pg_get_functiondef('receive_firing'::regproc) as def, pg_backend_pid() as pid`.execute(db);
      const { def: definition, pid } = rows[0]!;
      const functions = STAGES.map((s) => stageFunction(definition, s.remove));

      // Warm-up: the inbox and instance tables a few batches big, every plan cached.
      let n = 0;
      for (let b = 0; b < 20; b++, n += size) await receiveFiring(db, deliveriesOf(n, size, now), now);

      const cpu: number[][] = STAGES.map(() => []);
      const wal: number[][] = STAGES.map(() => []);
      for (let run = 0; run < runs; run++) {
        for (const [i, fn] of functions.entries()) {
          await sql.raw(fn).execute(db);
          const prepared = Array.from({ length: batches }, (_, b) => deliveriesOf(n + b * size, size, now));
          n += batches * size;
          const lsn0 = (await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(db)).rows[0]!.lsn;
          const cpu0 = processCpuUs(pid);
          for (const deliveries of prepared) {
            if (!(await receiveFiring(db, deliveries, now))) throw new Error(`stage "${STAGES[i]!.name}" fell back to the transactional path`);
          }
          const used = processCpuUs(pid) - cpu0;
          const bytes = (await sql<{ b: number }>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn0}::pg_lsn)::int8 as b`.execute(db)).rows[0]!.b;
          cpu[i]!.push(used / (batches * size));
          wal[i]!.push(Number(bytes) / (batches * size));
        }
      }
      await sql.raw(definition).execute(db);

      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      console.log(`receive_firing, batches of ${size} single-alert Alertmanager deliveries over ${MON_IDS.length} open incidents; ${batches} batches a stage, median of ${runs} runs`);
      console.log('');
      console.log('| stage | PostgreSQL CPU µs/alert | added by the stage | WAL bytes/alert |');
      console.log('|---|--:|--:|--:|');
      let previous = 0;
      for (const [i, s] of STAGES.entries()) {
        const us = median(cpu[i]!);
        console.log(`| ${s.name} | ${us.toFixed(0)} | ${i === 0 ? '–' : `${(us - previous).toFixed(0)}`} | ${median(wal[i]!).toFixed(0)} |`);
        previous = us;
      }
    } finally {
      await handle.close();
    }
  } finally {
    await bench.drop();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
