import { createHash } from 'node:crypto';
import { sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * Put first in a statement (`sql\`${PREPARED} with …\``) to run it as a named prepared statement on PostgreSQL. Only for
 * statements whose text is the same whatever their parameters (the receive path's hot ones): PostgreSQL then parses
 * and plans a big CTE statement once per connection instead of once per batch. Kysely's driver sends every statement
 * unnamed, so the pool wrapper below names the marked ones. PGlite runs them as ordinary statements.
 */
export const PREPARED_MARK = '/* prepared */';

/** PREPARED_MARK as a fragment of a `sql` template. */
export const PREPARED = sql.raw(PREPARED_MARK);

/** The mark leads the text, after the indentation a template literal gives it. */
function isMarked(text: string): boolean {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\t' || text[i] === '\r')) i++;
  return text.startsWith(PREPARED_MARK, i);
}

type Query = (...args: unknown[]) => unknown;

/**
 * The pool Kysely's PostgresDialect gets: each client's `query(text, values)` runs a text that starts with
 * PREPARED_MARK as a named statement (pg prepares it on a connection's first use, then only binds and executes it).
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined) {
      name = `rr_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      // Marked texts are a handful of fixed statements; the bound only guards against a marked text that varies.
      if (names.size >= 256) names.clear();
      names.set(text, name);
    }
    return name;
  };
  const wrapped = new WeakSet<pg.PoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      if (!wrapped.has(client)) {
        wrapped.add(client);
        // pg-pool listens for a client's 'error' only while it is idle. One checked out whose server goes away (a
        // restart, pg_terminate_backend) emits 'error' too, and unheard that crashes the process; its query is rejected
        // anyway, which is how the caller hears of it (503), and the pool drops the dead client when it is released.
        client.on('error', () => {});
        const original = client.query.bind(client) as Query;
        (client as unknown as { query: Query }).query = (...args: unknown[]) => {
          const [text, values] = args;
          if (typeof text === 'string' && isMarked(text) && (values === undefined || Array.isArray(values))) {
            return original({ name: nameOf(text), text, values });
          }
          return original(...args);
        };
      }
      return client as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
    // Kysely opens a control connection with these to cancel a query.
    options: pool.options,
    Client: (pool as unknown as { Client: PostgresPool['Client'] }).Client,
  };
}
