import { describe, expect, it } from 'vitest';
import { parseMatrix } from '../../src/runbooks/matrix.js';
import { lineOf, MATRIX } from './helpers.js';

describe('parseMatrix', () => {
  it('reads severities, contacts, default and alerts in camelCase with milliseconds', () => {
    const { matrix, findings } = parseMatrix(MATRIX);
    expect(findings).toEqual([]);
    expect(matrix!.severities).toEqual({
      critical: { ackWithinMs: 300_000, repeatEveryMs: 600_000, drillEveryMs: 30 * 86_400_000, page: true },
      warning: { ackWithinMs: 1_800_000, repeatEveryMs: null, drillEveryMs: 90 * 86_400_000, page: true },
      info: { ackWithinMs: null, repeatEveryMs: null, drillEveryMs: 180 * 86_400_000, page: false },
    });
    expect(matrix!.contacts['platform-lead']).toEqual({
      id: 'platform-lead', name: 'Platform Team Lead', notify: [{ type: 'webhook', url: 'https://ops.example.com/page/platform-lead' }], line: 7,
    });
    expect(matrix!.default).toEqual({ severity: 'warning', escalation: ['platform-oncall'] });
    expect(matrix!.alerts['MON-101']).toEqual({
      monId: 'MON-101', title: 'Redis evictions above 1000/s', runbookId: 'RUN-101', severity: 'critical',
      escalation: ['platform-oncall', 'platform-lead'], line: 12, runbookLine: 14,
    });
  });

  it('normalises alert keys and gives an alert without escalation the default chain', () => {
    const { matrix, findings } = parseMatrix(`${MATRIX}  mon-7:\n    runbook: RUN-101\n    severity: info\n`);
    expect(findings).toEqual([]);
    expect(matrix!.alerts['MON-7']).toMatchObject({ monId: 'MON-7', title: 'MON-7', escalation: ['platform-oncall'] });
  });

  it('names the path and line of an unknown severity', () => {
    const text = MATRIX.replace('severity: critical', 'severity: critcal');
    const { matrix, findings } = parseMatrix(text, 'matrix.yml');
    expect(matrix).toBeNull();
    expect(findings).toEqual([{
      file: 'matrix.yml', line: lineOf(text, 'critcal'), severity: 'error', rule: 'matrix-invalid',
      message: 'alerts.MON-101.severity: "critcal" is not a severity (one of critical, warning, info)',
    }]);
  });

  it('reports an unknown contact as matrix-unknown-contact with its index', () => {
    const text = MATRIX.replace('escalation: [platform-oncall, platform-lead]', 'escalation: [platform-oncall, db-lead]');
    const { matrix, findings } = parseMatrix(text);
    expect(matrix).toBeNull();
    expect(findings).toEqual([expect.objectContaining({ rule: 'matrix-unknown-contact', line: lineOf(text, 'db-lead'), message: 'alerts.MON-101.escalation[1]: no contact "db-lead" under contacts' })]);
  });

  it('rejects alert keys that are not MON- ids, and duplicates after normalising', () => {
    const text = `${MATRIX}  XMON-9:\n    severity: info\n  mon-101:\n    severity: info\n`;
    const { findings } = parseMatrix(text);
    expect(findings.map((f) => [f.rule, f.line, f.message.split(':')[0]])).toEqual([
      ['matrix-invalid', lineOf(text, 'XMON-9'), 'alerts.XMON-9'],
      ['matrix-invalid', lineOf(text, 'mon-101'), 'alerts.mon-101'],
    ]);
  });

  it('reports schema problems with their paths: bad duration, unknown key, bad URL, bad runbook id, missing default', () => {
    const text = MATRIX.replace('ack_within: 30m', 'ack_within: 30 minutes')
      .replace('critical: { ack_within: 5m,', 'critical: { ack_whithin: 5m,')
      .replace('https://ops.example.com/page/platform-lead', 'ops.example.com')
      .replace('runbook: RUN-101', 'runbook: run 101')
      .replace('default:\n  severity: warning\n  escalation: [platform-oncall]\n', '');
    const { matrix, findings } = parseMatrix(text);
    expect(matrix).toBeNull();
    const byPath = Object.fromEntries(findings.map((f) => [f.message.split(': ')[0], f]));
    expect(byPath['severities.warning.ack_within']).toMatchObject({ rule: 'matrix-invalid', line: lineOf(text, '30 minutes') });
    expect(byPath['severities.warning.ack_within']!.message).toContain('expected a duration');
    expect(byPath['severities.critical.ack_whithin']).toMatchObject({ line: lineOf(text, 'ack_whithin'), message: 'severities.critical.ack_whithin: unknown key "ack_whithin"' });
    expect(byPath['contacts.platform-lead.notify[0].url']).toMatchObject({ line: lineOf(text, 'ops.example.com') });
    expect(byPath['alerts.MON-101.runbook']).toMatchObject({ line: lineOf(text, 'run 101') });
    expect(byPath['default']!.message).toBe('default: required (object)');
    expect(findings).toHaveLength(5);
  });

  it('refuses zero and sub-tick escalation durations and sub-day drill cadences, at their line, saying why', () => {
    const text = MATRIX.replace('critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }', 'critical: { ack_within: 0s, repeat_every: 500ms, drill_every: 30d }')
      .replace('warning:  { ack_within: 30m, drill_every: 90d }', 'warning:  { ack_within: 30m, drill_every: 0d }')
      .replace('info:     { page: false, drill_every: 180d }', 'info:\n    page: false\n    drill_every: 30m');
    const { matrix, findings } = parseMatrix(text);
    expect(matrix).toBeNull();
    expect(findings.map((f) => [f.rule, f.line, f.message.split(': ')[0]])).toEqual([
      ['matrix-invalid', lineOf(text, 'ack_within: 0s'), 'severities.critical.ack_within'],
      ['matrix-invalid', lineOf(text, 'repeat_every: 500ms'), 'severities.critical.repeat_every'],
      ['matrix-invalid', lineOf(text, 'drill_every: 0d'), 'severities.warning.drill_every'],
      ['matrix-invalid', lineOf(text, 'drill_every: 30m'), 'severities.info.drill_every'],
    ]);
    const message = (path: string) => findings.find((f) => f.message.startsWith(`${path}: `))!.message;
    expect(message('severities.critical.ack_within')).toMatch(/^severities\.critical\.ack_within: "0s" is too short, it must be at least 1s: escalation runs once a second, so a shorter ack_within pages the next level on every tick/);
    expect(message('severities.critical.repeat_every')).toMatch(/"500ms" is too short, it must be at least 1s: .*pages the last level on every tick/);
    expect(message('severities.info.drill_every')).toMatch(/"30m" is too short, it must be at least 1d: a drill is a rehearsal/);
  });

  it('accepts the shortest durations that work: 1s escalation steps, a daily drill', () => {
    const text = MATRIX.replace('critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }', 'critical: { ack_within: 1s, repeat_every: 1000ms, drill_every: 24h }');
    const { matrix, findings } = parseMatrix(text);
    expect(findings).toEqual([]);
    expect(matrix!.severities.critical).toEqual({ ackWithinMs: 1000, repeatEveryMs: 1000, drillEveryMs: 86_400_000, page: true });
  });

  it('reports YAML syntax errors at their line', () => {
    const text = MATRIX.replace('    escalation: [platform-oncall, platform-lead]', '    escalation: [platform-oncall, platform-lead\n  MON-102:');
    const { matrix, findings } = parseMatrix(text);
    expect(matrix).toBeNull();
    expect(findings[0]).toMatchObject({ rule: 'matrix-invalid', severity: 'error', message: expect.stringMatching(/^YAML: /) });
    expect(findings[0]!.line).toBeGreaterThanOrEqual(lineOf(text, 'escalation: [platform-oncall, platform-lead'));
  });
});
