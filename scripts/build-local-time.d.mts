// Types of scripts/build-local-time.mjs for the tests.
import type { Plugin } from 'esbuild';
export function patchNodeCron(source: string): string;
export function localTimePlugin(): { patched(): boolean; plugin: Plugin };
