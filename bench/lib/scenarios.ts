import { sql } from 'kysely';
import { createBenchDatabase, migrate, withDb, type BenchDatabase, type DbKind } from './database.js';
import { MON_IDS, PAGE_MON_ID } from './fixtures.js';
import { closedLoop, openLoop, type LoadResult, type RequestSpec } from './load.js';
import { alertmanagerSingle, alertmanagerStorm, amApiBatch, amApiSingle, amApiStorm, grafanaBatch, STORM_FINGERPRINT } from './payloads.js';
import { startAlertmanager, startPlainHttp } from './peers.js';
import { cpuSecondsOf, memoryOf, postgresCpuSeconds, startService, watchMemory, type Child } from './proc.js';
import type { Sink } from './sink.js';

export type Target = 'postgres' | 'embedded' | 'alertmanager' | 'node:http';
export type LoadScenario = 'ingest' | 'ingest-50' | 'ingest-open' | 'ingest-open-light' | 'storm' | 'batch';
export type ScenarioName = LoadScenario | 'page' | 'page-open' | 'timers';

export interface TimerResult {
  incidents: number;
  /** From the common due time until the sink had every notification, s. */
  drainS: number;
  /** Escalations claimed per second while the batch drained. */
  escalatedPerS: number;
  /** Claim lag (escalation event time − due time) of the big batch, ms. */
  bigLagP50: number;
  bigLagP99: number;
  /** The normal case: a few incidents due at staggered times; claim lag and due → notification received, ms. */
  fewCount: number;
  fewLagP50: number;
  fewLagP99: number;
  fewDeliveredP99: number;
}

export interface Measurement {
  scenario: ScenarioName;
  target: Target;
  /** The load, in words, for the table. */
  load: string;
  alertsPerRequest: number;
  result?: LoadResult;
  timers?: TimerResult;
  /** The storm on PostgreSQL: due → level-two notification received, ms, each time the stormed incident's escalation was made due. */
  escalationsDuringLoad?: number[];
  peakRssMb: number | null;
  /** CPU of the process under test per alert (or page, or notification), µs, over the measured phase. */
  cpuUsPerAlert: number | null;
  /** CPU of all PostgreSQL server processes per alert, µs (real PostgreSQL only). */
  pgCpuUsPerAlert: number | null;
  /** CPU of the load generator (this process) per request, µs: it shares the two cores with what it measures. */
  genCpuUsPerRequest?: number | null;
  /** Failed self-checks: non-empty means the bench, or the service, is broken. */
  problems: string[];
  note?: string;
}

export interface BenchOptions {
  quick: boolean;
  adminUrl: string | null;
  sink: Sink;
  runbooksDir: string;
  log: (line: string) => void;
  /** Directory for the service's `--cpu-prof` output, when profiling. */
  profileDir: string | null;
  /** Extra environment for the service (e.g. BATCH_MAX_WAIT, to compare settings). */
  serviceEnv: Record<string, string>;
  openRate: Record<DbKind, number>;
  /** The lighter open loop's rate: half the target, to show where latency stands below saturation. */
  lightRate: Record<DbKind, number>;
  timerIncidents: number;
}

export function durations(o: Pick<BenchOptions, 'quick'>) {
  return o.quick ? { warmS: 0.4, runS: 1 } : { warmS: 2, runS: 10 };
}

