/** Randomness is passed in explicitly so that every transcript can be replayed in a test. */
import { randomBytes } from 'node:crypto';

export type RandomSource = (length: number) => Uint8Array;

export const systemRandom: RandomSource = (length) => Uint8Array.from(randomBytes(length));
