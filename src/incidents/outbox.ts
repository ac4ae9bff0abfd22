import http from 'node:http';
import https from 'node:https';
import { sql, type Selectable } from 'kysely';
import type { Db, Executor } from '../db/create-db.js';
import type { NotificationsTable } from '../db/schema.js';
import { appendTimelineRows } from './incident-store.js';
import type { ContactChannel, Routing } from './routing.js';

export async function enqueueNotification(
  db: Executor,
  n: { idempotencyKey: string; incidentId?: number | null; reportId?: number | null; kind: string; contactId: string; channel: ContactChannel; payload: Record<string, unknown>; now: Date },
): Promise<void> {
  await db
    .insertInto('notifications')
    .values({
      idempotency_key: n.idempotencyKey,
      incident_id: n.incidentId ?? null,
      report_id: n.reportId ?? null,
      kind: n.kind,
      contact_id: n.contactId,
      channel_type: n.channel.type,
      url: n.channel.url,
      payload: JSON.stringify(n.payload),
      status: 'pending',
      next_attempt_at: n.now,
      created_at: n.now,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

export interface OutboxOptions {
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  limit?: number;
}

export interface OutboxTickResult {
  sent: number;
  retried: number;
  failed: number;
  /**
   * Escalation pages dropped unsent because their incident was acknowledged, resolved or reopened since they were queued,
   * and retries dropped because the channel the matrix moved them to already has their page.
   */
  cancelled?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** How many notifications one round claims, and how many of them are in flight at once. */
const DEFAULT_LIMIT = 500;
const PARALLEL_SENDS = 64;

interface SendResult {
  id: number;
  incident_id: number | null;
  contact_id: string;
  channel_type: string;
  attempts: number;
  /** When the answer (or the failure) came, ISO. */
  at: string;
  error: string | null;
  /** The receiver's Retry-After (429 or 503), ms. */
  retryAfterMs?: number;
}

type Claimed = Selectable<NotificationsTable>;

/** Where a claimed notification goes now: its stored URL, or its contact's channel as the matrix has it since a reload. */
export type CurrentUrl = (n: Pick<Claimed, 'contact_id' | 'channel_type' | 'url' | 'attempts'>) => string;

/**
 * For a page waiting for a retry (it failed at least once): the contact's channel of its type as the matrix has it now,
 * when it has exactly one and the stored URL is no longer among them. A receiver URL fixed in the matrix (a rotated Slack
 * webhook) must also take the pages already failing against the old one, or they keep failing until they give up. First
 * attempts keep their URL: they were queued from the matrix of their time, and may not be escalation pages at all.
 */
export function currentChannelUrl(routing: Routing): CurrentUrl {
  return (n) => {
    if (n.attempts === 0) return n.url;
    const channels = routing.contact(n.contact_id)?.notify.filter((c) => c.type === n.channel_type) ?? [];
    return channels.length === 1 && !channels.some((c) => c.url === n.url) ? channels[0]!.url : n.url;
  };
}

/** The next `limit` due notifications, first attempts first, locked; in the order of the notifications_due index (migrations/0005), so no sort of the backlog. */
export function dueNotifications(db: Executor, claimedAt: Date, limit: number) {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', claimedAt)
    .orderBy(sql`attempts > 0`)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked();
}

/**
 * Claims up to `limit` due notifications: a lease (attempts+1, next attempt pushed past the send timeout) committed
 * before the POSTs, so no transaction is held across the network and a crash mid-send only delays a retry. First
 * attempts go before retries: a receiver that keeps failing must not keep a new page waiting behind its retries.
 * Escalation pages whose incident was acknowledged or resolved while they waited are cancelled here, unsent.
 */
async function claim(db: Db, claimedAt: Date, options: OutboxOptions, limit: number, currentUrl?: CurrentUrl): Promise<{ rows: Claimed[]; cancelled: number }> {
  return db.transaction().execute(async (tx) => {
    const due = await dueNotifications(tx, claimedAt, limit).execute();
    const cancelled = await cancelStalePages(tx, due, claimedAt);
    const moves = new Map<number, string>();
    for (const r of due) {
      const url = currentUrl && !cancelled.has(Number(r.id)) ? currentUrl(r) : r.url;
      if (url !== r.url) moves.set(Number(r.id), url);
    }
    const superseded = moves.size ? await supersedeMoves(tx, due, moves, claimedAt) : new Set<number>();
    const moved = [...moves].filter(([id]) => !superseded.has(id)).map(([id, url]) => ({ id, url }));
    const rows = due
      .filter((r) => !cancelled.has(Number(r.id)) && !superseded.has(Number(r.id)))
      .map((r) => (moves.has(Number(r.id)) ? { ...r, url: moves.get(Number(r.id))! } : r));
    if (moved.length) {
      await sql`update notifications n set url = m.url from json_to_recordset(${JSON.stringify(moved)}::json) as m(id bigint, url text) where n.id = m.id`.execute(tx);
    }
    // The POSTs go out in waves of PARALLEL_SENDS, each wave up to one timeout long: the lease must outlast the whole
    // round, or another replica claims the last waves while this one is still about to send them (a duplicate page).
    const waves = Math.ceil(rows.length / PARALLEL_SENDS);
    const leaseUntil = new Date(claimedAt.getTime() + options.timeoutMs * (waves + 1) + 1000);
    if (rows.length) {
      await sql`update notifications set attempts = attempts + 1, next_attempt_at = ${leaseUntil}::timestamptz where id = any(${rows.map((r) => r.id)}::bigint[])`.execute(tx);
    }
    return { rows: rows.map((r) => ({ ...r, attempts: r.attempts + 1 })), cancelled: cancelled.size + superseded.size };
  });
}

/**
 * One round, start to end: claims up to `limit`, sends them (64 POSTs in flight) and records every outcome (sent,
 * retry with backoff, failed) and its timeline entry in one transaction. Receivers dedupe on the Idempotency-Key header.
 * The service runs rounds through createOutboxSender, which does not wait for one round's POSTs to claim the next.
 */
export async function runOutboxTick(db: Db, clock: () => Date, options: OutboxOptions, currentUrl?: CurrentUrl): Promise<OutboxTickResult> {
  const { rows, cancelled } = await claim(db, clock(), options, options.limit ?? DEFAULT_LIMIT, currentUrl);
  const result = await sendAndRecord(db, clock, options, rows);
  return cancelled ? { ...result, cancelled } : result;
}

export interface OutboxSender {
  /** Claims as many due notifications as there are free send slots and starts their POSTs; does not wait for them. */
  round(): Promise<{ claimed: number; cancelled: number; more: boolean }>;
  /** POSTs started and not yet answered (or timed out). */
  inFlight(): number;
  /** Waits for every POST started so far and the recording of its outcome. */
  drain(): Promise<void>;
}

/**
 * The service's outbox: rounds overlap. A round used to wait for all its POSTs before the next could claim, so one
 * receiver that never answers held every other page, however urgent, for NOTIFY_TIMEOUT (times the waves of a big
 * round), and the timer-lag metric never saw it. Now each round claims only what fits in the free send slots (so it
 * is one wave, and its lease stays right) and returns; each POST gives its slot back when it settles, and `onFreed` asks
 * for a round. A dead receiver ties up only the slots of its own pages, and new pages go before its retries. A round's
 * outcomes are recorded (and `onRecorded` called) together once its last POST has settled, so a page answered at once
 * can show as pending for up to NOTIFY_TIMEOUT; its lease keeps it from being sent again meanwhile.
 */
export function createOutboxSender(
  db: Db,
  clock: () => Date,
  options: OutboxOptions,
  hooks: { onRecorded(result: OutboxTickResult): void; onError(error: unknown): void; onFreed(): void; currentUrl?: CurrentUrl },
): OutboxSender {
  let inFlight = 0;
  const rounds = new Set<Promise<void>>();
  return {
    async round() {
      const free = Math.min(options.limit ?? DEFAULT_LIMIT, PARALLEL_SENDS - inFlight);
      if (free <= 0) return { claimed: 0, cancelled: 0, more: false };
      const { rows, cancelled } = await claim(db, clock(), options, free, hooks.currentUrl);
      if (rows.length) {
        inFlight += rows.length;
        let settled = 0;
        // Each POST gives its slot back as soon as it is answered (or times out), not when the round's slowest one does.
        const freeOne = () => {
          settled++;
          inFlight--;
          hooks.onFreed();
        };
        const sending: Promise<void> = sendAndRecord(db, clock, options, rows, freeOne)
          .then(hooks.onRecorded, hooks.onError)
          .finally(() => {
            inFlight -= rows.length - settled;
            rounds.delete(sending);
          });
        rounds.add(sending);
      }
      return { claimed: rows.length, cancelled, more: rows.length + cancelled >= free };
    },
    inFlight: () => inFlight,
    async drain() {
      while (rounds.size) await Promise.all(rounds);
    },
  };
}

/** POSTs the claimed notifications, PARALLEL_SENDS at a time, then records every outcome in one transaction. */
async function sendAndRecord(db: Db, clock: () => Date, options: OutboxOptions, claimed: Claimed[], onPostSettled?: () => void): Promise<OutboxTickResult> {
  const results: SendResult[] = new Array(claimed.length);
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const index = next++;
      const n = claimed[index]!;
      const answer = await post(n.url, n.payload, n.idempotency_key, options.timeoutMs);
      const at = clock();
      const error = answer?.error ?? null;
      const retryAfterMs = answer?.retryAfter ? retryAfterMsOf(answer.retryAfter, at) : undefined;
      results[index] = { id: n.id, incident_id: n.incident_id, contact_id: n.contact_id, channel_type: n.channel_type, attempts: n.attempts, at: at.toISOString(), error, ...(retryAfterMs ? { retryAfterMs } : {}) };
      onPostSettled?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_SENDS, claimed.length) }, worker));

  const result: OutboxTickResult = { sent: 0, retried: 0, failed: 0 };
  if (!results.length) return result;
  const sent = results.filter((r) => r.error === null);
  const failed = results.filter((r) => r.error !== null && r.attempts >= options.maxAttempts);
  const retried = results.filter((r) => r.error !== null && r.attempts < options.maxAttempts);
  result.sent = sent.length;
  result.failed = failed.length;
  result.retried = retried.length;

  await db.transaction().execute(async (tx) => {
    if (sent.length) {
      await sql`
        update notifications set status = 'sent', sent_at = r.at, last_error = null
        from json_to_recordset(${JSON.stringify(sent.map((r) => ({ id: r.id, at: r.at })))}::json) as r(id bigint, at timestamptz)
        where notifications.id = r.id`.execute(tx);
    }
    // A failed attempt is recorded only while this round still holds the claim (still pending, no later attempt): after a
    // pause past the lease another replica may have claimed it again and delivered it, and that outcome stands.
    const recordedFailures = new Set<number>();
    if (failed.length) {
      const { rows } = await sql<{ id: number }>`
        update notifications set status = 'failed', last_error = r.error
        from json_to_recordset(${JSON.stringify(failed.map((r) => ({ id: r.id, error: r.error, attempts: r.attempts })))}::json) as r(id bigint, error text, attempts integer)
        where notifications.id = r.id and notifications.status = 'pending' and notifications.attempts = r.attempts
        returning notifications.id`.execute(tx);
      for (const row of rows) recordedFailures.add(Number(row.id));
    }
    if (retried.length) {
      // The receiver's Retry-After when it asks for more than the backoff (a rate limit), within the backoff's cap.
      const delay = (r: SendResult) => Math.min(Math.max(options.backoffMs * 2 ** (r.attempts - 1), r.retryAfterMs ?? 0), MAX_BACKOFF_MS);
      const rows = retried.map((r) => ({ id: r.id, error: r.error, attempts: r.attempts, next: new Date(Date.parse(r.at) + delay(r)).toISOString() }));
      await sql`
        update notifications set next_attempt_at = r.next, last_error = r.error
        from json_to_recordset(${JSON.stringify(rows)}::json) as r(id bigint, error text, attempts integer, next timestamptz)
        where notifications.id = r.id and notifications.status = 'pending' and notifications.attempts = r.attempts`.execute(tx);
    }
    // The timeline in the order the notifications were claimed.
    const timeline = results
      .filter((r) => r.incident_id && (r.error === null || recordedFailures.has(Number(r.id))))
      .map((r) => ({
        incident_id: r.incident_id!,
        at: r.at,
        actor: null,
        kind: r.error === null ? 'notification_sent' : 'notification_failed',
        data:
          r.error === null
            ? { notificationId: r.id, contact: r.contact_id, channel: r.channel_type, attempts: r.attempts }
            : { notificationId: r.id, contact: r.contact_id, channel: r.channel_type, attempts: r.attempts, error: r.error },
      }));
    await appendTimelineRows(tx, timeline);
  });
  return result;
}

