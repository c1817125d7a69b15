// Types of scripts/build-cjs-builtins.mjs for the tests.
import type { Plugin } from 'esbuild';
export const cjsBuiltinsPlugin: Plugin;
