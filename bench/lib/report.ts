import { pct, type LoadScenario, type Measurement, type Target } from './scenarios.js';

export interface RunInfo {
  command: string;
  date: string;
  machine: string;
  versions: string;
  quick: boolean;
  durationS: number;
}

const TARGET_LABEL: Record<Target, string> = {
  postgres: 'runbook-router, PostgreSQL',
  embedded: 'runbook-router, embedded',
  alertmanager: 'Alertmanager',
  'node:http': 'plain node:http',
};

const f0 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const f1 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}×`);

function alertsPerS(m: Measurement): number | undefined {
  return m.result ? m.result.rate * m.alertsPerRequest : undefined;
}

/** The results table (markdown), one row per measurement. */
export function resultsTable(ms: Measurement[]): string {
  const rows = [
    '| scenario | target | load | alerts/s (pages/s) | p50 ms | p99 ms | max ms | errors | peak RSS MB | CPU µs/alert | PostgreSQL CPU µs/alert | load gen. CPU µs/req |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const m of ms) {
    if (m.timers) {
      const t = m.timers;
      rows.push(
        `| timers | ${TARGET_LABEL[m.target]} | ${m.load} | ${f0(t.escalatedPerS)} escalations/s; all ${f0(t.incidents)} notified in ${t.drainS.toFixed(1)} s | lag ${f0(t.bigLagP50)} | lag ${f0(t.bigLagP99)} | – | ${m.problems.length} | ${f0(m.peakRssMb)} | ${f0(m.cpuUsPerAlert)} | ${f0(m.pgCpuUsPerAlert)} | – |`,
        `| timers (few due) | ${TARGET_LABEL[m.target]} | ${t.fewCount} due one after another | – | lag ${f0(t.fewLagP50)} | lag ${f0(t.fewLagP99)} (notified ${f0(t.fewDeliveredP99)}) | – | – | – | – | – | – |`,
      );
      continue;
    }
    const r = m.result;
    const during = m.escalationsDuringLoad;
    rows.push(
      `| ${m.scenario} | ${TARGET_LABEL[m.target]} | ${m.load} | ${f0(alertsPerS(m))}${m.alertsPerRequest > 1 && r ? ` (${f0(r.rate)} req/s)` : ''} | ${f1(r?.p50)} | ${f1(r?.p99)} | ${f1(r?.max)} | ${r ? r.errors : '–'} | ${f0(m.peakRssMb)} | ${f1(m.cpuUsPerAlert)} | ${f1(m.pgCpuUsPerAlert)} | ${f1(m.genCpuUsPerRequest)} |`,
    );
    if (during?.length) {
      rows.push(
        `| timers (during the storm) | ${TARGET_LABEL[m.target]} | the stormed incident's escalation due ${during.length} times, one after another | – | notified ${f0(pct(during, 50))} | notified ${Math.max(...during) === Infinity ? '> 10,000' : f0(Math.max(...during))} (max) | – | ${during.filter((l) => !Number.isFinite(l)).length} | – | – | – | – |`,
      );
    }
  }
  return rows.join('\n');
}

/** The service against its peers, scenario by scenario: throughput ratio and p99 ratio. */
export function ratioTable(ms: Measurement[]): string {
  const find = (s: LoadScenario, t: Target) => ms.find((m) => m.scenario === s && m.target === t);
  const rows = ['| scenario | target | alerts/s ÷ Alertmanager | p99 ÷ Alertmanager | alerts/s ÷ plain node:http | p99 ÷ plain node:http |', '|---|---|--:|--:|--:|--:|'];
  for (const s of ['ingest', 'ingest-50', 'ingest-open', 'ingest-open-light', 'storm', 'batch'] as LoadScenario[]) {
    const am = find(s, 'alertmanager');
    const plain = find(s, 'node:http');
    for (const t of ['postgres', 'embedded'] as Target[]) {
      const m = find(s, t);
      if (!m) continue;
      // An open loop is only comparable at the same offered rate.
      const same = (peer: Measurement | undefined) => (peer && m.result && peer.result && (m.result.mode === 'closed' || peer.result.level === m.result.level) ? peer : undefined);
      const a = same(am);
      const p = same(plain);
      rows.push(`| ${s} | ${TARGET_LABEL[t]} | ${ratio(alertsPerS(m), a && alertsPerS(a))} | ${ratio(m.result?.p99, a?.result?.p99)} | ${ratio(alertsPerS(m), p && alertsPerS(p))} | ${ratio(m.result?.p99, p?.result?.p99)} |`);
    }
  }
  return rows.join('\n');
}