/**
 * Escalation pages among `due` whose incident no longer wants them: acknowledged or resolved since the page was queued
 * (a retry after a failed attempt can come minutes later), or reopened since (the page belongs to the earlier episode).
 * Paging someone for an incident that a responder already took is exactly what acknowledging is meant to stop.
 * They are closed as `cancelled` with the reason and a `notification_cancelled` timeline entry, in the claim's
 * transaction. Returns their ids.
 */
async function cancelStalePages(tx: Executor, due: { id: number; kind: string; incident_id: number | null }[], now: Date): Promise<Set<number>> {
  const candidates = due.filter((n) => n.kind === 'escalation' && n.incident_id !== null).map((n) => n.id);
  if (!candidates.length) return new Set();
  const { rows } = await sql<{ id: number; incident_id: number; contact_id: string; channel_type: string; status: string }>`
    update notifications n
    set status = 'cancelled', last_error = 'cancelled: incident ' || (case when i.status = 'triggered' then 'reopened' else i.status end) || ' before this page was delivered'
    from incidents i
    where n.id = any(${candidates}::bigint[]) and i.id = n.incident_id
      and (i.status <> 'triggered' or (i.last_reopened_at is not null and n.created_at < i.last_reopened_at))
    returning n.id, n.incident_id, n.contact_id, n.channel_type, case when i.status = 'triggered' then 'reopened' else i.status end as status`.execute(tx);
  await appendTimelineRows(
    tx,
    rows.map((r) => ({ incident_id: r.incident_id, at: now, kind: 'notification_cancelled', actor: null, data: { notificationId: Number(r.id), contact: r.contact_id, channel: r.channel_type, status: r.status } })),
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/** One page to one contact: the notifications of its channels share the idempotency key up to the channel's index. */
const pageOf = (idempotencyKey: string) => idempotencyKey.replace(/-\d+$/, '');

/**
 * Moves (id → the contact's current URL) whose page that URL already has: another channel's notification of the same
 * page is pending or sent there, or an earlier move in this round goes there. A contact that had two webhooks, one of
 * them failing, and lost that one in a reload would otherwise get the page twice at the one left. They are closed as
 * `cancelled` with a `notification_cancelled` timeline entry (status `superseded`), in the claim's transaction.
 */
async function supersedeMoves(tx: Executor, due: Claimed[], moves: ReadonlyMap<number, string>, now: Date): Promise<Set<number>> {
  const movedRows = due.filter((r) => moves.has(Number(r.id)));
  const incidentIds = [...new Set(movedRows.flatMap((r) => (r.incident_id === null ? [] : [r.incident_id])))];
  const reportIds = [...new Set(movedRows.flatMap((r) => (r.report_id === null ? [] : [r.report_id])))];
  const siblings = await tx
    .selectFrom('notifications')
    .select(['id', 'idempotency_key', 'contact_id', 'channel_type', 'url'])
    .where('status', 'in', ['pending', 'sent'])
    .where('contact_id', 'in', [...new Set(movedRows.map((r) => r.contact_id))])
    .where((eb) => eb.or([eb('incident_id', 'in', incidentIds.length ? incidentIds : [-1]), eb('report_id', 'in', reportIds.length ? reportIds : [-1])]))
    .execute();
  const target = (n: { id: number; idempotency_key: string; contact_id: string; channel_type: string }, url: string) => `${pageOf(n.idempotency_key)}\u0000${n.contact_id}\u0000${n.channel_type}\u0000${url}`;
  const taken = new Set(siblings.filter((s) => !moves.has(Number(s.id))).map((s) => target(s, s.url)));
  const superseded: Claimed[] = [];
  for (const r of movedRows) {
    const key = target(r, moves.get(Number(r.id))!);
    if (taken.has(key)) superseded.push(r);
    else taken.add(key);
  }
  if (!superseded.length) return new Set();
  await sql`
    update notifications set status = 'cancelled', last_error = 'cancelled: its channel left the matrix, and the channel left already has this page'
    where id = any(${superseded.map((r) => r.id)}::bigint[])`.execute(tx);
  await appendTimelineRows(
    tx,
    superseded
      .filter((r) => r.incident_id !== null)
      .map((r) => ({ incident_id: r.incident_id!, at: now, kind: 'notification_cancelled', actor: null, data: { notificationId: Number(r.id), contact: r.contact_id, channel: r.channel_type, status: 'superseded' } })),
  );
  return new Set(superseded.map((r) => Number(r.id)));
}

export async function outboxBacklog(db: Db): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(row.n);
}

// node:http with keep-alive rather than fetch: a burst of thousands of notifications spends a fraction of the CPU
// (no web streams, no per-request AbortSignal), and the connections to a receiver are reused.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: PARALLEL_SENDS, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: PARALLEL_SENDS, scheduling: 'lifo' }),
};

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`; undefined when unreadable. */
function retryAfterMsOf(value: string, now: Date): number | undefined {
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now.getTime();
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** Redirects a POST may follow: 307 and 308 keep the method and the body (RFC 9110 §15.4). */
const MAX_REDIRECTS = 3;

/** Where a POST goes: the stored URL, or a redirect's Location resolved against the URL that answered it (`base`). */
export function postTarget(href: string, base: URL | null): URL | { error: string } {
  let target: URL;
  try {
    target = base ? new URL(href, base) : new URL(href);
  } catch {
    return { error: `TypeError: invalid URL ${JSON.stringify(href)}` };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { error: `TypeError: unsupported protocol ${target.protocol}` };
  // A page sent over TLS is never sent on in the clear because a receiver (or whoever answers for it) says so.
  if (base?.protocol === 'https:' && target.protocol !== 'https:') return { error: `redirect from https to ${target.protocol.slice(0, -1)} refused, moved to ${href}` };
  return target;
}

/**
 * Returns null on a 2xx, else a short reason (with the receiver's Retry-After on a 429 or 503). A 307 or 308 is
 * followed with the same body, up to MAX_REDIRECTS, all within the one timeout, but never from https to http; any other
 * redirect would turn the POST into a GET, so it is a failure that names where the receiver says it moved (the matrix
 * needs the new URL).
 */
function post(url: string, payload: unknown, idempotencyKey: string, timeoutMs: number): Promise<{ error: string; retryAfter?: string } | null> {
  return new Promise((resolve) => {
    const body = JSON.stringify(payload);
    let settled = false;
    let current: http.ClientRequest | null = null;
    const finish = (outcome: { error: string; retryAfter?: string } | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${timeoutMs}ms` });
      current?.destroy();
    }, timeoutMs);

    const send = (href: string, base: URL | null, redirectsLeft: number) => {
      const target = postTarget(href, base);
      if ('error' in target) {
        finish(target);
        return;
      }
      const req = (target.protocol === 'https:' ? https : http).request(
        target,
        {
          method: 'POST',
          agent: agents[target.protocol as keyof typeof agents],
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, 'user-agent': 'runbook-router', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.resume();
          const location = status >= 300 && status < 400 ? res.headers.location : undefined;
          const retryAfter = status === 429 || status === 503 ? res.headers['retry-after'] : undefined;
          res.on('end', () => {
            if (location && (status === 307 || status === 308) && redirectsLeft > 0) send(location, target, redirectsLeft - 1);
            else if (status >= 200 && status < 300) finish(null);
            else if (location) finish({ error: `HTTP ${status}${status === 307 || status === 308 ? ' (too many redirects)' : ''}, moved to ${location}` });
            else finish({ error: `HTTP ${status}`, ...(retryAfter ? { retryAfter } : {}) });
          });
          res.on('error', (error) => finish({ error: `${error.name}: ${error.message}` }));
        },
      );
      current = req;
      req.on('error', (error) => finish({ error: `${error.name}: ${error.message}` }));
      req.end(body);
    };
    send(url, null, MAX_REDIRECTS);
  });
}
