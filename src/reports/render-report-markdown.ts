// The weekly report as markdown: what the CLI prints, what is stored with the report and what the contacts receive.
import { formatDuration } from '../duration.js';
import { plural } from '../plural.js';
import { localDate } from './iso-week.js';
import type { ResponseStats, WeeklyReport } from './report-types.js';

/** The day of an instant on the report's calendar (REPORT_TZ): a UTC date is a day off for drills due at a day's end west of UTC. */
const day = (isoInstant: string, timeZone: string) => localDate(new Date(isoInstant), timeZone);
const ms = (v: number | null) => (v === null ? '—' : formatDuration(v));
/** Table cells: no pipes or line breaks from runbook titles, gaps or error texts. */
const cell = (text: string | number | null) => String(text ?? '—').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/**
 * "first to last" day of a report's period (Monday to Sunday) on the calendar of its time zone. The bounds are
 * instants at midnight in REPORT_TZ, so their UTC dates are a day off on one side in any zone but UTC.
 */
export function periodDays(start: Date | string, end: Date | string, timeZone: string): string {
  return `${localDate(new Date(start), timeZone)} to ${localDate(new Date(new Date(end).getTime() - 1), timeZone)}`;
}

function table(header: string[], rows: (string | number | null)[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function section(lines: string[], title: string, empty: string, body: string[]) {
  lines.push('', `## ${title}`, '');
  if (body.length) lines.push(...body);
  else lines.push(empty);
}

const statsRow = (label: string, s: ResponseStats) => [label, s.incidents, s.acknowledged, ms(s.mttaMs), s.resolved, ms(s.mttrMs)];
const STATS_HEADER = ['incidents', 'acknowledged', 'MTTA', 'resolved', 'MTTR'];

export function renderReportMarkdown(r: WeeklyReport, links: { publicUrl?: string } = {}): string {
  const url = (p: string) => (links.publicUrl ? `${links.publicUrl}${p}` : p);
  const lines: string[] = [];
  lines.push(`# Weekly runbook report ${r.week}`);
  lines.push('');
  lines.push(
    `Incidents of last week (${r.period.week}, ${periodDays(r.period.start, r.period.end, r.timeZone)}, ${r.timeZone}); catalog as of ${r.asOf.replace('T', ' ').slice(0, 16)} UTC.`,
  );
  lines.push('');
  lines.push(
    `**Summary:** ${plural(r.incidents.overall.incidents, 'incident')} (MTTA ${ms(r.incidents.overall.mttaMs)}, MTTR ${ms(r.incidents.overall.mttrMs)}), ` +
      `${plural(r.untested.length, 'untested runbook')}, ${plural(r.stale.length, 'stale runbook')} of ${r.runbookCount}, ` +
      `${plural(r.drills.overdue.length, 'overdue drill')}, ${plural(r.drills.dueThisWeek.length, 'drill')} due this week, ` +
      `${plural(r.lint.errors.length, 'lint error')}, ${plural(r.followUps.length, 'open follow-up')}.`,
  );

  section(lines, 'Untested runbooks', 'None: every runbook has a Last Tested date or a passed drill.', r.untested.length ? table(['runbook', 'title', 'owner'], r.untested.map((u) => [u.runbookId, u.title, u.owner])) : []);
  section(
    lines,
    `Stale runbooks (last tested more than ${r.staleAfterDays} days ago)`,
    'None.',
    r.stale.length ? table(['runbook', 'title', 'owner', 'last tested', 'by', 'days'], r.stale.map((s) => [s.runbookId, s.title, s.owner, s.lastTested, s.lastTestedBy === 'drill' ? 'passed drill' : 'Last Tested:', s.ageDays])) : [],
  );

  const drillRows = (list: WeeklyReport['drills']['overdue'], overdue: boolean) =>
    table(['drill', 'runbook', 'due', overdue ? 'days overdue' : 'status', 'why'], list.map((d) => [`[#${d.id}](${url(`/drills/${d.id}`)})`, d.runbookId, day(d.dueAt, r.timeZone), overdue ? d.daysOverdue : d.status, d.reason]));
  section(lines, 'Drills overdue', 'None.', r.drills.overdue.length ? drillRows(r.drills.overdue, true) : []);
  section(lines, 'Drills due this week', 'None.', r.drills.dueThisWeek.length ? drillRows(r.drills.dueThisWeek, false) : []);
  section(
    lines,
    'Drills completed last week',
    'None.',
    r.drills.completedLastWeek.length ? table(['drill', 'runbook', 'completed', 'outcome', 'gaps'], r.drills.completedLastWeek.map((d) => [`#${d.id}`, d.runbookId, day(d.completedAt, r.timeZone), d.outcome === 'gaps_found' ? 'gaps found' : d.outcome, d.gaps])) : [],
  );

  const cov = r.coverage;
  const coverage: string[] = [];
  for (const m of cov.monIdsWithoutRunbook) coverage.push(`- ${m.monId} (${m.title}): ${m.runbookId ? `runbook ${m.runbookId} does not exist` : 'no runbook'}`);
  for (const u of cov.unreachedRunbooks) coverage.push(`- ${u.runbookId} (${u.title}): Incident runbook no alert reaches`);
  for (const a of cov.unknownAlerts) {
    coverage.push(`- ${a.monId ? `${a.monId} (not in the matrix)` : 'no MON- id'}: ${plural(a.alerts, 'alert')} in ${plural(a.incidents, 'incident')} from ${a.sources.join(', ')}, e.g. "${a.example}"`);
  }
  section(lines, 'Coverage gaps', 'None: every alert has a runbook and every Incident runbook an alert.', coverage);

  section(
    lines,
    'Lint errors',
    `None (${plural(r.lint.warnings, 'warning')}; run \`runbook-router lint\`).`,
    r.lint.errors.length ? [...r.lint.errors.map((f) => `- ${f.file}:${f.line}: ${f.rule}: ${f.message}`), '', `(${plural(r.lint.warnings, 'warning')} not listed.)`] : [],
  );

  const inc = r.incidents;
  section(
    lines,
    `Last week's incidents (${inc.overall.incidents})`,
    'No incidents opened last week.',
    inc.list.length
      ? [
          ...table(['', ...STATS_HEADER], [statsRow('all', inc.overall), ...inc.bySeverity.map((s) => statsRow(s.severity, s)), ...inc.byRunbook.map((s) => statsRow(s.runbookId ?? 'no runbook', s))]),
          '',
          ...table(
            ['incident', 'MON-', 'runbook', 'severity', 'title', 'opened', 'to ack', 'to resolve', 'level'],
            inc.list.map((i) => [`[#${i.id}](${url(`/incidents/${i.id}`)})`, i.monId, i.runbookId, i.severity, i.title, i.openedAt.slice(0, 16).replace('T', ' '), ms(i.ttaMs), ms(i.ttrMs), i.maxEscalationLevel]),
          ),
        ]
      : [],
  );
  section(
    lines,
    'Escalations',
    'None past level 1.',
    inc.escalations.map((e) => `- #${e.incidentId} ${e.monId ?? 'no MON- id'} ${e.title} (${e.severity}): ${plural(e.escalations, 'escalation')}, up to level ${e.maxLevel}`),
  );
  section(lines, 'Flapping', 'None.', inc.flapping.map((f) => `- #${f.incidentId} ${f.monId ?? 'no MON- id'} ${f.title}: reopened ${plural(f.reopenCount, 'time')}`));
  section(
    lines,
    'Failed notifications',
    'None.',
    inc.failedNotifications.map((n) => `- ${n.at.slice(0, 16).replace('T', ' ')} ${n.kind} to ${n.contactId}${n.incidentId ? ` for #${n.incidentId}` : ''}${n.attempts ? ` after ${plural(n.attempts, 'attempt')}` : ''}: ${n.error}`),
  );
  section(
    lines,
    'Open post-incident follow-ups',
    'None.',
    r.followUps.length ? table(['incident', 'runbook', 'follow-up', 'age (days)'], r.followUps.map((f) => [`#${f.incidentId}`, f.runbookId, f.text, f.ageDays])) : [],
  );
  section(
    lines,
    'Steps that overran their Duration:',
    'None.',
    r.overruns.length
      ? table(
          ['where', 'runbook', 'step', 'expected', 'took'],
          r.overruns.map((o) => [`${o.subject} #${o.subjectId}`, o.runbookId, `${o.stepNumber}. ${o.stepTitle}`, `${formatDuration(o.expectedMs)}${o.maxMs !== null ? ` (max ${formatDuration(o.maxMs)})` : ''}`, `${formatDuration(o.actualMs)}${o.overMax ? ' (over max)' : ''}`]),
        )
      : [],
  );
  section(lines, 'Incidents per day', '', table(['day', 'incidents', 'MTTA'], r.chart.map((d) => [d.date, d.incidents, ms(d.mttaMs)])));
  lines.push('');
  return lines.join('\n');
}
