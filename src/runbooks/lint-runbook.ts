// Quality gates of one runbook, from the seed's checklist (Actionable, Complete, Verifiable, Scoped,
// Escalatable, Tested, Maintained) and anti-patterns (too vague, too long, no verification).
import { lookalikeRefs, meantRef, REF_FORMS } from './alert-refs.js';
import type { Finding, Runbook, Step } from './runbook.js';
import { isVagueProse } from './vague.js';

export interface LintOptions {
  now: Date;
  /** `Last Tested:` older than this is a `stale` warning. */
  staleAfterDays: number;
}

export const MAX_STEPS = 50;
const DAY_MS = 86_400_000;
const FUTURE_SLACK_DAYS = 1;

export function lintRunbook(runbook: Runbook, knownIds: ReadonlySet<string>, options: LintOptions, whyMissing: ReadonlyMap<string, string> = new Map()): Finding[] {
  const findings: Finding[] = [];
  const add = (severity: Finding['severity'], rule: string, line: number, message: string) =>
    findings.push({ file: runbook.file, line, severity, rule, message });
  const { id, lines } = runbook;

  if (!runbook.owner) add('error', 'missing-owner', lines.owner ?? lines.id, `${id} has no owner; add "Owner: <team or role>" so someone keeps it current`);

  const { handles, doesNotHandle } = runbook.scope;
  if (!handles.length || !doesNotHandle.length) {
    const missing = [!handles.length && '**Handles**', !doesNotHandle.length && '**Does NOT handle**'].filter(Boolean).join(' and ');
    add('error', 'missing-scope', runbook.scope.line ?? lines.id, `Scope needs ${missing}: say what this runbook covers and what it does not (see RUN-xxx)`);
  }

  for (const step of runbook.steps) {
    const where = `step ${step.number}${step.title ? ` "${step.title}"` : ''}`;
    const hasInstructions = step.prose.trim() !== '';
    // An empty block or a `# TODO` placeholder gives the responder nothing to run, so it is no command.
    const hasCommands = step.commands.some((c) => isRunnable(c.code, c.lang));
    if (!hasCommands && !hasInstructions) {
      const why = step.commands.length ? 'no instructions, and its code block holds nothing to run (only blank lines or comments)' : 'neither a command block nor instructions';
      add('error', 'missing-commands', step.line, `${where} has ${why}`);
    } else if (!hasCommands && isVagueProse(step.prose)) {
      add('error', 'vague-step', step.line, `${where} only says "${step.prose.trim().split('\n')[0]}"; write the exact commands and checks for someone on their first day`);
    }
    if (!step.verification.length) {
      add('error', 'missing-verification', step.line, `${where} has no verification; add "Verification:" and "- [ ] <how to confirm it worked>"`);
    }
  }
  const misnumbered = firstMisnumbered(runbook.steps);
  if (misnumbered) {
    const { step, position } = misnumbered;
    add('warning', 'step-order', step.line, `step ${step.number} is the ${ordinal(position)} step (steps ${runbook.steps.map((s) => s.number).join(', ')}); number them 1 to ${runbook.steps.length} in order, as the responder reads them`);
  }
  if (runbook.steps.length > MAX_STEPS) {
    add('error', 'too-long', lines.procedure ?? lines.id, `${runbook.steps.length} steps (more than ${MAX_STEPS}); split it into focused runbooks`);
  }

  const { escalation } = runbook;
  const missingEscalation = (['when', 'who', 'what'] as const).filter((k) => !escalation[k]);
  if (missingEscalation.length) {
    const labels = { when: 'When to escalate', who: 'Who to contact', what: 'What to provide' };
    const what = escalation.line === null ? 'no "## Escalation" section' : `Escalation lacks ${missingEscalation.map((k) => `**${labels[k]}**`).join(', ')}`;
    add('error', 'missing-escalation', escalation.line ?? lines.id, `${what}; a responder must never reach a dead end`);
  }

  if (runbook.lastTested === null) {
    const why = runbook.lastTestedText === null ? 'no "Last Tested:" line' : `Last Tested: "${runbook.lastTestedText}" is not a YYYY-MM-DD date`;
    add('error', 'missing-last-tested', lines.lastTested ?? lines.id, `${why}; record the date of the last drill or real use`);
  } else {
    const ageDays = Math.floor((options.now.getTime() - Date.parse(`${runbook.lastTested}T00:00:00Z`)) / DAY_MS);
    // A date ahead of today (a typo like 2027 for 2026) would pass the stale gate for years. The date is the author's
    // local day, which runs up to a day ahead of UTC, so tomorrow (UTC) is still fine.
    if (ageDays < -FUTURE_SLACK_DAYS) {
      add('warning', 'last-tested-future', lines.lastTested ?? lines.id, `Last Tested: ${runbook.lastTested} is in the future (today is ${options.now.toISOString().slice(0, 10)}), so ${id} would never be reported stale; set it to the date of the last drill or real use`);
    } else if (ageDays > options.staleAfterDays) {
      add('warning', 'stale', lines.lastTested ?? lines.id, `last tested ${runbook.lastTested}, ${ageDays} days ago (limit ${options.staleAfterDays}); drill ${id} and, once the drill passes, update the "Last Tested:" line to the drill date`);
    }
  }

  for (const ref of runbook.references) {
    if (knownIds.has(ref.id)) continue;
    add('error', 'dangling-reference', ref.line, whyMissing.get(ref.id) ?? `${ref.id} is not a runbook in this catalog`);
  }

  // A warning, not an error: a command may hold a template of its own (`docker inspect -f '{{.State.Status}}'`).
  for (const { typed, line } of lookalikeRefs(runbook.text)) {
    const meant = meantRef(typed);
    add('warning', 'unknown-reference', line, `${typed} is not an alert reference (${REF_FORMS}), so the page shows it as typed${meant ? `; did you mean ${meant}?` : ''}`);
  }

  if (!runbook.postIncident.length) {
    add('warning', 'missing-post-incident', lines.postIncident ?? lines.id, `no post-incident checklist; add "## Post-Incident" with "- [ ] Document incident timeline", "- [ ] Update this runbook if steps were wrong/missing"`);
  }
  return findings;
}

// Line comments by a fence's language; `#` for shells and anything unlabelled. SQL's `--` placeholder is as empty as a `# TODO`.
const LINE_COMMENTS: [RegExp, string[]][] = [
  [/^(sql|psql|pgsql|postgres(ql)?|mysql|sqlite|plsql|tsql)$/i, ['--', '#']],
  [/^(js|javascript|ts|typescript|go|java|c|cpp|csharp|cs|rust|kotlin|swift|scala|groovy)$/i, ['//']],
  [/^(lua|haskell)$/i, ['--']],
];

/** Whether code holds a line other than blanks and its language's line comments. */
function isRunnable(code: string, lang = ''): boolean {
  const markers = LINE_COMMENTS.find(([re]) => re.test(lang))?.[1] ?? ['#'];
  return code.split('\n').some((line) => {
    const text = line.trim();
    return text !== '' && !markers.some((m) => text.startsWith(m));
  });
}

/** The first step whose number is not its place in the procedure; repeated numbers are the parser's error already. */
function firstMisnumbered(steps: readonly Step[]): { step: Step; position: number } | null {
  if (new Set(steps.map((s) => s.number)).size !== steps.length) return null;
  const index = steps.findIndex((s, i) => s.number !== i + 1);
  return index === -1 ? null : { step: steps[index]!, position: index + 1 };
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
