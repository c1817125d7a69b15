// Types of scripts/bench/unit-runtime.mjs for the tests.
export function unitFlags(): string[];
export function unitEnv(): Record<string, string>;
export function serviceBaseEnv(): Record<string, string>;
