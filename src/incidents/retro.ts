// The retro summary of an incident as markdown (GET /incidents/:id/retro.md): header facts, alerts, the timeline and
// the step record against the runbook pinned at open, follow-ups. Also the one place timeline events get their words,
// shared with the incident page.
import type { AlertInstance, Incident, IncidentEvent } from '../db/schema.js';
import { alertRefsOf, fillRefsText, type AlertRefs } from '../http/render-runbook.js';
import { durationText, span, utcClock, utcDay, utcMinute } from '../http/render-format.js';
import type { Runbook } from '../runbooks/runbook.js';
import type { FollowUp } from './follow-ups.js';
import { incidentStepClock } from './step-clock.js';
import { checkpointKey, stepTimings, type StepCheck } from './step-checks.js';

export type EventCategory = 'alert' | 'state' | 'escalation' | 'notification' | 'check' | 'note' | 'other';

export interface EventContext {
  /** The incident's escalation chain (contact ids, level 1 first). */
  chain: readonly string[];
  contactName(id: string): string;
  /** The incident's alert: `{{alert.*}}` references in ticked items' text are shown filled, as on the page. */
  refs?: AlertRefs | null;
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** One timeline event in words ("Escalated to level 2: Database Team Lead"). The actor is shown separately. */
export function describeEvent(event: Pick<IncidentEvent, 'kind' | 'data'>, ctx: EventContext): { text: string; category: EventCategory } {
  const d = (event.data ?? {}) as Record<string, unknown>;
  const fill = (v: unknown) => fillRefsText(str(v), ctx.refs ?? null);
  const contact = (id: unknown) => (typeof id === 'string' ? ctx.contactName(id) : 'unknown contact');
  const levelContact = (level: unknown) => {
    const id = typeof level === 'number' ? ctx.chain[Math.min(level, ctx.chain.length) - 1] : undefined;
    return id ? `: ${ctx.contactName(id)}` : '';
  };
  switch (event.kind) {
    case 'opened': {
      const runbook = d.runbookId ? `runbook ${str(d.runbookId)}` : 'no runbook';
      return { text: `Incident opened from ${str(d.source)}${d.monId ? ` (${str(d.monId)})` : ' (no MON- id)'}, ${str(d.severity)}, ${runbook}`, category: 'state' };
    }
    case 'alert_firing':
      return { text: `Alert firing at ${str(d.source)}: ${str(d.title)}`, category: 'alert' };
    case 'alert_resolved':
      return { text: `Alert resolved at ${str(d.source)}: ${str(d.title)}`, category: 'alert' };
    case 'alert_acknowledged':
      return { text: `Alert acknowledged at ${str(d.source)}: ${str(d.title)}`, category: 'alert' };
    case 'acknowledged':
      return { text: d.source ? `Acknowledged at ${str(d.source)} — escalation stopped` : 'Acknowledged — escalation stopped', category: 'state' };
    case 'unacknowledged':
      return { text: `Unacknowledged at ${str(d.source) || 'the alert\'s source'} — escalation resumed`, category: 'state' };
    case 'resolved':
      return { text: `Resolved${d.reason ? ` (${str(d.reason)})` : ''}`, category: 'state' };
    case 'reopened':
      return { text: `Reopened: the alert fired again (${str(d.reopenCount)}×)`, category: 'state' };
    case 'flapping':
      return { text: `Marked flapping after ${str(d.reopenCount)} reopenings`, category: 'state' };
    case 'escalated':
      return { text: `Escalated to level ${str(d.level)}${levelContact(d.level)}`, category: 'escalation' };
    case 'escalation_repeated':
      return { text: `Escalation repeated at level ${str(d.level)}${levelContact(d.level)}`, category: 'escalation' };
    case 'notification_sent':
      return { text: `Notified ${contact(d.contact)} (${str(d.channel)})`, category: 'notification' };
    case 'notification_failed':
      return { text: `Notification to ${contact(d.contact)} failed: ${str(d.error)}`, category: 'notification' };
    case 'notification_cancelled':
      return d.status === 'superseded'
        ? { text: `Page to ${contact(d.contact)} (${str(d.channel)}) not retried: its channel left the matrix, and the ${str(d.channel)} channel left already has this page`, category: 'notification' }
        : { text: `Page to ${contact(d.contact)} (${str(d.channel)}) not sent: the incident was ${str(d.status)} first`, category: 'notification' };
    case 'drill_scheduled':
      return { text: `Drill of ${str(d.runbookId)} scheduled${d.dueAt ? `, due ${utcDay(new Date(str(d.dueAt)))}` : ''}`, category: 'other' };
    case 'note':
      return { text: str(d.text), category: 'note' };
    // What the responder saw when ticking (`shown`); entries from before it was kept are filled with the alerts of now.
    case 'step_checked':
      return { text: `Ticked: ${typeof d.shown === 'string' ? d.shown : fill(d.title || d.stepKey)}`, category: 'check' };
    case 'step_unchecked':
      return { text: `Unticked: ${typeof d.shown === 'string' ? d.shown : fill(d.title || d.stepKey)}`, category: 'check' };
    case 'follow_up_done':
      return { text: `Follow-up done: ${fill(d.text || d.itemKey)}`, category: 'check' };
    case 'follow_up_reopened':
      return { text: `Follow-up reopened: ${fill(d.text || d.itemKey)}`, category: 'check' };
    default:
      return { text: `${event.kind}${Object.keys(d).length ? ` ${JSON.stringify(d)}` : ''}`, category: 'other' };
  }
}

export interface RetroInput {
  incident: Incident;
  alerts: AlertInstance[];
  timeline: IncidentEvent[];
  /** The runbook pinned at open, parsed; null when the incident had none. */
  runbook: Runbook | null;
  checks: ReadonlyMap<string, StepCheck>;
  followUps: FollowUp[];
  contactName(id: string): string;
  /** Title of the MON- id in the matrix, when known. */
  monTitle: string | null;
  pageUrl: string;
  now: Date;
}

/** Text in markdown that must stay text: no HTML, no links, no table breaks. */
function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, '\\$&').replace(/\r?\n/g, ' ');
}

