// The runbook catalog pages (issue 3): /runbooks, /runbooks/:id, /matrix, and the data behind them, which the JSON
// API (/api/runbooks, /api/matrix) serves as well.
import path from 'node:path';
import { Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db, Executor } from '../db/create-db.js';
import { localDate } from '../reports/iso-week.js';
import type { Catalog, CatalogStore } from '../runbooks/catalog.js';
import { effectiveLastTested, lastPassedDrillTimes, type EffectiveLastTested } from '../runbooks/freshness.js';
import { lintCatalog } from '../runbooks/lint.js';
import type { Finding, Runbook } from '../runbooks/runbook.js';
import { notFound } from './http-error.js';
import { backTo } from './pages.js';
import { durationText, relative, utcDay, utcMinute } from './render-format.js';
import { runbookView } from './render-runbook.js';
import type { Renderer } from './render.js';

export interface CatalogDeps {
  db: Db;
  clock: Clock;
  config: Config;
  catalog: CatalogStore;
}

export interface FindingJson {
  file: string;
  line: number;
  severity: Finding['severity'];
  rule: string;
  message: string;
}

const findingJson = (f: Finding, dir: string): FindingJson => ({ ...f, file: path.relative(dir, f.file) || f.file });

export interface RunbookSummary {
  id: string;
  title: string;
  category: string;
  owner: string | null;
  file: string;
  hash: string;
  trigger: string[];
  /** MON- ids the matrix routes here. */
  alerts: string[];
  lastTested: { date: string | null; source: 'file' | 'drill'; stale: boolean; ageDays: number | null };
  fileLastTested: string | null;
  lastPassedDrillAt: string | null;
  nextDrill: { id: number; dueAt: string; overdue: boolean } | null;
  findings: { errors: number; warnings: number };
}

async function nextDrills(db: Executor): Promise<Map<string, { id: number; dueAt: Date }>> {
  const rows = await db.selectFrom('drills').select(['id', 'runbook_id', 'due_at']).where('status', 'in', ['scheduled', 'running']).orderBy('due_at').execute();
  const result = new Map<string, { id: number; dueAt: Date }>();
  for (const r of rows) if (!result.has(r.runbook_id)) result.set(r.runbook_id, { id: r.id, dueAt: r.due_at });
  return result;
}

export interface CatalogSnapshot {
  catalog: Catalog;
  findings: Finding[];
  summaries: RunbookSummary[];
  freshness: Map<string, EffectiveLastTested>;
}

/** The catalog as of now: every runbook with its effective last-tested date, next drill and lint findings. */
export async function catalogSnapshot(deps: CatalogDeps): Promise<CatalogSnapshot> {
  const catalog = deps.catalog.current();
  const now = deps.clock.now();
  const findings = lintCatalog(catalog, { now, staleAfterDays: deps.config.staleAfterDays });
  const [passed, drills] = await Promise.all([lastPassedDrillTimes(deps.db), nextDrills(deps.db)]);
  const routedTo = new Map<string, string[]>();
  for (const a of Object.values(catalog.matrix?.alerts ?? {})) {
    if (a.runbookId) routedTo.set(a.runbookId, [...(routedTo.get(a.runbookId) ?? []), a.monId]);
  }
  const freshness = new Map<string, EffectiveLastTested>();
  const summaries = [...catalog.runbooks.values()]
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
    .map((r): RunbookSummary => {
      const fresh = effectiveLastTested(r, passed.get(r.id) ?? null, { now, staleAfterDays: deps.config.staleAfterDays });
      freshness.set(r.id, fresh);
      const own = findings.filter((f) => f.file === r.file);
      const drill = drills.get(r.id);
      return {
        id: r.id,
        title: r.title,
        category: r.category,
        owner: r.owner,
        file: path.relative(catalog.dir, r.file) || r.file,
        hash: r.hash,
        trigger: r.trigger?.monIds ?? [],
        alerts: routedTo.get(r.id) ?? [],
        lastTested: { date: fresh.date ? utcDay(fresh.date) : null, source: fresh.source, stale: fresh.stale, ageDays: fresh.ageDays },
        fileLastTested: r.lastTested,
        lastPassedDrillAt: passed.get(r.id)?.toISOString() ?? null,
        nextDrill: drill ? { id: drill.id, dueAt: drill.dueAt.toISOString(), overdue: drill.dueAt < now } : null,
        findings: { errors: own.filter((f) => f.severity === 'error').length, warnings: own.filter((f) => f.severity === 'warning').length },
      };
    });
  return { catalog, findings, summaries, freshness };
}

export function runbookJson(snapshot: CatalogSnapshot, id: string) {
  const runbook = snapshot.catalog.runbooks.get(id);
  const summary = snapshot.summaries.find((s) => s.id === id);
  if (!runbook || !summary) throw notFound(`runbook ${id}`);
  const { text, file, ...parsed } = runbook;
  return {
    ...summary,
    runbook: { ...parsed, file: summary.file, text },
    findings: snapshot.findings.filter((f) => f.file === file).map((f) => findingJson(f, snapshot.catalog.dir)),
  };
}

