// npm run bench [-- --quick] [--no-write] [--only=ingest,storm] [--db=postgres,embedded] [--no-peers] [--profile] [--open-rate=N] [--timers=N] [--env=KEY=VALUE]
// Load benchmarks of the service against Prometheus Alertmanager and a plain node:http server, all on 127.0.0.1.
// Every run is bounded in time; the full run takes a few minutes, --quick under a minute. See BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dropLeftovers, embeddedTemplateDir, removeEmbeddedTemplate, type DbKind } from './lib/database.js';
import { benchRunbooksDir, ROOT } from './lib/fixtures.js';
import { alertmanagerVersion } from './lib/peers.js';
import { summarizeProfiles } from './lib/profile.js';
import { generatedSection, resultsTable, ratioTable, spliceBenchmarks, targetChecks, targetTable, type RunInfo } from './lib/report.js';
import { peerLoad, serviceSession, type BenchOptions, type LoadScenario, type Measurement, type ScenarioName } from './lib/scenarios.js';
import { startSink } from './lib/sink.js';

const ALL: ScenarioName[] = ['ingest', 'ingest-50', 'ingest-open', 'ingest-open-light', 'storm', 'batch', 'page', 'page-open', 'timers'];
const QUICK: ScenarioName[] = ['ingest', 'ingest-open', 'storm', 'batch', 'page', 'page-open', 'timers'];
const PEER_SCENARIOS: LoadScenario[] = ['ingest', 'ingest-50', 'ingest-open', 'ingest-open-light', 'storm', 'batch'];

interface Args {
  quick: boolean;
  write: boolean;
  only: ScenarioName[] | null;
  dbs: DbKind[] | null;
  peers: boolean;
  profile: boolean;
  openRate: number | null;
  timers: number | null;
  env: Record<string, string>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, write: true, only: null, dbs: null, peers: true, profile: false, openRate: null, timers: null, env: {} };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, ''];
    switch (flag) {
      case '--quick':
        a.quick = true;
        break;
      case '--no-write':
        a.write = false;
        break;
      case '--no-peers':
        a.peers = false;
        break;
      case '--profile':
        a.profile = true;
        break;
      case '--only':
        a.only = value.split(',').map((s) => {
          if (!ALL.includes(s as ScenarioName)) throw new Error(`--only: unknown scenario "${s}" (${ALL.join(', ')})`);
          return s as ScenarioName;
        });
        break;
      case '--db':
        a.dbs = value.split(',').map((s) => {
          if (s !== 'postgres' && s !== 'embedded') throw new Error(`--db: expected postgres and/or embedded, got "${s}"`);
          return s;
        });
        break;
      case '--open-rate':
        a.openRate = Number(value);
        break;
      case '--timers':
        a.timers = Number(value);
        break;
      case '--env': {
        const eq = value.indexOf('=');
        if (eq < 1) throw new Error(`--env: expected KEY=VALUE, got "${value}"`);
        a.env[value.slice(0, eq)] = value.slice(eq + 1);
        break;
      }
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return a;
}

