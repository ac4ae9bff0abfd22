import { ZodError } from 'zod';

/** Runs `fn`, which must throw a ZodError, and returns its issues as `path: message` lines (the 400's wording). */
export function zodIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ZodError) return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ZodError, but nothing was thrown');
}
