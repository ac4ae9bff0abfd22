// Matrix gates that need the parsed matrix as a whole (the matrix stays usable; only lint reports them).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { lintCatalog } from '../../src/runbooks/lint.js';
import { LINT_OPTIONS, lineOf, MATRIX, RUN_101, RUN_102, writeCatalog } from './helpers.js';

async function lint(matrix: string) {
  const { dir, cleanup } = await writeCatalog({ 'RUN-101.md': RUN_101, 'RUN-102.md': RUN_102, 'matrix.yml': matrix });
  try {
    const catalog = await loadCatalog(dir);
    expect(catalog.matrix).not.toBeNull();
    return lintCatalog(catalog, LINT_OPTIONS).map((f) => ({ ...f, file: path.basename(f.file) }));
  } finally {
    await cleanup();
  }
}

describe('matrix-invalid: a chain that can never get past level 1', () => {
  it('is an error at the alert when its paging severity has no ack_within', async () => {
    const matrix = MATRIX.replace('critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }', 'critical: { repeat_every: 10m, drill_every: 30d }');
    const findings = (await lint(matrix)).filter((f) => f.rule === 'matrix-invalid');
    expect(findings).toEqual([
      {
        file: 'matrix.yml',
        line: lineOf(matrix, 'MON-101:'),
        severity: 'error',
        rule: 'matrix-invalid',
        message: 'alerts.MON-101.escalation: severity "critical" has no ack_within, so platform-lead is never notified; add ack_within to severities.critical or shorten the chain',
      },
    ]);
  });

  it('is an error at default: for the default chain', async () => {
    const matrix = MATRIX.replace('warning:  { ack_within: 30m, drill_every: 90d }', 'warning:  { drill_every: 90d }').replace('  escalation: [platform-oncall]\n', '  escalation: [platform-oncall, platform-lead]\n');
    const findings = (await lint(matrix)).filter((f) => f.rule === 'matrix-invalid');
    expect(findings.map((f) => `${f.line}: ${f.message}`)).toEqual([`${lineOf(matrix, 'default:')}: default.escalation: severity "warning" has no ack_within, so platform-lead is never notified; add ack_within to severities.warning or shorten the chain`]);
  });

  it('is not reported for a one-contact chain, a severity that does not page, or one with ack_within', async () => {
    const oneContact = MATRIX.replace('critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }', 'critical: { repeat_every: 10m }').replace('escalation: [platform-oncall, platform-lead]', 'escalation: [platform-oncall]');
    const noPaging = MATRIX.replace('critical: { ack_within: 5m, repeat_every: 10m, drill_every: 30d }', 'critical: { page: false }');
    for (const matrix of [oneContact, noPaging, MATRIX]) expect((await lint(matrix)).filter((f) => f.rule === 'matrix-invalid')).toEqual([]);
  });
});
