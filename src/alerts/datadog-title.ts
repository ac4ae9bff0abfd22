/**
 * Datadog titles carry the state and scope as bracket prefixes: `[P1] [Triggered on {host:web-03}] [MON-044] Disk full`.
 * The default payload has no transition field, so these prefixes are the only state it sends.
 */
export interface DatadogTitle {
  /** `P1`…`P5` from a `[P1]` prefix. */
  priority: string | undefined;
  /** The first non-priority prefix with ` on {…}` removed, e.g. `Triggered`; not necessarily a known transition. */
  state: string | undefined;
  /** The `{…}` of ` on {…}`, e.g. `host:web-03`. */
  scope: string | undefined;
  /** The title without any of its `[...]` prefixes, for display and for the default payload's instance identity. */
  text: string;
}

const LEADING_GROUP = /^\s*\[([^[\]]*)\]/;
const PRIORITY = /^P[1-5]$/i;
const SCOPE_OPENER = ' on {';

/**
 * `Triggered on {host:web-03}` → state and scope: the first ` on {` of a group that ends with `}`. Done with indexOf, not
 * the regex /^(.*?) on \{(.*)\}$/s it replaces, which backtracked once per ` on {` over the rest of the group: a title
 * that repeats it was quadratic (200 kB took 7 s, a 1 MiB body minutes of a blocked event loop).
 */
function splitScope(group: string): { state: string; scope: string | undefined } {
  const at = group.endsWith('}') ? group.indexOf(SCOPE_OPENER) : -1;
  if (at === -1) return { state: group, scope: undefined };
  return { state: group.slice(0, at).trim(), scope: group.slice(at + SCOPE_OPENER.length, -1).trim() || undefined };
}

export function parseDatadogTitle(title: string): DatadogTitle {
  let priority: string | undefined;
  let state: string | undefined;
  let scope: string | undefined;
  const others: string[] = [];
  let rest = title;
  for (let match = LEADING_GROUP.exec(rest); match; match = LEADING_GROUP.exec(rest)) {
    rest = rest.slice(match[0].length);
    const group = (match[1] ?? '').trim();
    if (PRIORITY.test(group)) {
      priority ??= group.toUpperCase();
    } else if (state === undefined) {
      ({ state, scope } = splitScope(group));
    } else {
      others.push(group);
    }
  }
  // `$EVENT_TITLE` can be nothing but prefixes (`[Triggered] [Memory Alert]`); then the remaining groups are the name.
  const text = rest.trim() || others.join(' ') || title.trim();
  return { priority, state, scope, text };
}
