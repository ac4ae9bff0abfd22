import type { AlertStatus } from './alert.js';

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
  /** The title without any of its `[...]` prefixes, for display. */
  text: string;
  /**
   * The title without the prefixes Datadog adds (one priority, one known state), so from the monitor's own name on:
   * `[Prod] [MON-020] Checkout latency high`. The default payload's instance identity: `text` would merge `[Prod] x`
   * with `[Staging] x`, and the full title would split a trigger from its recovery. Also the text MON ids are read from:
   * the prefixes are Datadog's, and a scope such as `{host:ceph-mon-01}` is not an id.
   */
  name: string;
}

const LEADING_GROUP = /^\s*\[([^[\]]*)\]/;
const PRIORITY = /^P[1-5]$/i;
const SCOPE_OPENER = ' on {';

// A Map so a sender-typed transition such as `constructor` cannot hit an Object.prototype member.
const TRANSITIONS = new Map<string, AlertStatus>([
  ['triggered', 'firing'],
  ['re-triggered', 'firing'],
  ['renotify', 'firing'],
  ['warn', 'firing'],
  ['re-warn', 'firing'],
  ['no data', 'firing'],
  ['re-no data', 'firing'],
  ['recovered', 'resolved'],
]);

/**
 * The status of a Datadog transition (`$ALERT_TRANSITION` or a title's state), case-insensitive. Unknown ones (older docs
 * list `Null`) give undefined: no state we could act on, and not a prefix Datadog adds to the title.
 */
export function transitionStatus(transition: string): AlertStatus | undefined {
  return TRANSITIONS.get(transition.toLowerCase());
}

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

/**
 * `title` from its first bracket group that Datadog did not add. At most one priority and one state are Datadog's, and
 * only a known state: a monitor may be named `[Warn] Disk`, and an unknown first group (`[MON-005] Pool`) is the name.
 */
function monitorName(title: string): string {
  let rest = title;
  let priority = false;
  let state = false;
  for (let match = LEADING_GROUP.exec(rest); match; match = LEADING_GROUP.exec(rest)) {
    const group = (match[1] ?? '').trim();
    if (!priority && PRIORITY.test(group)) priority = true;
    else if (!state && transitionStatus(splitScope(group).state) !== undefined) state = true;
    else break;
    rest = rest.slice(match[0].length);
  }
  return rest.trim();
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
  return { priority, state, scope, text, name: monitorName(title) };
}
