/** The linkward version: injected by the bundler, else read from package.json next to the sources. */
import { readFileSync } from 'node:fs';

declare const LINKWARD_BUILD_VERSION: string | undefined;

function readVersion(): string {
  if (typeof LINKWARD_BUILD_VERSION === 'string') return LINKWARD_BUILD_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();
