// The weekly report's content: plain JSON (stored in reports.content, served by the API, rendered to markdown and HTML).
// All instants are ISO strings; all durations are milliseconds.

export interface ReportRunbookRef {
  runbookId: string;
  title: string;
  owner: string | null;
}

export interface ReportStaleRunbook extends ReportRunbookRef {
  /** Effective last tested (YYYY-MM-DD in the report's time zone). */
  lastTested: string;
  /** Which date won: the file's `Last Tested:` or a passed drill. */
  lastTestedBy: 'file' | 'drill';
  ageDays: number;
}

export interface ReportDrill {
  id: number;
  runbookId: string;
  trigger: 'cadence' | 'escalation' | 'manual';
  status: string;
  reason: string;
  dueAt: string;
  incidentId: number | null;
  /** For overdue drills: whole days past due as of the report. */
  daysOverdue: number;
}

export interface ReportDoneDrill {
  id: number;
  runbookId: string;
  completedAt: string;
  outcome: 'passed' | 'gaps_found' | null;
  gaps: string | null;
}

export interface ReportCoverage {
  /** Matrix alerts whose `runbook:` is missing or names no runbook in the catalog. */
  monIdsWithoutRunbook: { monId: string; title: string; runbookId: string | null }[];
  /** Incident runbooks no matrix alert leads to. */
  unreachedRunbooks: ReportRunbookRef[];
  /** Alerts seen in the report period whose MON- id is missing (`monId` null) or not in the matrix. */
  unknownAlerts: { monId: string | null; incidents: number; alerts: number; sources: string[]; lastSeenAt: string; example: string }[];
}

export interface ReportLintFinding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

export interface ResponseStats {
  incidents: number;
  acknowledged: number;
  resolved: number;
  /** Mean time from open to the first acknowledgement, over the acknowledged ones; null when none. */
  mttaMs: number | null;
  /** Mean time from open to the first resolution, over the resolved ones; null when none. */
  mttrMs: number | null;
}

export interface ReportIncident {
  id: number;
  monId: string | null;
  runbookId: string | null;
  severity: string;
  title: string;
  status: string;
  openedAt: string;
  ttaMs: number | null;
  ttrMs: number | null;
  maxEscalationLevel: number;
  flapping: boolean;
}

export interface ReportEscalation {
  incidentId: number;
  monId: string | null;
  runbookId: string | null;
  severity: string;
  title: string;
  /** Escalations past level 1 and repeats of the last level, in the period. */
  escalations: number;
  maxLevel: number;
}

export interface ReportFlapping {
  incidentId: number;
  monId: string | null;
  runbookId: string | null;
  title: string;
  reopenCount: number;
}

export interface ReportFailedNotification {
  notificationId: number | null;
  incidentId: number | null;
  reportId: number | null;
  kind: string;
  contactId: string;
  attempts: number;
  error: string;
  at: string;
}

export interface ReportFollowUp {
  id: number;
  incidentId: number;
  runbookId: string | null;
  text: string;
  createdAt: string;
  ageDays: number;
}

export interface ReportOverrun {
  subject: 'incident' | 'drill';
  subjectId: number;
  runbookId: string;
  stepKey: string;
  stepNumber: number;
  stepTitle: string;
  expectedMs: number;
  maxMs: number | null;
  actualMs: number;
  overMax: boolean;
}

export interface ReportChartDay {
  /** YYYY-MM-DD in the report's time zone. */
  date: string;
  incidents: number;
  mttaMs: number | null;
}

export interface WeeklyReport {
  /** The ISO week the report is made in (one report per week). */
  week: string;
  timeZone: string;
  generatedAt: string;
  /** The moment the catalog state (untested, stale, drills, follow-ups) is judged at. */
  asOf: string;
  staleAfterDays: number;
  /** "Last week": the ISO week before `week`, whose incidents the report counts. */
  period: { week: string; start: string; end: string };
  /** The report's own week: drills due in it are "due this week". */
  thisWeek: { start: string; end: string };
  runbookCount: number;
  untested: ReportRunbookRef[];
  stale: ReportStaleRunbook[];
  drills: { overdue: ReportDrill[]; dueThisWeek: ReportDrill[]; completedLastWeek: ReportDoneDrill[] };
  coverage: ReportCoverage;
  lint: { errors: ReportLintFinding[]; warnings: number };
  incidents: {
    list: ReportIncident[];
    overall: ResponseStats;
    bySeverity: (ResponseStats & { severity: string })[];
    byRunbook: (ResponseStats & { runbookId: string | null })[];
    escalations: ReportEscalation[];
    flapping: ReportFlapping[];
    failedNotifications: ReportFailedNotification[];
  };
  followUps: ReportFollowUp[];
  overruns: ReportOverrun[];
  chart: ReportChartDay[];
}
