/** Deliberately imports a Node built-in: harness.test.ts checks that the browser bundle refuses it. */
import { createHash } from 'node:crypto';

/** Never runs in a page: bundling this file must fail. */
export const digest = (): string => createHash('sha256').digest('hex');
