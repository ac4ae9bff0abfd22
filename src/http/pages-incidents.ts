// The responder's pages: GET / (open and recently resolved incidents), GET /incidents/:id (everything needed at 3 AM),
// GET /incidents/:id/retro.md, and the plain-HTML forms the incident page posts (each redirects back, 303).
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AlertInstance, Incident } from '../db/schema.js';
import { plural } from '../plural.js';
import { acknowledgeIncident, addNote, resolveIncident } from '../incidents/incident-actions.js';
import { setFollowUp } from '../incidents/follow-ups.js';
import { BOUNDED, boundsFor, firingAlerts, openIncidentsByUrgency } from '../incidents/incident-queries.js';
import { describeEvent, retroMarkdown, type EventContext } from '../incidents/retro.js';
import type { Routing } from '../incidents/routing.js';
import { incidentStepClock } from '../incidents/step-clock.js';
import { setStepCheck } from '../incidents/step-checks.js';
import type { CatalogStore } from '../runbooks/catalog.js';
import { allParam } from './api-incidents.js';
import { createPinnedRunbooks, loadIncidentContext, requireRunbook, type IncidentContext } from './incident-context.js';
import { boxKey } from './box-key.js';
import { backTo, formActor } from './pages.js';
import { relative, span, utcClock, utcDay, utcMinute } from './render-format.js';
import { alertRefsOf, anchorOf, createMarkdownCache, fillFromAlerts, runbookView, type MarkdownCache } from './render-runbook.js';
import type { ResponderPagesDeps } from './pages-router.js';

export type IncidentPagesDeps = Omit<ResponderPagesDeps, 'logger'>;

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const stepParams = idParam.extend({ stepKey: boxKey });
const followUpParams = idParam.extend({ itemKey: boxKey });
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const checkForm = z.object({ checked: bool });
const followUpForm = z.object({ done: bool });
const noteForm = z.object({ text: z.string().trim().min(1, 'the note is empty').max(10_000) });
// `confirm=1` comes from the "Resolve anyway" button; the page's own Resolve button leaves it out.
const resolveForm = z.object({ confirm: z.string().optional() });
const pageQuery = z.object({ all: allParam });

/** A class-safe token for severities and statuses (`sev-critical`). */
export const token = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]/g, '-');

const RECENT_RESOLVED = 15;
/** Open incidents the list page shows, the most urgent; the rest are counted and a link away. */
const OPEN_LIST_LIMIT = 500;
/** Still-firing alerts the resolve question lists (all are counted). */
const CONFIRM_ALERTS_LIMIT = 50;

interface ListRow {
  id: number;
  href: string;
  monId: string | null;
  title: string;
  runbookId: string | null;
  noRunbook: boolean;
  severity: string;
  sevClass: string;
  status: string;
  statusClass: string;
  openedIso: string;
  openedText: string;
  ageText: string;
  assignee: string | null;
  resolvedText: string | null;
  resolvedBy: string | null;
  durationText: string | null;
  nextEscalationIso: string | null;
  nextEscalationText: string | null;
  escalationLevel: number;
  flapping: boolean;
  alertCount: number;
}

function listRow(i: Incident & { alert_count?: number | string | null }, now: Date): ListRow {
  return {
    id: i.id,
    href: `/incidents/${i.id}`,
    monId: i.mon_id,
    title: i.title,
    runbookId: i.runbook_id,
    noRunbook: i.runbook_id === null,
    severity: i.severity,
    sevClass: `sev-${token(i.severity)}`,
    status: i.status,
    statusClass: `status-${token(i.status)}`,
    openedIso: i.opened_at.toISOString(),
    openedText: utcMinute(i.opened_at),
    ageText: span(now.getTime() - i.opened_at.getTime()),
    assignee: i.acknowledged_by,
    resolvedText: i.resolved_at ? utcMinute(i.resolved_at) : null,
    resolvedBy: i.resolved_by,
    durationText: i.resolved_at ? span(i.resolved_at.getTime() - i.opened_at.getTime()) : null,
    nextEscalationIso: i.status === 'triggered' && i.next_escalation_at ? i.next_escalation_at.toISOString() : null,
    nextEscalationText: i.status === 'triggered' && i.next_escalation_at ? (i.next_escalation_at > now ? relative(i.next_escalation_at, now) : 'due now') : null,
    escalationLevel: i.escalation_level,
    flapping: i.flapping,
    alertCount: Number(i.alert_count ?? 0),
  };
}

