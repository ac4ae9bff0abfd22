// One test that triggers each lint rule (at the right line) and one that does not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { formatFindings, lintCatalog } from '../../src/runbooks/lint.js';
import { lintRunbook } from '../../src/runbooks/lint-runbook.js';
import { parseRunbook } from '../../src/runbooks/parse-runbook.js';
import type { Finding } from '../../src/runbooks/runbook.js';
import { isVagueProse } from '../../src/runbooks/vague.js';
import { fixture, LINT_OPTIONS, lineOf, MATRIX, RUN_101, RUN_102, writeCatalog } from './helpers.js';

const BASE = { 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'matrix.yml': MATRIX };

/** Lints `files` (merged over the clean base) in a temp dir; file names are reduced to their base name. */
async function lint(files: Record<string, string> = {}, options = LINT_OPTIONS): Promise<Finding[]> {
  const { dir, cleanup } = await writeCatalog({ ...BASE, ...files });
  try {
    return lintCatalog(await loadCatalog(dir), options).map((f) => ({ ...f, file: path.basename(f.file) }));
  } finally {
    await cleanup();
  }
}

const rule = (findings: Finding[], name: string) => findings.filter((f) => f.rule === name);
const at = (findings: Finding[], name: string) => rule(findings, name).map((f) => `${f.file}:${f.line}:${f.severity}`);

/** A step 3 to append to RUN-101's procedure (before its Escalation section). */
function withStep3(body: string): string {
  return RUN_101.replace('## Escalation', `### Step 3: Extra\n${body}\n\n## Escalation`);
}