export function pct(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** A load with the CPU of the process under test (and PostgreSQL's) measured over it. */
async function measured<T>(pid: number, withPg: boolean, load: () => Promise<T>) {
  const cpu0 = cpuSecondsOf(pid);
  const pg0 = withPg ? postgresCpuSeconds() : 0;
  const gen0 = process.cpuUsage();
  const result = await load();
  const gen = process.cpuUsage(gen0);
  return { result, cpuS: cpuSecondsOf(pid) - cpu0, pgCpuS: withPg ? postgresCpuSeconds() - pg0 : 0, genCpuS: (gen.user + gen.system) / 1e6 };
}

function genUs(seconds: number, result: LoadResult): number | null {
  return result.ok ? (seconds * 1e6) / result.ok : null;
}

function perAlertUs(seconds: number, result: LoadResult, alertsPerRequest: number): number | null {
  const alerts = result.ok * alertsPerRequest;
  return alerts ? (seconds * 1e6) / alerts : null;
}

function loadProblems(r: LoadResult, what: string): string[] {
  const problems: string[] = [];
  if (r.errors) problems.push(`${what}: ${r.errors} errors (${JSON.stringify(r.statuses)})`);
  if (!r.ok) problems.push(`${what}: no successful answer`);
  return problems;
}

// ---------------------------------------------------------------- the loads, shared by the service and its peers

interface Plan {
  spec: RequestSpec;
  alertsPerRequest: number;
  connections: number;
  open?: number;
  describe: string;
  expect: number;
  /** A cheap GET that opens the open loop's connections before its clock starts. */
  warmPath: string;
}

function servicePlan(o: BenchOptions, kind: DbKind, name: LoadScenario): Plan {
  const post = (body: (n: number) => string, path = '/webhooks/alertmanager'): RequestSpec => ({ method: 'POST', path, body });
  const rate = o.openRate[kind];
  // The embedded database answers far fewer per second: in the short quick runs, fewer connections keep answers inside the run.
  const c = (n: number) => (o.quick && kind === 'embedded' ? Math.min(n, 10) : n);
  const plan = (p: Omit<Plan, 'warmPath' | 'expect'>): Plan => ({ ...p, expect: 202, warmPath: '/healthz' });
  switch (name) {
    case 'ingest':
      return plan({ spec: post(alertmanagerSingle), alertsPerRequest: 1, connections: c(200), describe: `1 alert/POST, ${c(200)} conn.` });
    case 'ingest-50':
      return plan({ spec: post(alertmanagerSingle), alertsPerRequest: 1, connections: c(50), describe: `1 alert/POST, ${c(50)} conn.` });
    case 'ingest-open':
      return plan({ spec: post(alertmanagerSingle), alertsPerRequest: 1, connections: 0, open: rate, describe: `1 alert/POST, open loop ${rate}/s` });
    case 'ingest-open-light':
      return plan({ spec: post(alertmanagerSingle), alertsPerRequest: 1, connections: 0, open: o.lightRate[kind], describe: `1 alert/POST, open loop ${o.lightRate[kind]}/s` });
    case 'storm':
      return plan({ spec: post(alertmanagerStorm), alertsPerRequest: 1, connections: c(50), describe: `same alert repeated, ${c(50)} conn.` });
    case 'batch':
      return plan({ spec: post(grafanaBatch, '/webhooks/grafana'), alertsPerRequest: 100, connections: c(20), describe: `Grafana, 100 alerts/POST, ${c(20)} conn.` });
  }
}

function peerPlan(peer: 'alertmanager' | 'node:http', o: BenchOptions, name: LoadScenario): Plan {
  const base = servicePlan(o, 'postgres', name);
  // node:http gets the very bodies the service gets: the floor of receiving and parsing them over HTTP.
  if (peer === 'node:http') return { ...base, spec: { ...base.spec, path: '/' }, warmPath: '/' };
  const body = name === 'storm' ? amApiStorm : name === 'batch' ? amApiBatch : amApiSingle;
  return { ...base, spec: { method: 'POST', path: '/api/v2/alerts', body }, expect: 200, warmPath: '/-/healthy' };
}

function runPlan(url: string, plan: Plan, offset: number, durationS: number, rampS: number): Promise<LoadResult> {
  return plan.open
    ? openLoop(url, plan.spec, { rate: plan.open, durationS, expect: plan.expect, offset, warmPath: plan.warmPath, rampS })
    : closedLoop(url, plan.spec, { connections: plan.connections, durationS, expect: plan.expect, offset });
}

// ---------------------------------------------------------------- sessions: one service process, one database

/** What the phases of a session expect to find in the database once the service has stopped. */
interface Expectation {
  /** Deliveries answered 202 (each a distinct body, so each an inbox row). */
  delivered: number;
  /** Alert instances those deliveries created, besides the storm's one. */
  instances: number;
  monIds: Set<string>;
  storm: boolean;
  seededIncidents: number;
}

interface Phase {
  name: ScenarioName;
  run(svc: Child, db: BenchDatabase, base: number, expect: Expectation): Promise<Omit<Measurement, 'peakRssMb'> & { afterStop?: (db: BenchDatabase) => Promise<void> }>;
}

function loadPhase(o: BenchOptions, kind: DbKind, name: LoadScenario): Phase {
  const plan = servicePlan(o, kind, name);
  const { warmS, runS } = durations(o);
  return {
    name,
    async run(svc, db, base, expect) {
      // Warm-up (JIT, pool, the first incidents), then the measured run; both are counted in the database checks.
      const warm = await closedLoop(svc.url, plan.spec, { connections: Math.min(plan.connections || 50, 50), durationS: warmS, expect: 202, offset: base });
      const during = name === 'storm' && kind === 'postgres' ? escalationsDuringStorm(db, o.sink, Date.now() + runS * 1000) : null;
      const m = await measured(svc.pid, kind === 'postgres', () => runPlan(svc.url, plan, base + 50_000_000, runS, warmS));
      const lags = await during;
      const answered = warm.ok + m.result.ok;
      expect.delivered += answered;
      if (name === 'storm') {
        expect.storm = true;
        expect.monIds.add(MON_IDS[0]!);
      } else {
        expect.instances += answered * plan.alertsPerRequest;
        for (const mon of MON_IDS) expect.monIds.add(mon);
      }
      return {
        scenario: name,
        target: kind,
        load: plan.describe,
        alertsPerRequest: plan.alertsPerRequest,
        result: m.result,
        cpuUsPerAlert: perAlertUs(m.cpuS, m.result, plan.alertsPerRequest),
        pgCpuUsPerAlert: kind === 'postgres' ? perAlertUs(m.pgCpuS, m.result, plan.alertsPerRequest) : null,
        genCpuUsPerRequest: genUs(m.genCpuS, m.result),
        problems: [
          ...loadProblems(warm, `${name} warm-up`),
          ...loadProblems(m.result, name),
          ...(lags?.some((l) => !Number.isFinite(l)) ? [`storm: the stormed incident's escalation was not notified within 10 s of falling due`] : []),
        ],
        ...(lags?.length ? { escalationsDuringLoad: lags } : {}),
      };
    },
  };
}

/**
 * While the storm runs, makes the stormed incident's escalation due (from another connection, as time would), waits
 * for the sink to get its level-two page, and again, until the run ends: the incident whose row lock receive batches
 * hold back to back. Returns due → notification received, ms (Infinity when none came within 10 s).
 */
async function escalationsDuringStorm(db: BenchDatabase, sink: Sink, endAt: number): Promise<number[]> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return withDb(db, async (h) => {
    const lags: number[] = [];
    await sleep(1000);
    while (Date.now() < endAt - 1500) {
      const { rows } = await sql<{ id: number | string; due: Date }>`
        update incidents set next_escalation_at = clock_timestamp() where mon_id = ${MON_IDS[0]!} and status = 'triggered'
        returning id, next_escalation_at as due`.execute(h.db);
      const row = rows[0];
      if (!row) break;
      const id = Number(row.id);
      const due = row.due.getTime();
      let notified = Infinity;
      for (const giveUp = Date.now() + 10_000; Date.now() < giveUp; await sleep(10)) {
        const page = sink.received().find((r) => r.path === '/level-two' && r.incidentId === id && r.at >= due);
        if (page) {
          notified = page.at - due;
          break;
        }
      }
      lags.push(notified);
      if (!Number.isFinite(notified)) break;
      // A random pause, so the due times fall anywhere in the escalation tick's period.
      await sleep(50 + Math.random() * 1000);
    }
    return lags;
  });
}

/** The incident page's target rate: the open loop `page-open` offers it, as responders' browsers would, whatever the answers. */
export const PAGE_RATE = 500;

/**
 * GET the incident page of an incident whose runbook has 20 steps (the JSON API while the HTML page does not exist):
 * `page` as fast as 50 connections go (closed loop), `page-open` at PAGE_RATE pages/s on a schedule (open loop). A closed
 * loop of 50 connections can only show p99 ≤ 50 ms above ~1,000 pages/s (each waits for the 49 ahead of it), so the
 * latency target is read from the open loop.
 */
function pagePhase(o: BenchOptions, kind: DbKind, name: 'page' | 'page-open'): Phase {
  const { warmS, runS } = durations(o);
  const connections = o.quick && kind === 'embedded' ? 10 : 50;
  const open = name === 'page-open';
  const rate = o.quick && kind === 'embedded' ? PAGE_RATE / 5 : PAGE_RATE;
  return {
    name,
    async run(svc, _db, base, expect) {
      // An incident on the 20-step runbook, with a few alert instances and a timeline.
      let id = 0;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${svc.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerSingle(base + i * 50, PAGE_MON_ID) });
        if (res.status !== 202) throw new Error(`seeding the page incident: HTTP ${res.status} ${await res.text()}`);
        id = ((await res.json()) as { incidents: number[] }).incidents[0]!;
      }
      expect.delivered += 5;
      expect.instances += 5;
      expect.monIds.add(PAGE_MON_ID);
      const html = await fetch(`${svc.url}/incidents/${id}`, { headers: { accept: 'text/html' } });
      const body = await html.text();
      const isPage = html.status === 200 && (html.headers.get('content-type') ?? '').includes('text/html');
      const problems: string[] = [];
      if (isPage && !body.includes('Step 20')) problems.push(`page: the incident page of #${id} does not show step 20 of its runbook`);
      const spec: RequestSpec = { method: 'GET', path: isPage ? `/incidents/${id}` : `/api/incidents/${id}`, headers: { accept: isPage ? 'text/html' : 'application/json' } };
      const warm = await closedLoop(svc.url, spec, { connections, durationS: warmS, expect: 200 });
      const m = await measured(svc.pid, kind === 'postgres', () =>
        open ? openLoop(svc.url, spec, { rate, durationS: runS, expect: 200, warmPath: '/healthz', rampS: warmS }) : closedLoop(svc.url, spec, { connections, durationS: runS, expect: 200 }),
      );
      return {
        scenario: name,
        target: kind,
        load: `GET ${isPage ? '/incidents/:id (HTML)' : '/api/incidents/:id (JSON)'}, ${open ? `open loop ${rate}/s` : `${connections} conn.`}`,
        alertsPerRequest: 1,
        result: m.result,
        cpuUsPerAlert: perAlertUs(m.cpuS, m.result, 1),
        pgCpuUsPerAlert: kind === 'postgres' ? perAlertUs(m.pgCpuS, m.result, 1) : null,
        genCpuUsPerRequest: genUs(m.genCpuS, m.result),
        problems: [...problems, ...loadProblems(warm, 'page warm-up'), ...loadProblems(m.result, 'page')],
        note: isPage ? `the HTML incident page (${Math.round(Buffer.byteLength(body) / 1024)} KB)` : 'the HTML incident page does not exist yet: the JSON API is measured instead',
      };
    },
  };
}

