// Types of scripts/build-lean-deps.mjs for the tests.
import type { Plugin } from 'esbuild';
export function leanDepsPlugin(root: string): Plugin;
