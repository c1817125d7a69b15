// Writes docs/status-v1.schema.json from the zod schema in agent/http/status-schema.ts (run after changing it; a test compares).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusJsonSchema } from '../agent/http/status-schema.ts';

const out = join(import.meta.dirname, '..', 'docs', 'status-v1.schema.json');
writeFileSync(out, JSON.stringify(statusJsonSchema(), null, 2) + '\n');
console.log(`wrote ${out}`);