const FEW = 20;

/** Seeds `n` incidents at escalation level 1 whose level-2 deadline is `bigDue`, and FEW due `spacingMs` apart from `fewFrom`. */
async function seedTimers(db: BenchDatabase, n: number, fewFrom: number, spacingMs: number, bigDue: number): Promise<void> {
  await withDb(db, async (h) => {
    const now = new Date();
    const insert = (count: number, firstDue: number, stepMs: number, prefix: string) =>
      sql`insert into incidents (group_key, mon_id, runbook_id, title, severity, status, source, escalation_chain, escalation_level, escalation_seq,
                                 next_escalation_at, opened_at, last_alert_at, updated_at)
          select ${prefix} || g, 'MON-' || (101 + g % 50), 'RUN-001', 'Timer bench incident ' || g, 'critical', 'triggered', 'alertmanager',
                 '["level-one","level-two"]'::jsonb, 1, 1, ${new Date(firstDue)}::timestamptz + g * ${`${stepMs} milliseconds`}::interval, ${now}, ${now}, ${now}
          from generate_series(0, ${count - 1}::int) g`.execute(h.db);
    await insert(FEW, fewFrom, spacingMs, 'bench:few:');
    await insert(n, bigDue, 0, 'bench:big:');
  });
}

/**
 * `n` open incidents whose escalation falls due at the same moment, seeded straight into the database, after a few due at
 * staggered times (the normal case). Measures until the sink has every notification. On the embedded database (one
 * process only) the rows are seeded before the service starts, with deadlines past its start-up.
 */