describe('lintCatalog', () => {
  it('finds nothing in the clean base catalog', async () => {
    expect(await lint()).toEqual([]);
  });

  it('parse: a file without a RUN- line', async () => {
    const findings = await lint({ 'RUN-103.md': 'Just notes\n' });
    expect(at(findings, 'parse')).toEqual(['RUN-103.md:1:error']);
  });

  it('parse: a misspelt step heading is an error at its line, and that file is not linted as a runbook', async () => {
    const text = RUN_101.replace('### Step 2: Raise maxmemory', '### Step Two: Raise maxmemory');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'parse')).toEqual([`RUN-101.md:${lineOf(text, '### Step Two')}:error`]);
    expect(findings.filter((f) => f.file === 'RUN-101.md').map((f) => f.rule)).toEqual(['parse']);
  });

  it('missing-owner: empty Owner line, at that line', async () => {
    const text = RUN_101.replace('Owner: Platform Team', 'Owner:');
    expect(at(await lint({ 'RUN-101.md': text }), 'missing-owner')).toEqual([`RUN-101.md:${lineOf(text, 'Owner:')}:error`]);
    expect(rule(await lint(), 'missing-owner')).toEqual([]);
  });

  it('missing-scope: Does NOT handle absent, at the Scope heading', async () => {
    const text = RUN_101.replace('- **Does NOT handle**: Redis node crash (see RUN-102)\n', '');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'missing-scope')).toEqual([`RUN-101.md:${lineOf(text, '## Scope')}:error`]);
    expect(rule(findings, 'missing-scope')[0]!.message).toContain('Does NOT handle');
  });

  it('missing-verification: a step without verification items, at the step heading', async () => {
    const text = withStep3('Flush the cache:\n\n```bash\nredis-cli flushall\n```');
    expect(at(await lint({ 'RUN-101.md': text }), 'missing-verification')).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
  });

  it('missing-commands: a step with neither commands nor instructions', async () => {
    const text = withStep3('Verification:\n- [ ] done');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'missing-commands')).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
    // Instructions without a command block are fine (RUN-002's "Monitor for 30 Minutes").
    expect(rule(await lint({ 'RUN-101.md': withStep3('Watch the eviction graph for 10 minutes.\n\nVerification:\n- [ ] flat') }), 'missing-commands')).toEqual([]);
  });

  it('missing-commands: an empty code block, or one of only comments, is no command', async () => {
    for (const fence of ['```bash\n```', '```bash\n\n   \n```', '```bash\n# TODO\n  # fill in later\n```', '    # TODO', '```sql\n-- TODO: the query\n```', '```js\n// TODO\n```']) {
      const text = withStep3(`${fence}\n\nVerification:\n- [ ] done`);
      expect(at(await lint({ 'RUN-101.md': text }), 'missing-commands'), fence).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
    }
    const commented = withStep3('```bash\n# flush only the affected node\nredis-cli flushall\n```\n\nVerification:\n- [ ] done');
    expect(rule(await lint({ 'RUN-101.md': commented }), 'missing-commands')).toEqual([]);
    // A shell line that starts with -- or // is a command there, not a comment.
    const dashes = withStep3('```bash\n--dry-run is the default; run it anyway\n```\n\nVerification:\n- [ ] done');
    expect(rule(await lint({ 'RUN-101.md': dashes }), 'missing-commands')).toEqual([]);
    const sql = withStep3('```sql\n-- the long-running ones\nselect pid from pg_stat_activity;\n```\n\nVerification:\n- [ ] done');
    expect(rule(await lint({ 'RUN-101.md': sql }), 'missing-commands')).toEqual([]);
  });

  it('vague-step: vague prose with only an empty or comment-only code block', async () => {
    for (const fence of ['```\n```', '```bash\n# TODO\n```']) {
      const text = withStep3(`Investigate the issue:\n\n${fence}\n\nVerification:\n- [ ] fixed`);
      expect(at(await lint({ 'RUN-101.md': text }), 'vague-step'), fence).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
    }
  });

  it('vague-step: only "Investigate the issue" / "Check system" / "Fix it" / "Look into it"', async () => {
    for (const phrase of ['Investigate the issue.', 'Check system', '- Look into it\n- Fix it']) {
      const text = withStep3(`${phrase}\n\nVerification:\n- [ ] fixed`);
      expect(at(await lint({ 'RUN-101.md': text }), 'vague-step')).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
    }
  });

  it('vague-step: several vague sentences on one line', async () => {
    for (const phrase of ['Investigate the issue. Check system.', 'Check the logs! Fix it.', '- Look into it. Resolve the problem as needed.']) {
      const text = withStep3(`${phrase}\n\nVerification:\n- [ ] fixed`);
      expect(at(await lint({ 'RUN-101.md': text }), 'vague-step'), phrase).toEqual([`RUN-101.md:${lineOf(text, '### Step 3')}:error`]);
    }
  });

  it('isVagueProse: a line is vague only when every sentence in it is', () => {
    expect(isVagueProse('Investigate the issue. Check system.')).toBe(true);
    expect(isVagueProse('Investigate the issue? Fix it.')).toBe(true);
    expect(isVagueProse('Investigate the issue. Compare `evicted_keys` with the value an hour ago.')).toBe(false);
    expect(isVagueProse('Check the logs, e.g. the last 24h in Datadog. Fix it.')).toBe(false);
    expect(isVagueProse('Review v1.2 release notes.')).toBe(false);
  });

  it('vague-step: not for concrete bullets like the seed RUN-001 step 4, nor for vague prose with commands', async () => {
    const concrete = withStep3('- Check recent deployments (last 24h via git log)\n- Review application logs for query patterns (Datadog logs)\n- Check for missing indexes on recent queries\n\nVerification:\n- [ ] cause noted');
    expect(rule(await lint({ 'RUN-101.md': concrete }), 'vague-step')).toEqual([]);
    const mixed = withStep3('Investigate the issue.\nCompare `evicted_keys` in `redis-cli info stats` with the value an hour ago.\n\nVerification:\n- [ ] compared');
    expect(rule(await lint({ 'RUN-101.md': mixed }), 'vague-step')).toEqual([]);
    const withCommands = withStep3('Investigate the issue:\n\n```bash\nredis-cli slowlog get 20\n```\n\nVerification:\n- [ ] noted');
    expect(rule(await lint({ 'RUN-101.md': withCommands }), 'vague-step')).toEqual([]);
  });

  it('missing-escalation: What to provide absent, at the Escalation heading', async () => {
    const text = RUN_101.replace('- **What to provide**: INFO output, eviction graph\n', '');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'missing-escalation')).toEqual([`RUN-101.md:${lineOf(text, '## Escalation')}:error`]);
    expect(rule(findings, 'missing-escalation')[0]!.message).toContain('What to provide');
  });

  it('missing-escalation: not when the labels are followed by nested lists, as Scope allows', async () => {
    const text = RUN_101.replace('- **Who to contact**: Platform Team Lead (PagerDuty)', '- **Who to contact**:\n  - Platform Team Lead (PagerDuty)\n  - Slack #platform')
      .replace('- **What to provide**: INFO output, eviction graph', '- **What to provide**:\n  - INFO output\n  - eviction graph');
    expect(rule(await lint({ 'RUN-101.md': text }), 'missing-escalation')).toEqual([]);
    const { escalation } = parseRunbook(text, 'RUN-101.md').runbook!;
    expect(escalation).toMatchObject({ who: 'Platform Team Lead (PagerDuty); Slack #platform', what: 'INFO output; eviction graph' });
    expect(escalation.lines).toEqual({ when: lineOf(text, 'When to escalate'), who: lineOf(text, 'Who to contact'), what: lineOf(text, 'What to provide') });
  });

  it('missing-last-tested: absent, or not a date, at its line', async () => {
    const absent = RUN_101.replace('Last Tested: 2026-11-01\n', '');
    expect(at(await lint({ 'RUN-101.md': absent }), 'missing-last-tested')).toEqual(['RUN-101.md:1:error']);
    const notADate = RUN_101.replace('Last Tested: 2026-11-01', 'Last Tested: last week');
    const findings = await lint({ 'RUN-101.md': notADate });
    expect(at(findings, 'missing-last-tested')).toEqual(['RUN-101.md:5:error']);
    expect(rule(findings, 'missing-last-tested')[0]!.message).toContain('"last week" is not a YYYY-MM-DD date');
  });

  it('too-long: 51 steps is an error, 50 is not', async () => {
    const steps = (n: number) =>
      Array.from({ length: n }, (_, i) => `### Step ${i + 1}: Shard ${i + 1}\n\`\`\`bash\nredis-cli -n ${i} dbsize\n\`\`\`\nVerification:\n- [ ] counted`).join('\n\n');
    const long = RUN_102.replace(/### Step 1: Fail Over[\s\S]*?(?=## Escalation)/, `${steps(51)}\n\n`);
    expect(at(await lint({ 'RUN-102.md': long }), 'too-long')).toEqual([`RUN-102.md:${lineOf(long, '## Procedure')}:error`]);
    const fifty = RUN_102.replace(/### Step 1: Fail Over[\s\S]*?(?=## Escalation)/, `${steps(50)}\n\n`);
    const findings = await lint({ 'RUN-102.md': fifty });
    expect(rule(findings, 'too-long')).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('dangling-reference: "see RUN-999" names no runbook; RUN-102 exists', async () => {
    const text = RUN_101.replace('Redis node crash (see RUN-102)', 'Redis node crash (see RUN-102), Sentinel failures (see RUN-999)');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'dangling-reference')).toEqual([`RUN-101.md:${lineOf(text, 'RUN-999')}:error`]);
    expect(rule(findings, 'dangling-reference')[0]!.message).toContain('RUN-999');
  });

  it('dangling-reference: in Linked IDs, at that line', async () => {
    const text = RUN_101.replace('Linked IDs: MON-101, RUN-102', 'Linked IDs: MON-101, RUN-102/105');
    expect(at(await lint({ 'RUN-101.md': text }), 'dangling-reference')).toEqual([`RUN-101.md:${lineOf(text, 'Linked IDs')}:error`]);
  });

  it('duplicate-id: a second file with the same id, in that file', async () => {
    const findings = await lint({ 'RUN-101b.md': RUN_101 });
    expect(at(findings, 'duplicate-id')).toEqual(['RUN-101b.md:1:error']);
    expect(rule(findings, 'duplicate-id')[0]!.message).toContain('RUN-101.md:1');
  });

  it('matrix-unknown-runbook: at the runbook value in matrix.yml', async () => {
    const matrix = MATRIX.replace('runbook: RUN-101', 'runbook: RUN-199');
    const findings = await lint({ 'matrix.yml': matrix });
    expect(at(findings, 'matrix-unknown-runbook')).toEqual([`matrix.yml:${lineOf(matrix, 'RUN-199')}:error`]);
    expect(rule(findings, 'matrix-unknown-runbook')[0]!.message).toBe('alerts.MON-101.runbook: RUN-199 does not exist');
  });

  it('matrix-unknown-contact and matrix-invalid come through lint with their paths', async () => {
    const matrix = MATRIX.replace('escalation: [platform-oncall]', 'escalation: [nobody]').replace('severity: critical', 'severity: urgent');
    const findings = await lint({ 'matrix.yml': matrix });
    expect(at(findings, 'matrix-unknown-contact')).toEqual([`matrix.yml:${lineOf(matrix, '[nobody]')}:error`]);
    expect(rule(findings, 'matrix-invalid').map((f) => [f.line, f.message.split(':')[0]])).toEqual([[lineOf(matrix, 'urgent'), 'alerts.MON-101.severity']]);
  });

  it('stale: older than staleAfterDays is a warning that says to update Last Tested after a passed drill', async () => {
    const text = RUN_101.replace('Last Tested: 2026-11-01', 'Last Tested: 2026-05-01');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'stale')).toEqual(['RUN-101.md:5:warning']);
    expect(rule(findings, 'stale')[0]!.message).toMatch(/205 days ago \(limit 90\).*update the "Last Tested:" line/);
    expect(rule(await lint({ 'RUN-101.md': text }, { ...LINT_OPTIONS, staleAfterDays: 365 }), 'stale')).toEqual([]);
  });

  it('last-tested-future: a date after today is a warning at the Last Tested line (and never stale)', async () => {
    const text = RUN_101.replace('Last Tested: 2026-11-01', 'Last Tested: 2027-11-05');
    const findings = await lint({ 'RUN-101.md': text });
    expect(at(findings, 'last-tested-future')).toEqual(['RUN-101.md:5:warning']);
    expect(rule(findings, 'last-tested-future')[0]!.message).toBe('Last Tested: 2027-11-05 is in the future (today is 2026-11-22), so RUN-101 would never be reported stale; set it to the date of the last drill or real use');
    expect(rule(findings, 'stale')).toEqual([]);
    // Two days ahead of UTC is more than any time zone explains.
    const dayAfterTomorrow = RUN_101.replace('Last Tested: 2026-11-01', 'Last Tested: 2026-11-24');
    expect(at(await lint({ 'RUN-101.md': dayAfterTomorrow }), 'last-tested-future')).toEqual(['RUN-101.md:5:warning']);
  });

  it('last-tested-future: today and tomorrow (UTC) are fine, tomorrow being today east of UTC', async () => {
    for (const date of ['2026-11-22', '2026-11-23']) {
      const text = RUN_101.replace('Last Tested: 2026-11-01', `Last Tested: ${date}`);
      expect(rule(await lint({ 'RUN-101.md': text }), 'last-tested-future'), date).toEqual([]);
      // Late in the UTC day it is already the day after in Kiribati (UTC+14).
      expect(rule(await lint({ 'RUN-101.md': text }, { ...LINT_OPTIONS, now: new Date('2026-11-22T23:59:00Z') }), 'last-tested-future'), date).toEqual([]);
    }
  });

  it('unreached-runbook: an Incident runbook no alert leads to (not other categories)', async () => {
    const matrix = MATRIX.replace(/alerts:[\s\S]*$/, 'alerts: {}\n');
    const findings = await lint({ 'matrix.yml': matrix });
    expect(at(findings, 'unreached-runbook')).toEqual(['RUN-101.md:3:warning']);
    expect(findings.every((f) => f.file !== 'RUN-102.md')).toBe(true);
  });

  it('trigger-mismatch: the matrix routes an alert the Trigger: line does not name', async () => {
    const matrix = `${MATRIX}  MON-102:\n    runbook: RUN-101\n    severity: warning\n`;
    const findings = await lint({ 'matrix.yml': matrix });
    expect(at(findings, 'trigger-mismatch')).toEqual(['RUN-101.md:3:warning']);
    expect(rule(findings, 'trigger-mismatch')[0]!.message).toContain('MON-102');
    const named = RUN_101.replace('Trigger: MON-101 alert', 'Trigger: MON-101 or MON-102 alert');
    expect(rule(await lint({ 'matrix.yml': matrix, 'RUN-101.md': named }), 'trigger-mismatch')).toEqual([]);
  });

  it('trigger-mismatch: the Trigger: line names an alert routed elsewhere', async () => {
    const text = RUN_102.replace('Trigger: Redis node crash reported by RUN-101 responders', 'Trigger: MON-101 alert');
    expect(at(await lint({ 'RUN-102.md': text }), 'trigger-mismatch')).toEqual(['RUN-102.md:3:warning']);
  });

  it('step-order: steps not numbered 1 to N in order, a warning at the first one out of place', async () => {
    const gap = RUN_101.replace('### Step 2: Raise maxmemory', '### Step 3: Raise maxmemory');
    const gapFindings = rule(await lint({ 'RUN-101.md': gap }), 'step-order');
    expect(gapFindings.map((f) => `${f.line}:${f.severity}`)).toEqual([`${lineOf(gap, '### Step 3')}:warning`]);
    expect(gapFindings[0]!.message).toBe('step 3 is the 2nd step (steps 1, 3); number them 1 to 2 in order, as the responder reads them');
    const swapped = RUN_101.replace('### Step 1: Check Memory', '### Step 2: Check Memory').replace('### Step 2: Raise maxmemory', '### Step 1: Raise maxmemory');
    expect(at(await lint({ 'RUN-101.md': swapped }), 'step-order')).toEqual([`RUN-101.md:${lineOf(swapped, '### Step 2: Check')}:warning`]);
    // A repeated number is the parser's error already.
    const repeated = RUN_101.replace('### Step 2: Raise maxmemory', '### Step 1: Raise maxmemory');
    expect(rule(await lint({ 'RUN-101.md': repeated }), 'step-order')).toEqual([]);
    expect(rule(await lint(), 'step-order')).toEqual([]);
  });

  it('unknown-reference: `{{...}}` that is not an alert reference, a warning at its line with the likely one', async () => {
    const text = RUN_101.replace('Check memory usage on the node:', 'Check memory on {{alert.annotations.summary}} and {{ alert.label.instance }}:').replace(
      'info memory',
      "info memory\ndocker inspect -f '{{.State.Status}}' redis",
    );
    const findings = rule(await lint({ 'RUN-101.md': text }), 'unknown-reference');
    expect(findings.map((f) => [f.line, f.severity, f.message])).toEqual([
      [lineOf(text, 'Check memory on'), 'warning', '{{alert.annotations.summary}} is not an alert reference ({{alert.title}}, {{alert.labels.<key>}} or {{alert.values.<key>}}), so the page shows it as typed; did you mean {{alert.values.summary}}?'],
      [lineOf(text, 'Check memory on'), 'warning', '{{ alert.label.instance }} is not an alert reference ({{alert.title}}, {{alert.labels.<key>}} or {{alert.values.<key>}}), so the page shows it as typed; did you mean {{alert.labels.instance}}?'],
      [lineOf(text, 'docker inspect'), 'warning', '{{.State.Status}} is not an alert reference ({{alert.title}}, {{alert.labels.<key>}} or {{alert.values.<key>}}), so the page shows it as typed'],
    ]);
    // The base catalog's {{alert.labels.instance}} and a reference with spaces are fine.
    expect(rule(await lint({ 'RUN-101.md': RUN_101.replace('{{alert.labels.instance}} info', '{{ alert.labels.instance }} info') }), 'unknown-reference')).toEqual([]);
  });

  it('missing-post-incident: a warning at the id line when the section is absent', async () => {
    const text = RUN_101.replace('## Post-Incident\n- [ ] Document incident timeline\n', '');
    expect(at(await lint({ 'RUN-101.md': text }), 'missing-post-incident')).toEqual(['RUN-101.md:1:warning']);
  });
});