/** "alertmanager", "alertmanager and datadog", "a, b and c". */
function listText(items: readonly string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} and ${unique.at(-1)}`;
}

function contactNamer(routing: Routing) {
  return (id: string) => routing.contact(id)?.name ?? id;
}

/** Shown beside its MON- id, an alert's own title need not start with it again ("MON-999 MON-999: queue backlog"). */
export function titleBesideMonId(title: string, monId: string | null): string {
  if (!monId) return title;
  if (title.trim().toUpperCase() === monId.toUpperCase()) return '';
  // The id as a whole word, then ": " or "- " or just a space; "MON-999 -5% throughput" keeps its minus sign.
  const prefix = /^\s*\[?(MON-\d{1,9})\]?(?![\p{L}\p{N}])(?:\s*[:\-–—]\s+|\s+)/iu.exec(title);
  if (!prefix || prefix[1]!.toUpperCase() !== monId.toUpperCase()) return title;
  return title.slice(prefix[0].length) || title;
}

/** The severity label an alert carries when it differs from the incident's, or null. */
function alertSeverityOf(alerts: readonly AlertInstance[], severity: string): string | null {
  for (const a of alerts) {
    const claimed = a.labels.severity ?? a.labels.priority;
    if (typeof claimed === 'string' && claimed.toLowerCase() !== severity.toLowerCase()) return claimed;
  }
  return null;
}

function alertView(a: AlertInstance, now: Date) {
  return {
    source: a.source,
    status: a.status,
    resolved: a.status === 'resolved',
    statusClass: `alert-${token(a.status)}`,
    title: a.title,
    fingerprint: a.fingerprint,
    monId: a.mon_id,
    labels: Object.entries(a.labels).map(([key, value]) => ({ key, value: String(value) })),
    values: Object.entries(a.values).map(([key, value]) => ({ key, value: String(value) })),
    // Adapters keep only http(s) links; checked again here because this becomes an href.
    url: a.url && /^https?:\/\//i.test(a.url) ? a.url : null,
    startedIso: a.starts_at.toISOString(),
    startedText: `${utcMinute(a.starts_at)} (${relative(a.starts_at, now)})`,
    lastSeenIso: a.last_seen_at.toISOString(),
    lastSeenText: relative(a.last_seen_at, now),
  };
}

type WholeList = 'alerts' | 'timeline';

/** "9990 firing, 10 resolved". */
function statusCountsText(byStatus: IncidentContext['alertCounts']['byStatus']): string {
  return (['firing', 'acknowledged', 'resolved'] as const).filter((s) => byStatus[s]).map((s) => `${byStatus[s]} ${s}`).join(', ');
}

/** The page's address with `list` loaded whole, as well as those already asked for. */
function wholeHref(base: string, all: readonly WholeList[], list: WholeList): string {
  return `${base}?all=${[...new Set([...all, list])].join(',')}#${list}`;
}

