// A checkbox's key in a URL: what the parser makes (`step-2`, `step-2.v1`, `step-3.checkpoint`, `pre-1`, `post-1`).
// Refused at the edge, so a byte the database cannot store (a NUL) is a 400 naming the key, not a 500 from the query.
import { z } from 'zod';

export const boxKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, 'expected a checkbox key such as step-2, step-2.v1 or post-1');
