/**
 * The MON- id token rule from the webhook spec, kept here so alert parsing does not depend on the
 * runbook parser: case-insensitive `MON-` + 1–9 digits, not glued to a letter or digit on either side.
 * Unicode letters and digits count as glue too, so `éMON-5` is not an id; the digits themselves are ASCII.
 */
const TOKEN = /(?<![\p{L}\p{N}])MON-([0-9]{1,9})(?![\p{L}\p{N}])/giu;

/** Every MON id in `text`, in order of appearance, upper-cased, digits verbatim (`MON-5` ≠ `MON-005`), without repeats. */
export function monIdsIn(text: string): string[] {
  // A Set keeps the first appearance's order; an array's includes() made a body full of distinct ids quadratic (a 1 MiB
  // title of them held the event loop for about 20 s).
  const ids = new Set<string>();
  for (const match of text.matchAll(TOKEN)) ids.add(`MON-${match[1]}`);
  return [...ids];
}

/**
 * The ids of the first source that yields at least one id. Sources are tried in the spec's order; a later
 * source is never mixed in, so a stray id in a summary cannot override the label the user set on purpose.
 */
export function monIdsFromFirstSource(sources: ReadonlyArray<string | null | undefined>): string[] {
  for (const source of sources) {
    if (!source) continue;
    const ids = monIdsIn(source);
    if (ids.length > 0) return ids;
  }
  return [];
}