/** The matrix with contact names (never the notification URLs: Slack webhook URLs are credentials) and its gaps. */
export function matrixJson(catalog: Catalog) {
  const m = catalog.matrix;
  const contact = (id: string) => ({ id, name: m?.contacts[id]?.name ?? null, known: Boolean(m?.contacts[id]) });
  const alerts = Object.values(m?.alerts ?? {})
    .sort((a, b) => a.monId.localeCompare(b.monId, 'en', { numeric: true }))
    .map((a) => {
      const runbook = a.runbookId ? catalog.runbooks.get(a.runbookId) : undefined;
      return {
        monId: a.monId,
        title: a.title,
        runbookId: a.runbookId,
        runbookTitle: runbook?.title ?? null,
        runbookExists: runbook !== undefined,
        severity: a.severity,
        escalation: a.escalation.map(contact),
      };
    });
  const reached = new Set(alerts.filter((a) => a.runbookExists).map((a) => a.runbookId));
  return {
    valid: m !== null,
    file: m ? path.relative(catalog.dir, m.file) || m.file : null,
    severities: Object.entries(m?.severities ?? {}).map(([name, s]) => ({
      name,
      page: s.page,
      ackWithin: s.ackWithinMs !== null ? durationText(s.ackWithinMs) : null,
      repeatEvery: s.repeatEveryMs !== null ? durationText(s.repeatEveryMs) : null,
      drillEvery: s.drillEveryMs !== null ? durationText(s.drillEveryMs) : null,
    })),
    contacts: Object.values(m?.contacts ?? {}).map((c) => ({ id: c.id, name: c.name, channels: c.notify.map((n) => n.type) })),
    default: m ? { severity: m.default.severity, escalation: m.default.escalation.map(contact) } : null,
    alerts,
    gaps: {
      /** MON- ids whose runbook is missing (none named, or the named one does not exist). */
      missingRunbooks: alerts.filter((a) => !a.runbookExists).map((a) => ({ monId: a.monId, title: a.title, runbookId: a.runbookId })),
      /** Incident runbooks that no alert reaches. */
      unreachedRunbooks: [...catalog.runbooks.values()]
        .filter((r) => r.category === 'Incident' && !reached.has(r.id))
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
        .map((r) => ({ id: r.id, title: r.title })),
    },
  };
}

const sevClass = (s: string) => `sev-${s.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;

export function catalogPages(deps: CatalogDeps & { renderer: Renderer }): Router {
  const router = Router();
  const { renderer } = deps;

  router.get('/runbooks', async (req, res) => {
    const snapshot = await catalogSnapshot(deps);
    const now = deps.clock.now();
    const rows = snapshot.summaries.map((s) => ({
      ...s,
      href: `/runbooks/${encodeURIComponent(s.id)}`,
      drillHref: s.nextDrill ? `/drills/${s.nextDrill.id}` : null,
      nextDrillText: s.nextDrill ? `${localDate(new Date(s.nextDrill.dueAt), deps.config.report.timeZone)} (${relative(new Date(s.nextDrill.dueAt), now)})` : null,
      lastTestedAge: s.lastTested.ageDays !== null ? `${s.lastTested.ageDays} days ago` : null,
    }));
    const all = snapshot.findings;
    const reloaded = typeof req.query.reloaded === 'string' ? req.query.reloaded : null;
    renderer.page(
      res,
      'runbooks',
      {
        runbooks: rows,
        count: rows.length,
        stale: rows.filter((r) => r.lastTested.stale).length,
        errors: all.filter((f) => f.severity === 'error').length,
        warnings: all.filter((f) => f.severity === 'warning').length,
        staleAfterDays: deps.config.staleAfterDays,
        catalogFindings: all.filter((f) => !snapshot.catalog.runbooks.size || ![...snapshot.catalog.runbooks.values()].some((r) => r.file === f.file)).map((f) => findingJson(f, snapshot.catalog.dir)),
        reloaded: reloaded === 'ok' ? { ok: true } : reloaded === 'errors' ? { ok: false } : null,
      },
      { title: 'Runbooks', section: 'runbooks', now },
    );
  });

  router.post('/runbooks/reload', async (_req, res) => {
    const result = await deps.catalog.reload();
    backTo(res, `/runbooks?reloaded=${result.ok ? 'ok' : 'errors'}`);
  });

  router.get('/runbooks/:id', async (req, res) => {
    const id = String(req.params.id).toUpperCase();
    const snapshot = await catalogSnapshot(deps);
    const json = runbookJson(snapshot, id);
    const runbook = snapshot.catalog.runbooks.get(id) as Runbook;
    const matrix = matrixJson(snapshot.catalog);
    renderer.page(
      res,
      'runbook',
      {
        summary: json,
        findings: json.findings,
        routes: matrix.alerts.filter((a) => a.runbookId === id).map((a) => ({ ...a, sevClass: sevClass(a.severity) })),
        view: runbookView(runbook, { actionBase: null, refs: null, checks: new Map(), startedAt: null, now: deps.clock.now(), active: false }),
        staleAfterDays: deps.config.staleAfterDays,
        lastPassedDrillText: json.lastPassedDrillAt ? utcMinute(new Date(json.lastPassedDrillAt)) : null,
        linkedIds: runbook.linkedIds,
      },
      { title: `${runbook.id}: ${runbook.title}`, section: 'runbooks', now: deps.clock.now() },
    );
  });

  router.get('/matrix', (_req, res) => {
    const catalog = deps.catalog.current();
    const matrix = matrixJson(catalog);
    const matrixFile = catalog.matrix?.file ?? path.join(catalog.dir, 'matrix.yml');
    renderer.page(
      res,
      'matrix',
      {
        ...matrix,
        alerts: matrix.alerts.map((a) => ({ ...a, sevClass: sevClass(a.severity), runbookHref: a.runbookExists ? `/runbooks/${encodeURIComponent(a.runbookId!)}` : null })),
        severities: matrix.severities.map((s) => ({ ...s, sevClass: sevClass(s.name) })),
        findings: catalog.findings.filter((f) => f.file === matrixFile).map((f) => findingJson(f, catalog.dir)),
        hasGaps: matrix.gaps.missingRunbooks.length + matrix.gaps.unreachedRunbooks.length > 0,
      },
      { title: 'Incident response matrix', section: 'matrix', now: deps.clock.now() },
    );
  });

  return router;
}
