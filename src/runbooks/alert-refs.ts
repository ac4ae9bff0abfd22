// What a runbook may write to have a value of the incident's alert filled in, shared by the page (which fills them) and
// lint (which reports text that only looks like one: it would be shown as typed, and nobody would notice until 3 AM).

// {{alert.title}}, {{alert.labels.instance}}, {{ alert.values.cpu }}; keys may contain . - / : (Datadog tags, dotted labels).
export const REF = /\{\{\s*alert\.(title|labels\.([\w.:/-]+)|values\.([\w.:/-]+))\s*\}\}/g;

/**
 * A reference (groups 1-3 set) or any other `{{...}}` on one line (no group set): a misspelt reference, or a template
 * of a command's own (`docker inspect -f '{{.State.Status}}'`). A reference is tried first at each position.
 */
export const REF_OR_LOOKALIKE = new RegExp(`${REF.source}|\\{\\{[^{}\\n]*\\}\\}`, 'g');

export const REF_FORMS = '{{alert.title}}, {{alert.labels.<key>}} or {{alert.values.<key>}}';

/** Every `{{...}}` of `text` that is not a reference, with its 1-based line. */
export function lookalikeRefs(text: string): { typed: string; line: number }[] {
  const found: { typed: string; line: number }[] = [];
  for (const m of text.matchAll(REF_OR_LOOKALIKE)) {
    if (m[1] !== undefined) continue;
    found.push({ typed: m[0], line: text.slice(0, m.index).split('\n').length });
  }
  return found;
}

// The usual slips: a singular, Alertmanager's and Prometheus' own template names, and annotations (read as values).
const SLIPS: [RegExp, string][] = [
  [/^\$?\.?(?:alerts?\.)?(?:common)?labels?\.(.+)$/i, 'labels'],
  [/^\$?\.?(?:alerts?\.)?(?:common)?(?:values?|annotations?)\.(.+)$/i, 'values'],
];

/** The reference a lookalike was probably meant to be, or null when it does not look like one. */
export function meantRef(typed: string): string | null {
  const inner = typed.slice(2, -2).trim();
  if (/^\$?\.?alerts?\.title$/i.test(inner) || /^\.?title$/i.test(inner)) return '{{alert.title}}';
  for (const [slip, kind] of SLIPS) {
    const key = slip.exec(inner)?.[1];
    if (key && /^[\w.:/-]+$/.test(key)) return `{{alert.${kind}.${key}}}`;
  }
  return null;
}