const who = (name: string | null) => (name ? md(name) : 'system');

export function retroMarkdown(input: RetroInput): string {
  const { incident, runbook, checks } = input;
  const refs: AlertRefs | null = alertRefsOf(input.alerts);
  const ctx: EventContext = { chain: incident.escalation_chain, contactName: input.contactName, refs };
  const out: string[] = [];
  const since = (d: Date | null) => (d ? ` (after ${span(d.getTime() - incident.opened_at.getTime())})` : '');

  out.push(`# Incident #${incident.id}: ${md(incident.mon_id ?? 'no MON- id')} ${md(input.monTitle ?? incident.title)}`, '');
  out.push(`Retro summary generated ${utcMinute(input.now)} from ${input.pageUrl}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Severity | ${md(incident.severity)} |`);
  out.push(`| Status | ${incident.status}${incident.flapping ? ' (flapping)' : ''} |`);
  out.push(`| Runbook | ${runbook ? `${runbook.id} ${md(runbook.title)} (version pinned at open, sha256 ${incident.runbook_hash?.slice(0, 12)})` : 'none: no runbook for this alert'} |`);
  out.push(`| Alert title | ${md(incident.title)} |`);
  out.push(`| Opened | ${utcMinute(incident.opened_at)} |`);
  out.push(`| Acknowledged | ${incident.acknowledged_at ? `${utcMinute(incident.acknowledged_at)} by ${who(incident.acknowledged_by)}${since(incident.acknowledged_at)}` : 'no'} |`);
  out.push(`| Resolved | ${incident.resolved_at ? `${utcMinute(incident.resolved_at)} by ${who(incident.resolved_by)}${since(incident.resolved_at)}` : 'no'} |`);
  const chain = incident.escalation_chain.map((id, i) => `${i + 1}. ${md(input.contactName(id))}`).join(', ');
  out.push(`| Escalation | level ${incident.escalation_level} of ${incident.escalation_chain.length}${chain ? ` (${chain})` : ''} |`);
  if (incident.reopen_count) out.push(`| Reopened | ${incident.reopen_count}× |`);
  out.push('');

  out.push('## Alerts', '');
  if (!input.alerts.length) out.push('None recorded.');
  for (const a of input.alerts) {
    out.push(`- **${md(a.source)}** ${a.status}: ${md(a.title)} (started ${utcMinute(a.starts_at)}, last seen ${utcMinute(a.last_seen_at)})${a.url && /^https?:\/\//i.test(a.url) ? ` <${encodeURI(a.url)}>` : ''}`);
    const labels = Object.entries(a.labels).map(([k, v]) => `${md(k)}=${md(String(v))}`);
    if (labels.length) out.push(`  - labels: ${labels.join(', ')}`);
    const values = Object.entries(a.values).map(([k, v]) => `${md(k)}=${md(String(v))}`);
    if (values.length) out.push(`  - values: ${values.join(', ')}`);
  }
  out.push('');

  out.push('## Timeline (UTC)', '', '| Time | Who | What |', '|---|---|---|');
  let day = '';
  for (const e of input.timeline) {
    const d = utcDay(e.at);
    const time = d === day ? utcClock(e.at) : `${d} ${utcClock(e.at)}`;
    day = d;
    out.push(`| ${time} | ${who(e.actor)} | ${md(describeEvent(e, ctx).text)} |`);
  }
  out.push('');

  out.push('## Runbook record', '');
  if (!runbook) {
    out.push('No runbook: this alert has no runbook in the matrix. Write one, or route the MON- id to an existing runbook.');
  } else {
    const box = (key: string, text: string) => {
      const c = checks.get(key);
      return `- [${c?.checked ? 'x' : ' '}] ${md(fillRefsText(text, refs))}${c?.checked ? ` — ${md(c.by)}, ${utcMinute(c.at)}` : ''}`;
    };
    const timings = stepTimings(runbook, checks, { ...incidentStepClock({ ...incident, timeline: input.timeline }, checks), now: input.now, active: false });
    if (runbook.prerequisites.length) {
      out.push('### Prerequisites', '');
      for (const p of runbook.prerequisites) out.push(box(p.key, p.text));
      out.push('');
    }
    for (const step of runbook.steps) {
      const t = timings.get(step.key);
      const parts: string[] = [];
      if (t?.expectedMs != null) parts.push(`expected ${durationText(t.expectedMs)}${t.maxMs != null ? `, max ${durationText(t.maxMs)}` : ''}`);
      if (t?.actualMs != null) parts.push(`took ${span(t.actualMs)}${t.state === 'overrun' ? ' — OVERRUN' : t.state === 'over' ? ' — over the estimate' : ''}`);
      else parts.push('not done');
      out.push(`### Step ${step.number}: ${md(step.title)} (${parts.join('; ')})`, '');
      out.push(box(step.key, 'Step done'));
      for (const v of step.verification) out.push(box(v.key, v.text));
      if (step.checkpoint) out.push(box(checkpointKey(step), 'Manual checkpoint confirmed'));
      out.push('');
    }
  }

  out.push('## Follow-ups', '');
  if (!input.followUps.length) out.push(incident.status === 'resolved' ? 'None: the runbook has no post-incident checklist.' : 'Created when the incident resolves.');
  for (const f of input.followUps) out.push(`- [${f.done ? 'x' : ' '}] ${md(f.text)}${f.done && f.doneAt ? ` — ${who(f.doneBy)}, ${utcMinute(f.doneAt)}` : ''}`);
  out.push('');
  return out.join('\n');
}