export function incidentView(ctx: IncidentContext, deps: { routing: Routing; catalog: CatalogStore; now: Date; markdown?: MarkdownCache; all?: readonly WholeList[] }) {
  const { incident: i, alerts, timeline, pinned, checks, followUps, alertCounts, timelineExtent } = ctx;
  const { routing, now } = deps;
  const name = contactNamer(routing);
  const catalog = deps.catalog.current();
  const matrixAlert = i.mon_id ? catalog.matrix?.alerts[i.mon_id] : undefined;
  const opened = timeline.find((e) => e.kind === 'opened');
  const knownMonId = (opened?.data as { knownMonId?: boolean } | undefined)?.knownMonId ?? Boolean(matrixAlert);
  const runbook = pinned?.runbook ?? null;
  const active = i.status !== 'resolved';
  const chain = i.escalation_chain;
  const policy = routing.policy(i.severity);

  // Escalation: who has been paged, who is next and when.
  const nextLevel = Math.min(i.escalation_level + 1, chain.length);
  const next =
    i.status === 'triggered' && i.next_escalation_at && chain.length
      ? {
          iso: i.next_escalation_at.toISOString(),
          text: i.next_escalation_at > now ? relative(i.next_escalation_at, now) : 'due now',
          // The countdown only moves with JavaScript; the clock time stays true on a page left open, and on paper.
          at: `${utcClock(i.next_escalation_at).slice(0, 5)} UTC`,
          overdue: i.next_escalation_at <= now,
          level: nextLevel,
          repeat: i.escalation_level >= chain.length,
          contact: name(chain[nextLevel - 1]!),
        }
      : null;
  const escalation = {
    level: i.escalation_level,
    levels: chain.length,
    current: i.escalation_level > 0 ? name(chain[Math.min(i.escalation_level, chain.length) - 1]!) : null,
    next,
    stopped: i.status === 'acknowledged' ? `acknowledged by ${i.acknowledged_by ?? 'someone'}` : i.status === 'resolved' ? 'resolved' : null,
    /** false for severities that open incidents without paging (`page: false`). */
    pages: policy.page,
    ackWithin: policy.ackWithinMs ? span(policy.ackWithinMs) : null,
    chain: chain.map((id, n) => ({
      level: n + 1,
      id,
      name: name(id),
      known: routing.contact(id) !== undefined,
      paged: n + 1 <= i.escalation_level,
      isNext: next !== null && next.level === n + 1,
    })),
  };

  const base = `/incidents/${i.id}`;
  const whole = deps.all ?? [];
  const refs = alertRefsOf(alerts);
  const eventCtx: EventContext = { chain, contactName: name, refs };
  const events = [...timeline].reverse().map((e, idx, all) => {
    const described = describeEvent(e, eventCtx);
    const { category } = described;
    // A check's title is the runbook's markdown: its `code` reads as code in the retro's markdown, as plain words here.
    const text = category === 'check' ? described.text.replace(/`([^`\n]+)`/g, '$1') : described.text;
    const day = utcDay(e.at);
    const newerDay = idx > 0 ? utcDay(all[idx - 1]!.at) : null;
    return {
      iso: e.at.toISOString(),
      time: utcClock(e.at),
      // A date line above the newest event of each day.
      day: newerDay !== day ? day : null,
      ago: relative(e.at, now),
      actor: e.actor,
      kind: e.kind,
      category,
      text,
      isNote: e.kind === 'note',
    };
  });
  // Where the events left out would be: below the latest ones, above the older openings and acknowledgements kept.
  const { hidden, gapAt, total: timelineTotal } = timelineExtent;
  const timelineCut = hidden ? { shown: timeline.length, hidden, total: timelineTotal, allHref: wholeHref(base, whole, 'timeline') } : null;
  const below = timelineCut && gapAt !== null ? timeline.length - gapAt : events.length;
  const timelineItems = [...events.slice(0, below), ...(timelineCut ? [{ gap: timelineCut }] : []), ...events.slice(below)];

  // Shown next to Resolve: resolving now stops the escalation while the monitors still see the problem. Counted over
  // every alert, not only those loaded.
  const firingCount = active ? alertCounts.firing : 0;

  const currentRunbook = runbook ? catalog.runbooks.get(runbook.id) : undefined;
  return {
    id: i.id,
    base,
    title: i.title,
    monId: i.mon_id,
    monTitle: matrixAlert?.title ?? null,
    headTitle: matrixAlert?.title ?? titleBesideMonId(i.title, i.mon_id),
    knownMonId,
    // An alert the matrix does not know gets the matrix's default severity and chain: say so, with what the alert claims.
    defaultPolicy: !knownMonId && catalog.matrix ? { alertSeverity: alertSeverityOf(alerts, i.severity) } : null,
    severity: i.severity,
    sevClass: `sev-${token(i.severity)}`,
    status: i.status,
    statusClass: `status-${token(i.status)}`,
    statusLabel: i.status === 'triggered' ? 'Triggered' : i.status === 'acknowledged' ? 'Acknowledged' : 'Resolved',
    triggered: i.status === 'triggered',
    resolved: i.status === 'resolved',
    flapping: i.flapping,
    reopenCount: i.reopen_count,
    openedIso: i.opened_at.toISOString(),
    openedText: utcMinute(i.opened_at),
    ageText: span((i.resolved_at ?? now).getTime() - i.opened_at.getTime()),
    acknowledged: i.acknowledged_at ? { by: i.acknowledged_by, iso: i.acknowledged_at.toISOString(), text: utcMinute(i.acknowledged_at), after: span(i.acknowledged_at.getTime() - i.opened_at.getTime()) } : null,
    resolvedInfo: i.resolved_at ? { by: i.resolved_by, iso: i.resolved_at.toISOString(), text: utcMinute(i.resolved_at), after: span(i.resolved_at.getTime() - i.opened_at.getTime()) } : null,
    escalation,
    // What still fires comes first: on a phone, resolved alerts above it push the runbook out of reach.
    alerts: alerts.map((a) => alertView(a, now)).sort((a, b) => Number(a.resolved) - Number(b.resolved)),
    alertTotal: alertCounts.total,
    alertsCut: alerts.length < alertCounts.total ? { shown: alerts.length, total: alertCounts.total, statusText: statusCountsText(alertCounts.byStatus), allHref: wholeHref(base, whole, 'alerts') } : null,
    firing: firingCount ? { count: firingCount, text: `${plural(firingCount, 'alert')} still firing` } : null,
    runbookId: i.runbook_id,
    noRunbook: i.runbook_id === null,
    pinned: pinned
      ? {
          hashShort: pinned.hash.slice(0, 12),
          parses: runbook !== null,
          text: pinned.text,
          changedSince: currentRunbook !== undefined && currentRunbook.hash !== pinned.hash,
          removedSince: runbook !== null && currentRunbook === undefined,
        }
      : null,
    runbook: runbook
      ? runbookView(runbook, {
          actionBase: base,
          refs,
          checks,
          ...incidentStepClock({ ...i, timeline }, checks),
          now,
          active,
          markdown: deps.markdown,
        })
      : null,
    runbookTitle: runbook?.title ?? null,
    timeline: timelineItems,
    timelineCut,
    followUps: followUps.map((f) => ({
      key: f.key,
      anchor: anchorOf(`follow-${f.key}`),
      text: f.text,
      done: f.done,
      next: f.done ? 'false' : 'true',
      by: f.doneBy,
      atText: f.doneAt ? utcMinute(f.doneAt) : null,
    })),
    followUpsOpen: followUps.filter((f) => !f.done).length,
    retroHref: `${base}/retro.md`,
  };
}

export function incidentPages(deps: IncidentPagesDeps): Router {
  const router = Router();
  const { db, clock, renderer } = deps;
  // The pinned runbooks, and their rendered texts, shared by every incident page this router serves.
  const pins = createPinnedRunbooks();
  const markdown = createMarkdownCache();

  router.get('/', async (_req, res) => {
    const now = clock.now();
    const severities = Object.keys(deps.catalog.current().matrix?.severities ?? { critical: 1, warning: 1, info: 1 });
    const [open, resolved] = await Promise.all([
      openIncidentsByUrgency(db, severities, OPEN_LIST_LIMIT),
      db.selectFrom('incidents').selectAll().where('status', '=', 'resolved').orderBy('resolved_at', 'desc').orderBy('id', 'desc').limit(RECENT_RESOLVED).execute(),
    ]);
    const openRows = open.rows.map((i) => listRow(i, now));
    const total = open.triggered + open.acknowledged;
    renderer.page(
      res,
      'index',
      {
        open: openRows,
        openTotal: total,
        // Said on the page: a list that stops at its limit without saying so reads as all there is.
        openCut: openRows.length < total ? { shown: openRows.length, total, allHref: `/api/incidents?status=open&limit=1000` } : null,
        resolved: resolved.map((i) => listRow(i, now)),
        triggered: open.triggered,
        acknowledged: open.acknowledged,
        nowText: utcMinute(now),
      },
      { title: total ? `(${total}) Incidents` : 'Incidents', section: 'incidents', refreshSeconds: 60, now },
    );
  });

  router.get('/incidents', (_req, res) => res.redirect(302, '/'));

  router.get('/incidents/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { all = [] } = pageQuery.parse(req.query);
    const ctx = await loadIncidentContext(db, id, pins, boundsFor(BOUNDED, all));
    const now = clock.now();
    const view = incidentView(ctx, { routing: deps.routing(), catalog: deps.catalog, now, markdown, all });
    const label = `#${id} ${view.monId ?? ''} ${view.monTitle ?? view.title}`.replace(/\s+/g, ' ');
    renderer.page(res, 'incident', view, { title: `${view.resolved ? '' : `[${view.severity.toUpperCase()}] `}${label}`, section: 'incidents', bodyClass: `${view.sevClass} ${view.statusClass}`, now });
  });

  router.get('/incidents/:id/retro.md', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const ctx = await loadIncidentContext(db, id, pins);
    const routing = deps.routing();
    const markdown = retroMarkdown({
      incident: ctx.incident,
      alerts: ctx.alerts,
      timeline: ctx.timeline,
      runbook: ctx.pinned?.runbook ?? null,
      checks: ctx.checks,
      followUps: ctx.followUps,
      contactName: contactNamer(routing),
      monTitle: ctx.incident.mon_id ? (deps.catalog.current().matrix?.alerts[ctx.incident.mon_id]?.title ?? null) : null,
      pageUrl: `${deps.config.publicUrl}/incidents/${id}`,
      now: clock.now(),
    });
    res.type('text/plain; charset=utf-8').setHeader('Content-Disposition', `inline; filename="incident-${id}-retro.md"`);
    res.send(markdown);
  });

  router.post('/incidents/:id/acknowledge', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await acknowledgeIncident(db, id, formActor(res), clock.now());
    backTo(res, `/incidents/${id}`);
  });

  // Resolving while alerts still fire is sometimes right (a noisy monitor, the fix is in and the alert lags), so it is
  // asked, not refused. The question is asked here, from what fires now rather than what fired when the page was
  // rendered, and it takes no script: this answers a page whose "Resolve anyway" posts again with confirm=1.
  router.post('/incidents/:id/resolve', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { confirm } = resolveForm.parse(req.body ?? {});
    if (confirm !== '1') {
      const incident = await db.selectFrom('incidents').select(['status', 'mon_id', 'title']).where('id', '=', id).executeTakeFirst();
      if (incident && incident.status !== 'resolved') {
        const firing = await firingAlerts(db, id, CONFIRM_ALERTS_LIMIT);
        if (firing.total) {
          const now = clock.now();
          const monTitle = incident.mon_id ? deps.catalog.current().matrix?.alerts[incident.mon_id]?.title : undefined;
          const n = firing.total;
          const more = n - firing.alerts.length;
          renderer.page(
            res,
            'resolve-confirm',
            {
              id,
              base: `/incidents/${id}`,
              monId: incident.mon_id,
              title: monTitle ?? incident.title,
              heading: `${plural(n, 'alert')} ${n === 1 ? 'is' : 'are'} still firing`,
              // Acknowledging already stopped the escalation; only a triggered incident's is stopped by resolving.
              escalating: incident.status === 'triggered',
              sources: listText(firing.sources),
              alerts: firing.alerts.map((a) => ({ source: a.source, title: a.title, status: a.status, startedIso: a.starts_at.toISOString(), startedText: `${utcMinute(a.starts_at)} (${relative(a.starts_at, now)})` })),
              more: more > 0 ? { text: `and ${plural(more, 'more alert')}`, href: `/incidents/${id}?all=alerts#alerts` } : null,
            },
            { title: `Resolve #${id} while ${plural(n, 'alert')} still firing?`, section: 'incidents', now },
          );
          return;
        }
      }
    }
    await resolveIncident(db, id, formActor(res), clock.now());
    backTo(res, `/incidents/${id}`, 'follow-ups');
  });

  router.post('/incidents/:id/notes', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { text } = noteForm.parse(req.body);
    await addNote(db, id, formActor(res), text, clock.now());
    backTo(res, `/incidents/${id}`, 'timeline');
  });

  router.post('/incidents/:id/steps/:stepKey', async (req: Request, res) => {
    const { id, stepKey } = stepParams.parse(req.params);
    const { checked } = checkForm.parse(req.body);
    // Only the pinned runbook and the boxes are read here: the page's bounds are plenty.
    const ctx = await loadIncidentContext(db, id, pins, BOUNDED);
    await setStepCheck(db, { subject: { incidentId: id }, runbook: requireRunbook(ctx), key: stepKey, checked, by: formActor(res), now: clock.now(), fill: fillFromAlerts(ctx.alerts) });
    backTo(res, `/incidents/${id}`, anchorOf(stepKey));
  });

  router.post('/incidents/:id/follow-ups/:itemKey', async (req, res) => {
    const { id, itemKey } = followUpParams.parse(req.params);
    const { done } = followUpForm.parse(req.body);
    await setFollowUp(db, { incidentId: id, key: itemKey, done, by: formActor(res), now: clock.now() });
    backTo(res, `/incidents/${id}`, anchorOf(`follow-${itemKey}`));
  });

  return router;
}