describe('the seed runbooks as written', () => {
  const known = new Set(['RUN-001', 'RUN-002', 'RUN-003', 'RUN-004', 'RUN-005', 'RUN-010', 'RUN-011']);
  const lintSeed = (name: string) => {
    const runbook = parseRunbook(readFileSync(fixture(name), 'utf8'), name).runbook!;
    return lintRunbook(runbook, known, LINT_OPTIONS).map((f) => `${f.line}:${f.severity}:${f.rule}`);
  };

  it('RUN-001: step 4 lacks a verification (but is not vague); Last Tested 2025-02-20 is stale', () => {
    expect(lintSeed('RUN-001.md')).toEqual(['44:error:missing-verification', '5:warning:stale']);
  });

  it('RUN-002: only stale', () => {
    expect(lintSeed('RUN-002.md')).toEqual(['5:warning:stale']);
  });
});

describe('formatFindings', () => {
  it('prints file:line: severity rule: message and a summary', () => {
    const findings: Finding[] = [
      { file: 'runbooks/RUN-001.md', line: 4, severity: 'error', rule: 'missing-owner', message: 'no owner' },
      { file: 'runbooks/RUN-002.md', line: 5, severity: 'warning', rule: 'stale', message: 'old' },
      { file: 'runbooks/RUN-002.md', line: 9, severity: 'warning', rule: 'missing-post-incident', message: 'none' },
    ];
    expect(formatFindings(findings, 3)).toBe(
      'runbooks/RUN-001.md:4: error missing-owner: no owner\nrunbooks/RUN-002.md:5: warning stale: old\nrunbooks/RUN-002.md:9: warning missing-post-incident: none\n1 error, 2 warnings in 3 files',
    );
    expect(formatFindings([], 1)).toBe('0 errors, 0 warnings in 1 file');
  });
});
