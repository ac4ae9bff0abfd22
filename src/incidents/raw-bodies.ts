/**
 * A batch's raw bodies travel to PostgreSQL as one parameter, as they are, joined by U+001E and split there with
 * string_to_table: inside JSON they would be escaped here and unescaped by the server (the costliest part of the
 * statement), and one parameter each would make the statement's text depend on the batch size. Every body here parsed
 * as JSON, and JSON text never holds a raw control character.
 */
export const BODY_SEPARATOR = '\u001e';

export const joinBodies = (bodies: readonly string[]): string => bodies.join(BODY_SEPARATOR);
