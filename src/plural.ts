/** "1 alert", "2 alerts": English plurals of the nouns the service counts (all of them take an s). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
