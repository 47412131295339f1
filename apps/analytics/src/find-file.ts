import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds a file of the repository (a Lua script, the dashboard's assets, a library's browser
 * build) by its path from the repository root, walking up from `start`: this works from the
 * sources under ts-jest and from the webpack bundle in dist/apps/analytics alike.
 */
export function findRepoFile(relativePath: string, start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  const fromCwd = join(process.cwd(), relativePath);
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`analytics: ${relativePath} not found from ${start} or ${process.cwd()}`);
}