export interface TargetCheck {
  what: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

/** The issue's targets (real PostgreSQL), met or missed, and by how much. */
export function targetChecks(ms: Measurement[], openRate: number): TargetCheck[] {
  const pgm = (s: string) => ms.find((m) => m.scenario === s && m.target === 'postgres');
  const am = ms.find((m) => m.scenario === 'ingest' && m.target === 'alertmanager');
  const checks: TargetCheck[] = [];
  const open = pgm('ingest-open');
  if (open?.result) {
    const r = open.result;
    checks.push({ what: 'ingest, open loop', goal: `sustain ${openRate}/s, p99 ≤ 50 ms, no errors`, measured: `${f0(r.rate)}/s, p99 ${f1(r.p99)} ms, ${r.errors} errors`, met: r.rate >= openRate * 0.98 && r.p99 <= 50 && r.errors === 0 });
  }
  const sat = pgm('ingest');
  if (sat?.result) {
    checks.push({
      what: 'ingest, saturation (200 conn.)',
      goal: '≥ 1.0 × Alertmanager',
      measured: am?.result ? `${f0(sat.result.rate)}/s = ${ratio(sat.result.rate, am.result.rate)} Alertmanager (${f0(am.result.rate)}/s)` : `${f0(sat.result.rate)}/s (Alertmanager not measured)`,
      met: am?.result ? sat.result.rate >= am.result.rate : null,
    });
  }
  const storm = pgm('storm');
  if (storm?.result) checks.push({ what: 'storm', goal: '≥ 4,000/s, p99 ≤ 25 ms, one incident', measured: `${f0(storm.result.rate)}/s, p99 ${f1(storm.result.p99)} ms${storm.problems.length ? `; ${storm.problems.join('; ')}` : ''}`, met: storm.result.rate >= 4000 && storm.result.p99 <= 25 && !storm.problems.length });
  const batch = pgm('batch');
  if (batch?.result) checks.push({ what: 'batch (Grafana, 100 alerts)', goal: '≥ 10,000 alerts/s', measured: `${f0(alertsPerS(batch))} alerts/s`, met: (alertsPerS(batch) ?? 0) >= 10_000 });
  const page = pgm('page');
  const pageOpen = pgm('page-open');
  if (page?.result) checks.push({ what: `page, saturation (${page.load})`, goal: '≥ 500 pages/s', measured: `${f0(page.result.rate)}/s, p99 ${f1(page.result.p99)} ms`, met: page.result.rate >= 500 });
  if (pageOpen?.result) {
    const r = pageOpen.result;
    checks.push({ what: `page at 500/s (${pageOpen.load})`, goal: 'sustain 500/s, p99 ≤ 50 ms, no errors', measured: `${f0(r.rate)}/s, p99 ${f1(r.p99)} ms, ${r.errors} errors`, met: r.level >= 500 && r.rate >= r.level * 0.98 && r.p99 <= 50 && r.errors === 0 });
  }
  const timers = pgm('timers');
  if (timers?.timers) {
    const t = timers.timers;
    checks.push({ what: `timers (${f0(t.incidents)} due at once)`, goal: t.incidents >= 10_000 ? 'all processed within 10 s' : 'all processed within 10 s (10,000 in the full run)', measured: `${t.drainS.toFixed(1)} s`, met: t.drainS <= 10 && !timers.problems.length });
    checks.push({ what: 'timer lag, a few due', goal: 'p99 ≤ 2 s', measured: `p99 ${f0(t.fewLagP99)} ms (notification received: ${f0(t.fewDeliveredP99)} ms)`, met: t.fewLagP99 <= 2000 });
  }
  const pgAll = ms.filter((m) => m.target === 'postgres' && m.peakRssMb !== null);
  if (pgAll.length) {
    const peak = Math.max(...pgAll.map((m) => m.peakRssMb!));
    checks.push({ what: 'peak RSS under load', goal: '≤ 300 MB', measured: `${f0(peak)} MB (highest scenario)`, met: peak <= 300 });
  }
  return checks;
}

export function targetTable(checks: TargetCheck[]): string {
  return ['| target | goal | measured | |', '|---|---|---|---|', ...checks.map((c) => `| ${c.what} | ${c.goal} | ${c.measured} | ${c.met === null ? '–' : c.met ? 'met' : '**missed**'} |`)].join('\n');
}

export function generatedSection(info: RunInfo, ms: Measurement[], openRate: number): string {
  const notes = ms.filter((m) => m.note).map((m) => `- ${m.scenario} (${TARGET_LABEL[m.target]}): ${m.note}`);
  return [
    `Command: \`${info.command}\`${info.quick ? ' (quick mode: short runs, not for comparison)' : ''}  `,
    `Date: ${info.date} · total bench time ${Math.round(info.durationS)} s  `,
    `Machine: ${info.machine}  `,
    `Versions: ${info.versions}`,
    '',
    '### Results',
    '',
    resultsTable(ms),
    '',
    ...(notes.length ? [...notes, ''] : []),
    '### Ratios to the peers (same run, same machine)',
    '',
    ratioTable(ms),
    '',
    '### Targets (real PostgreSQL)',
    '',
    targetTable(targetChecks(ms, openRate)),
  ].join('\n');
}

export const START = '<!-- bench:results:start (written by `npm run bench`; edit outside these markers) -->';
export const END = '<!-- bench:results:end -->';

/** Replaces the generated block of BENCHMARKS.md, keeping the hand-written text around it. */
export function spliceBenchmarks(existing: string | null, generated: string): string {
  const block = `${START}\n\n${generated}\n\n${END}`;
  if (existing && existing.includes(START) && existing.includes(END)) {
    return existing.slice(0, existing.indexOf(START)) + block + existing.slice(existing.indexOf(END) + END.length);
  }
  return `# Benchmarks\n\n## Latest run\n\n${block}\n${existing ? `\n${existing}` : ''}`;
}
