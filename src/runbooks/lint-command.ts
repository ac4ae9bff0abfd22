// `runbook-router lint [DIR] [--format json] [--strict]`, for the CI of a runbook repository.
// Exit codes: 0 no errors, 1 errors, 2 the directory or its matrix.yml cannot be read (or bad usage).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { asksForHelp } from '../help-flag.js';
import { loadCatalog, MATRIX_FILE } from './catalog.js';
import { formatFindings, lintCatalog, summarize } from './lint.js';
import type { Finding } from './runbook.js';

export interface LintIo {
  /** Receives whole lines without the trailing newline (the CLI's writer adds it). */
  out: (s: string) => void;
  err: (s: string) => void;
  now: Date;
  env: Record<string, string | undefined>;
}

const USAGE = 'usage: runbook-router lint [DIR] [--format text|json] [--strict]   (DIR defaults to ./runbooks; STALE_AFTER_DAYS, default 90)';
const DEFAULT_STALE_AFTER_DAYS = 90;

interface LintArgs {
  dir: string;
  format: 'text' | 'json';
  strict: boolean;
}

/** `args` are the words after `lint`. */
export async function runLint(args: string[], io: LintIo): Promise<number> {
  if (asksForHelp(args)) {
    io.out(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`runbook-router lint: ${parsed}\n${USAGE}`);
    return 2;
  }
  const staleAfterDays = parseStaleAfterDays(io.env.STALE_AFTER_DAYS);
  if (staleAfterDays === null) {
    io.err(`runbook-router lint: STALE_AFTER_DAYS must be a positive whole number of days, got "${io.env.STALE_AFTER_DAYS}"`);
    return 2;
  }
  const unreadable = await checkReadable(parsed.dir);
  if (unreadable) {
    io.err(`runbook-router lint: ${unreadable}`);
    return 2;
  }

  let findings: Finding[];
  let filesChecked: number;
  try {
    const catalog = await loadCatalog(parsed.dir);
    findings = lintCatalog(catalog, { now: io.now, staleAfterDays });
    filesChecked = catalog.files.length;
  } catch (error) {
    io.err(`runbook-router lint: cannot read ${parsed.dir}: ${(error as Error).message}`);
    return 2;
  }
  if (parsed.strict) findings = findings.map((f) => (f.severity === 'warning' ? { ...f, severity: 'error' as const } : f));

  const summary = summarize(findings, filesChecked);
  if (parsed.format === 'json') io.out(JSON.stringify({ findings, summary }, null, 2));
  else io.out(formatFindings(findings, filesChecked));
  return summary.errors > 0 ? 1 : 0;
}

function parseArgs(args: string[]): LintArgs | string {
  const result: LintArgs = { dir: './runbooks', format: 'text', strict: false };
  let dirGiven = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--strict') result.strict = true;
    else if (arg === '--format' || arg.startsWith('--format=')) {
      const value = arg === '--format' ? args[++i] : arg.slice('--format='.length);
      if (value !== 'json' && value !== 'text') return `--format must be json or text, got ${value === undefined ? 'nothing' : `"${value}"`}`;
      result.format = value;
    } else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (dirGiven) return `only one directory can be linted, got "${result.dir}" and "${arg}"`;
    else {
      result.dir = arg;
      dirGiven = true;
    }
  }
  return result;
}

function parseStaleAfterDays(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return DEFAULT_STALE_AFTER_DAYS;
  return /^\d+$/.test(value.trim()) && Number(value) > 0 ? Number(value) : null;
}

/** Why `dir` or its matrix cannot be linted, or null. */
async function checkReadable(dir: string): Promise<string | null> {
  try {
    if (!(await stat(dir)).isDirectory()) return `${dir} is not a directory`;
  } catch {
    return `directory ${dir} not found`;
  }
  const matrix = path.join(dir, MATRIX_FILE);
  try {
    if (!(await stat(matrix)).isFile()) return `${matrix} is not a file`;
  } catch {
    return `${matrix} not found: every runbook directory needs the incident response matrix`;
  }
  return null;
}