async function machineInfo(adminUrl: string | null, amVersion: string | null): Promise<{ machine: string; versions: string }> {
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; load generator, service, PostgreSQL and peers on the same box, 127.0.0.1`;
  let pgVersion = 'PostgreSQL not used';
  if (adminUrl) {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      pgVersion = `PostgreSQL ${(await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version}`;
    } finally {
      await c.end();
    }
  }
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const pglite = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
  const ac = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a checkout
  }
  return {
    machine,
    versions: `runbook-router ${pkg.version} (${commit}), Node ${process.version}, ${pgVersion}, PGlite ${pglite.version}, Alertmanager ${amVersion ?? 'not installed'}, autocannon ${ac.version}`,
  };
}

const log = (line: string) => console.log(line);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  // The service under test is what `npm start` runs: the build in dist/, made fresh here (bin/ would otherwise fall back
  // to the TypeScript sources under tsx, a slower and larger process).
  log('- building dist/ (npm run build) …');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const adminUrl = process.env.DATABASE_URL || null;
  const dbs: DbKind[] = args.dbs ?? (adminUrl ? ['postgres', 'embedded'] : ['embedded']);
  if (dbs.includes('postgres') && !adminUrl) throw new Error('--db=postgres needs DATABASE_URL');
  const scenarios = args.only ?? (args.quick ? QUICK : ALL);
  if (!adminUrl) log('DATABASE_URL is not set: the PostgreSQL runs are skipped (embedded database only).');
  if (adminUrl) await dropLeftovers(adminUrl);

  const amVersion = args.peers ? await alertmanagerVersion() : null;
  if (args.peers && !amVersion) log('prometheus-alertmanager is not installed: that peer is skipped (apt-get install prometheus-alertmanager).');

  const sink = await startSink();
  const runbooksDir = await benchRunbooksDir(sink.url);
  const profileDir = args.profile ? path.join(ROOT, 'bench/profiles') : null;
  if (profileDir) {
    await fs.rm(profileDir, { recursive: true, force: true });
    await fs.mkdir(profileDir, { recursive: true });
  }
  const o: BenchOptions = {
    quick: args.quick,
    adminUrl,
    sink,
    runbooksDir,
    log,
    profileDir,
    serviceEnv: args.env,
    openRate: { postgres: args.openRate ?? (args.quick ? 1000 : 5000), embedded: args.openRate ?? (args.quick ? 100 : 2500) },
    lightRate: { postgres: Math.round((args.openRate ?? 5000) / 2), embedded: Math.round((args.openRate ?? 2500) / 2) },
    timerIncidents: args.timers ?? (args.quick ? 1000 : 10_000),
  };

  if (dbs.includes('embedded')) {
    // Made in a child process; --quick lets it overlap the PostgreSQL runs, the full run waits so nothing else competes for the CPU.
    const template = embeddedTemplateDir();
    template.catch(() => undefined);
    if (!args.quick) await template;
  }

  const results: Measurement[] = [];
  const failures: string[] = [];
  const report = (m: Measurement, critical: boolean) => {
    results.push(m);
    const r = m.result;
    const summary = m.timers
      ? `${m.timers.incidents} escalations notified in ${m.timers.drainS.toFixed(1)} s, few-due lag p99 ${Math.round(m.timers.fewLagP99)} ms`
      : r
        ? `${Math.round(r.rate * m.alertsPerRequest)} alerts/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`
        : '';
    log(`  ${m.scenario} on ${m.target}: ${summary}, peak RSS ${Math.round(m.peakRssMb ?? 0)} MB`);
    for (const p of m.problems) log(`  ! ${p}`);
    if (critical) failures.push(...m.problems.map((p) => `${m.scenario} on ${m.target}: ${p}`));
  };
  const attempt = async (label: string, fn: () => Promise<Measurement[]>, critical: boolean) => {
    const t = Date.now();
    log(`- ${label} …`);
    try {
      for (const m of await fn()) report(m, critical);
      log(`  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    } catch (error) {
      log(`  ! failed: ${(error as Error).stack ?? error}`);
      if (critical) failures.push(`${label}: ${(error as Error).message.split('\n')[0]}`);
    }
  };

  try {
    for (const kind of dbs) {
      if (args.quick) {
        // One service per database for all phases; the embedded timers need their own start (seeded before it), so --quick leaves them to the full run.
        const phases = kind === 'embedded' && scenarios.length > 1 ? scenarios.filter((s) => s !== 'timers') : scenarios;
        await attempt(`${phases.join(', ')} on ${kind} (one service)`, () => serviceSession(o, kind, phases), true);
      } else {
        for (const s of scenarios) await attempt(`${s} on ${kind}`, () => serviceSession(o, kind, [s]), true);
      }
    }
    if (args.peers) {
      const peerScenarios = PEER_SCENARIOS.filter((s) => scenarios.includes(s));
      for (const s of args.quick ? peerScenarios.filter((p) => p === 'ingest') : peerScenarios) {
        if (amVersion) await attempt(`${s} on Alertmanager`, async () => [await peerLoad(o, 'alertmanager', s)], false);
        if (s.startsWith('ingest')) await attempt(`${s} on plain node:http`, async () => [await peerLoad(o, 'node:http', s)], true);
      }
    }
  } finally {
    await sink.close();
    await removeEmbeddedTemplate();
    await fs.rm(runbooksDir, { recursive: true, force: true });
  }

  console.log(`\n${resultsTable(results)}\n\n${ratioTable(results)}\n\n${targetTable(targetChecks(results, o.openRate.postgres))}\n`);
  if (profileDir) console.log(await summarizeProfiles(profileDir));

  const info: RunInfo = {
    command: `DATABASE_URL=${adminUrl ? 'postgres://…' : '(unset)'} npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ...(await machineInfo(adminUrl, amVersion)),
    quick: args.quick,
    durationS: (Date.now() - started) / 1000,
  };
  if (args.write) {
    const file = path.join(ROOT, 'BENCHMARKS.md');
    const existing = await fs.readFile(file, 'utf8').catch(() => null);
    await fs.writeFile(file, spliceBenchmarks(existing, generatedSection(info, results, o.openRate.postgres)));
    log(`BENCHMARKS.md updated (${Math.round(info.durationS)} s).`);
  } else {
    log(`Done in ${Math.round(info.durationS)} s (BENCHMARKS.md left alone).`);
  }
  if (failures.length) {
    console.error(`\nThe bench is broken (errors or failed checks):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