function timersPhase(o: BenchOptions, kind: DbKind): Phase & { beforeStart?: (db: BenchDatabase) => Promise<void> } {
  const n = o.timerIncidents;
  const spacingMs = o.quick ? 50 : 150;
  let fewFrom = 0;
  let bigDue = 0;
  const plan = (startAt: number) => {
    fewFrom = startAt;
    bigDue = startAt + FEW * spacingMs + (o.quick ? 300 : 1000);
  };
  return {
    name: 'timers',
    beforeStart:
      kind === 'embedded'
        ? async (db) => {
            plan(Date.now() + 15_000);
            await seedTimers(db, n, fewFrom, spacingMs, bigDue);
          }
        : undefined,
    async run(svc, db, _base, expect) {
      if (kind === 'postgres') {
        plan(Date.now() + (o.quick ? 500 : 1000));
        await seedTimers(db, n, fewFrom, spacingMs, bigDue);
      } else if (Date.now() > fewFrom) {
        throw new Error('the embedded service started after the seeded deadlines: raise the allowance');
      }
      expect.seededIncidents += n + FEW;
      o.sink.reset();
      const m = await measured(svc.pid, kind === 'postgres', async () => {
        const deadline = bigDue + (o.quick ? 20_000 : 60_000);
        // The seeded incidents escalate to level two; incidents opened by earlier phases page level one.
        const levelTwo = () => o.sink.received().filter((r) => r.path === '/level-two');
        while (levelTwo().length < n + FEW && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        return levelTwo();
      });
      const received = m.result;
      const measurement: Omit<Measurement, 'peakRssMb'> & { afterStop?: (db: BenchDatabase) => Promise<void> } = {
        scenario: 'timers',
        target: kind,
        load: `${n.toLocaleString('en-US')} escalations due at once (+${FEW} staggered)`,
        note: `the few due: ${FEW} incidents ${spacingMs} ms apart before the big batch`,
        alertsPerRequest: 1,
        cpuUsPerAlert: received.length ? (m.cpuS * 1e6) / received.length : null,
        pgCpuUsPerAlert: kind === 'postgres' && received.length ? (m.pgCpuS * 1e6) / received.length : null,
        problems: [],
      };
      // The escalation times are in the timeline; read them once the service has stopped (the embedded database is single-process).
      measurement.afterStop = async (stopped) => {
        const rows = await withDb(stopped, (h) =>
          h.db
            .selectFrom('incident_events as e')
            .innerJoin('incidents as i', 'i.id', 'e.incident_id')
            .select(['i.id', 'i.group_key', 'e.at'])
            .where('e.kind', '=', 'escalated')
            .where('i.group_key', 'like', 'bench:%')
            .execute(),
        );
        const dueOf = new Map<number, number>();
        const bigAt: number[] = [];
        const bigLags: number[] = [];
        const fewLags: number[] = [];
        for (const r of rows) {
          const few = r.group_key.startsWith('bench:few:');
          const due = few ? fewFrom + Number(r.group_key.slice('bench:few:'.length)) * spacingMs : bigDue;
          dueOf.set(r.id, due);
          const at = r.at.getTime();
          if (few) fewLags.push(at - due);
          else {
            bigAt.push(at);
            bigLags.push(at - due);
          }
        }
        const fewDelivered: number[] = [];
        let lastBig = bigDue;
        for (const r of received) {
          const due = r.incidentId === null ? undefined : dueOf.get(r.incidentId);
          if (due === undefined) continue;
          if (due === bigDue) lastBig = Math.max(lastBig, r.at);
          else fewDelivered.push(r.at - due);
        }
        if (bigLags.length !== n) measurement.problems.push(`timers: ${bigLags.length} of ${n} due incidents escalated`);
        if (fewLags.length !== FEW) measurement.problems.push(`timers: ${fewLags.length} of ${FEW} staggered incidents escalated`);
        if (received.length < n + FEW) measurement.problems.push(`timers: the sink got ${received.length} of ${n + FEW} notifications`);
        const escalatingS = bigAt.length ? (Math.max(...bigAt) - bigDue) / 1000 : 0;
        measurement.timers = {
          incidents: n,
          drainS: (lastBig - bigDue) / 1000,
          escalatedPerS: escalatingS > 0 ? bigAt.length / escalatingS : 0,
          bigLagP50: pct(bigLags, 50),
          bigLagP99: pct(bigLags, 99),
          fewCount: fewLags.length,
          fewLagP50: pct(fewLags, 50),
          fewLagP99: pct(fewLags, 99),
          fewDeliveredP99: pct(fewDelivered, 99),
        };
      };
      return measurement;
    },
  };
}

function phaseOf(o: BenchOptions, kind: DbKind, name: ScenarioName) {
  return name === 'page' || name === 'page-open' ? pagePhase(o, kind, name) : name === 'timers' ? timersPhase(o, kind) : loadPhase(o, kind, name);
}

/**
 * One database and one service process for the given phases, in order (the full run gives every scenario its own
 * session; --quick runs them all in one). Once the service has stopped — everything it answered is committed — the
 * database is checked against what the phases were answered, then dropped.
 */
export async function serviceSession(o: BenchOptions, kind: DbKind, names: ScenarioName[]): Promise<Measurement[]> {
  const phases = names.map((name) => phaseOf(o, kind, name));
  const db = await createBenchDatabase(kind, o.adminUrl);
  const out: (Omit<Measurement, 'peakRssMb'> & { peakRssMb: number | null; afterStop?: (db: BenchDatabase) => Promise<void> })[] = [];
  const expect: Expectation = { delivered: 0, instances: 0, monIds: new Set(), storm: false, seededIncidents: 0 };
  const label = names.length === 1 ? names[0]! : 'session';
  try {
    await migrate(db);
    for (const p of phases) {
      const before = (p as { beforeStart?: (db: BenchDatabase) => Promise<void> }).beforeStart;
      if (before) await before(db);
    }
    const nodeArgs = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${label}-${kind}.cpuprofile`] : [];
    const svc = await startService({ RUNBOOKS_DIR: o.runbooksDir, ...db.env, ...o.serviceEnv }, nodeArgs);
    const mem = watchMemory(svc.pid);
    try {
      for (const [i, p] of phases.entries()) {
        if (names.length > 1) o.log(`  · ${p.name}`);
        const m = await p.run(svc, db, (i + 1) * 100_000_000, expect);
        out.push(Object.assign(m, { peakRssMb: memoryOf(svc.pid)?.hwmMb ?? null }));
      }
    } catch (error) {
      throw new Error(`${label} on ${kind}: ${(error as Error).message}\n--- service output ---\n${svc.output().slice(-3000)}`);
    } finally {
      const { peakRssMb } = mem.stop();
      if (out.length === 1) out[0]!.peakRssMb = peakRssMb;
      const code = await svc.stop();
      if (code !== 0) o.log(`  ! the service exited with ${code}: ${svc.output().slice(-2000)}`);
    }
    for (const m of out) await m.afterStop?.(db);
    const problems = await checkDatabase(db, expect);
    // Database problems belong to the session; report them on its first measurement.
    if (problems.length && out.length) out[0]!.problems.push(...problems);
  } finally {
    await db.drop();
  }
  return out.map(({ afterStop: _, ...m }) => m as Measurement);
}

/** Every 202 is a committed inbox row; one incident per MON- id; the storm is one alert instance. */
async function checkDatabase(db: BenchDatabase, e: Expectation): Promise<string[]> {
  return withDb(db, async (h) => {
    const count = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n);
    const events = await count(h.db.selectFrom('alert_events').select((eb) => eb.fn.countAll<number>().as('n')));
    const incidents = await count(h.db.selectFrom('incidents').select((eb) => eb.fn.countAll<number>().as('n')));
    const stormInstances = await count(h.db.selectFrom('alert_instances').where('fingerprint', '=', STORM_FINGERPRINT).select((eb) => eb.fn.countAll<number>().as('n')));
    const instances = await count(h.db.selectFrom('alert_instances').where('fingerprint', '<>', STORM_FINGERPRINT).select((eb) => eb.fn.countAll<number>().as('n')));
    const problems: string[] = [];
    if (events < e.delivered) problems.push(`${e.delivered} deliveries were answered 202 but only ${events} are in alert_events`);
    if (instances < e.instances) problems.push(`${e.instances} alerts were answered 202 but only ${instances} alert instances are stored`);
    if (e.storm && stormInstances !== 1) problems.push(`the storm left ${stormInstances} alert instances instead of 1`);
    const wanted = e.monIds.size + e.seededIncidents;
    if (incidents !== wanted) problems.push(`expected ${wanted} incidents (one per MON- id${e.seededIncidents ? ' plus the seeded ones' : ''}), found ${incidents}`);
    return problems;
  });
}

/** The same loads against a peer, in its own process. */
export async function peerLoad(o: BenchOptions, peer: 'alertmanager' | 'node:http', name: LoadScenario): Promise<Measurement> {
  const plan = peerPlan(peer, o, name);
  const { warmS, runS } = durations(o);
  const proc = peer === 'alertmanager' ? await startAlertmanager() : await startPlainHttp();
  const mem = watchMemory(proc.pid);
  try {
    const warm = await closedLoop(proc.url, plan.spec, { connections: Math.min(plan.connections || 50, 50), durationS: warmS, expect: plan.expect, offset: 0 });
    const m = await measured(proc.pid, false, () => runPlan(proc.url, plan, 50_000_000, runS, warmS));
    return {
      scenario: name,
      target: peer,
      load: plan.describe,
      alertsPerRequest: plan.alertsPerRequest,
      result: m.result,
      peakRssMb: mem.stop().peakRssMb,
      cpuUsPerAlert: perAlertUs(m.cpuS, m.result, plan.alertsPerRequest),
      pgCpuUsPerAlert: null,
      genCpuUsPerRequest: genUs(m.genCpuS, m.result),
      problems: [...loadProblems(warm, `${peer} ${name} warm-up`), ...loadProblems(m.result, `${peer} ${name}`)],
    };
  } finally {
    mem.stop();
    await proc.stop();
    if ('cleanup' in proc) await (proc as { cleanup(): Promise<void> }).cleanup();
  }
}
