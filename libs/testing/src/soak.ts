/**
 * `npm run test:soak` (SOAK=1) runs the repeated races many times; `npm test` runs a few of
 * each, so the suite stays short on a shared 2-core box while the long loops stay one command
 * away. Use for the number of repetitions of a race, never for what a run asserts.
 */
export const SOAK = process.env.SOAK === '1';

/** How many runs: `inTest` in `npm test`, `inSoak` in `npm run test:soak`. */
export function runs(inTest: number, inSoak = 20): number {
  return SOAK ? inSoak : inTest;
}

/** `[[1], [2], ...]` for `it.each(runNumbers(3))('... (run %i)', ...)`. */
export function runNumbers(inTest: number, inSoak = 20): [number][] {
  return Array.from({ length: runs(inTest, inSoak) }, (_, i) => [i + 1]);
}
