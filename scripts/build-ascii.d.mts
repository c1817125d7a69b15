// Types of scripts/build-ascii.mjs for the tests.
export function escapeNonAscii(text: string): string;
export function firstNonAscii(text: string): number;
export function asciiBundle(path: string, text: string): string;
