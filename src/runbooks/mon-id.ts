// The one MON- id token rule, shared by runbook parsing, the matrix and the alert adapters, so that
// `mon-007` in a Datadog tag and `MON-007` in a runbook's Trigger: line are the same monitor.
// Rule: case-insensitive `MON-` + 1–9 digits, with no letter or digit directly before or after it;
// normalised to upper case with the digits kept verbatim (`MON-5` and `MON-005` are different ids).

const MON_ID = /(?<![\p{L}\p{N}])MON-(\d{1,9})(?![\p{L}\p{N}])/giu;
const WHOLE_MON_ID = /^MON-(\d{1,9})$/iu;

/** Every MON- id in `text`, normalised, in order of first appearance, without duplicates. */
export function extractMonIds(text: string): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(MON_ID)) {
    const id = `MON-${match[1]}`;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** `text` (trimmed) as a normalised MON- id when it is exactly one id, else null (`[MON-5]` is not an id; `extractMonIds` finds ids inside text). */
export function normalizeMonId(text: string): string | null {
  const match = WHOLE_MON_ID.exec(text.trim());
  return match ? `MON-${match[1]}` : null;
}
