export type IncomingHeaders = Record<string, string | string[] | undefined>;

/**
 * Case-insensitive header lookup: Node lower-cases names, but tests and the demo pass canonical casing.
 * Repeated headers are joined with `,` as HTTP allows, so a PagerDuty signature list split over two lines still works.
 */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  return values.length === 0 ? undefined : values.join(',');
}
