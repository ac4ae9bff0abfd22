import { z } from 'zod';
import { SOURCES, type Source } from './alerts/alert.js';
import type { WebhookSecrets } from './alerts/verify-signature.js';
import { durationSchema, durationWithin } from './duration.js';

/** Whole numbers from the environment, with the typed text echoed back in the error. */
function wholeNumber(min: number, max: number, expected: string) {
  return z.string().transform((text, ctx) => {
    const n = Number(text.trim());
    if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return n;
  });
}

// 0 asks the system for a free port (tests, benchmarks).
const port = wholeNumber(0, 65535, 'a number from 0 (any free port) to 65535');

function positiveInt(defaultValue: number) {
  return wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a whole number above 0').prefault(String(defaultValue));
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? null : v.trim()));

const list = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** A URL's password masked, for echoing a mistyped value back (container logs keep stderr). */
// Up to the last @: an unencoded /, ? or # in the password is what makes such a URL fail to parse.
const withoutPassword = (v: string) => v.replace(/^([^:/?#]*:\/\/[^:/?#@]*):.*@/, '$1:***@');

const url = (what: string, protocols?: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return null;
      try {
        const parsed = new URL(v);
        if (protocols && !protocols.includes(parsed.protocol)) throw new Error('unexpected protocol');
        return parsed.toString().replace(/\/$/, '');
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${JSON.stringify(withoutPassword(v))}` });
        return z.NEVER;
      }
    });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logLevel = z
  .string()
  .transform((v, ctx) => {
    const level = LOG_LEVELS.find((l) => l === v.trim().toLowerCase());
    if (!level) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return level;
  })
  .prefault('info');

/** Every setting the service reads, from the environment. README.md documents each one. */
const envSchema = z.object({
  PORT: port.prefault('3000'),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: url('a postgres:// URL', ['postgres:', 'postgresql:']),
  DATA_DIR: z.string().min(1).default('./data'),
  RUNBOOKS_DIR: z.string().min(1).default('./runbooks'),
  PUBLIC_URL: url('an absolute URL such as https://runbooks.example.com'),
  LOG_LEVEL: logLevel,
  MAX_BODY_BYTES: positiveInt(1_048_576),
  WEBHOOK_ANSWER_WITHIN: durationWithin({
    min: { ms: 10, why: 'shorter, nearly every delivery would be answered 503 before its commit could land' },
    max: { ms: 600_000, why: 'no monitoring tool waits that long for an answer (PagerDuty gives up after 5s)' },
  }).prefault('4500ms'),
  DB_POOL_SIZE: positiveInt(10),
  BATCH_MAX_WAIT: durationWithin({ max: { ms: 1000, why: 'every delivery waits up to this long for its answer' } }).prefault('5ms'),
  BATCH_MAX_SIZE: positiveInt(200),
  REOPEN_WINDOW: durationSchema.prefault('30m'),
  FLAPPING_AFTER: positiveInt(3),
  ESCALATION_TICK: durationWithin({
    min: { ms: 10, why: 'shorter, each process would query the database without pause' },
    max: { ms: 60_000, why: 'escalations and notifications would go out up to this late, and the matrix counts ack_within in seconds' },
  }).prefault('1s'),
  NOTIFY_TIMEOUT: durationWithin({
    min: { ms: 50, why: 'shorter, every notification would time out before a receiver could answer' },
    max: { ms: 300_000, why: 'a receiver that hangs would hold its notification, and the retry, that long' },
  }).prefault('5s'),
  NOTIFY_MAX_ATTEMPTS: positiveInt(8),
  NOTIFY_BACKOFF: durationWithin({
    min: { ms: 10, why: 'shorter, retries would hammer a receiver that is failing' },
    max: { ms: 300_000, why: 'retries are at most 5 minutes apart (the delay doubles up to that)' },
  }).prefault('1s'),
  STALE_AFTER_DAYS: positiveInt(90),
  REPORT_CRON: z.string().min(1).default('0 9 * * 1'),
  REPORT_TZ: z.string().min(1).default('UTC'),
  REPORT_CONTACTS: list,
  PAGERDUTY_WEBHOOK_SECRETS: list,
  GRAFANA_WEBHOOK_HMAC_SECRET: optionalText,
  // Unset: either of the names Grafana releases send by default (verify-signature.ts); set: only that one.
  GRAFANA_SIGNATURE_HEADER: optionalText,
  GRAFANA_TIMESTAMP_HEADER: z.string().min(1).default('X-Grafana-Alerting-Timestamp'),
  GRAFANA_TIMESTAMP_TOLERANCE_S: positiveInt(300),
  ALERTMANAGER_WEBHOOK_TOKEN: optionalText,
  DATADOG_WEBHOOK_TOKEN: optionalText,
  TRUSTED_USER_HEADER: optionalText,
  RESPONDERS: list,
});

export type Env = z.output<typeof envSchema>;

/** The variable holding each source's webhook secret; a new source in SOURCES must name its own here. */
const SECRET_VARIABLES: Record<Source, keyof Env> = {
  datadog: 'DATADOG_WEBHOOK_TOKEN',
  grafana: 'GRAFANA_WEBHOOK_HMAC_SECRET',
  alertmanager: 'ALERTMANAGER_WEBHOOK_TOKEN',
  pagerduty: 'PAGERDUTY_WEBHOOK_SECRETS',
};

/**
 * A secret variable that is set but empty or blanks only is a secret that failed to arrive (a missing mount, an unset
 * ${VAR} in compose), not a choice to accept anyone: only an unset variable leaves a source unauthenticated.
 */
function missingSecretProblems(env: Record<string, string | undefined>): string[] {
  const unset = 'give the secret, or unset it to accept unauthenticated deliveries';
  return SOURCES.flatMap((source) => {
    const name = SECRET_VARIABLES[source];
    const raw = env[name];
    if (raw === undefined) return [];
    if (raw === '') return [`${name}: set but empty (what a missing secret mount or an unset \${VAR} gives); ${unset}`];
    return raw.replace(/[\s,]/g, '') === '' ? [`${name}: set to blanks only; ${unset}`] : [];
  });
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
  runbooksDir: string;
  publicUrl: string;
  logLevel: Env['LOG_LEVEL'];
  maxBodyBytes: number;
  /** A delivery not committed by then gets a 503 (the sender retries; the inbox answers the retry as a duplicate). */
  webhookAnswerWithinMs: number;
  dbPoolSize: number;
  batch: { maxWaitMs: number; maxSize: number };
  reopenWindowMs: number;
  flappingAfter: number;
  escalationTickMs: number;
  notify: { timeoutMs: number; maxAttempts: number; backoffMs: number };
  staleAfterDays: number;
  report: { cron: string; timeZone: string; contacts: string[] };
  webhooks: WebhookSecrets;
  auth: { trustedUserHeader: string | null; responders: string[] };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * The configuration, or null once every problem has been printed as `config: NAME: message` (the caller exits 2), so
 * the commands that read the settings report a bad one the same way and never with a stack trace.
 */
export function loadConfigOrSay(env: Record<string, string | undefined>, say: (line: string) => void): Config | null {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    error.problems.forEach((p) => say(`config: ${p}`));
    return null;
  }
}

/** Parses the environment once; every problem is reported on its own line so a bad deploy is fixed in one go. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty means unset for settings; secrets are checked on the raw environment, where empty is a secret that did not arrive.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const secretProblems = missingSecretProblems(env);
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError([...result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`), ...secretProblems]);
  }
  const e = result.data;
  const problems: string[] = [];
  if (!isValidTimeZone(e.REPORT_TZ)) problems.push(`REPORT_TZ: unknown time zone ${JSON.stringify(e.REPORT_TZ)}`);
  // Every delivery waits up to BATCH_MAX_WAIT for its batch before the commit: with the answer due before that, nearly
  // every delivery and every retry of it is answered 503, so senders retry until they give up (or disable the webhook).
  if (e.WEBHOOK_ANSWER_WITHIN < 2 * e.BATCH_MAX_WAIT + 10) {
    problems.push(`WEBHOOK_ANSWER_WITHIN: ${e.WEBHOOK_ANSWER_WITHIN}ms leaves no time to commit after BATCH_MAX_WAIT (${e.BATCH_MAX_WAIT}ms), which every delivery may wait first; make it more than twice BATCH_MAX_WAIT`);
  }
  problems.push(...secretProblems);
  for (const entry of e.RESPONDERS) {
    if (!/^[^:\s]+:scrypt\$/.test(entry)) {
      problems.push(`RESPONDERS: expected user:scrypt$... entries (make one with "runbook-router hash-password"), got ${JSON.stringify(entry.split(':')[0] + ':…')}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const displayHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    runbooksDir: e.RUNBOOKS_DIR,
    publicUrl: e.PUBLIC_URL ?? `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${e.PORT}`,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    webhookAnswerWithinMs: e.WEBHOOK_ANSWER_WITHIN,
    dbPoolSize: e.DB_POOL_SIZE,
    batch: { maxWaitMs: e.BATCH_MAX_WAIT, maxSize: e.BATCH_MAX_SIZE },
    reopenWindowMs: e.REOPEN_WINDOW,
    flappingAfter: e.FLAPPING_AFTER,
    escalationTickMs: e.ESCALATION_TICK,
    notify: { timeoutMs: e.NOTIFY_TIMEOUT, maxAttempts: e.NOTIFY_MAX_ATTEMPTS, backoffMs: e.NOTIFY_BACKOFF },
    staleAfterDays: e.STALE_AFTER_DAYS,
    report: { cron: e.REPORT_CRON, timeZone: e.REPORT_TZ, contacts: e.REPORT_CONTACTS },
    webhooks: {
      pagerduty: e.PAGERDUTY_WEBHOOK_SECRETS,
      grafanaHmac: e.GRAFANA_WEBHOOK_HMAC_SECRET,
      grafanaSignatureHeader: e.GRAFANA_SIGNATURE_HEADER,
      grafanaTimestampHeader: e.GRAFANA_TIMESTAMP_HEADER,
      grafanaToleranceS: e.GRAFANA_TIMESTAMP_TOLERANCE_S,
      alertmanagerToken: e.ALERTMANAGER_WEBHOOK_TOKEN,
      datadogToken: e.DATADOG_WEBHOOK_TOKEN,
    },
    auth: { trustedUserHeader: e.TRUSTED_USER_HEADER, responders: e.RESPONDERS },
  };
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
