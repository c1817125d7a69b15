// Build step: makes bundles pure ASCII (escapes what esbuild leaves) and refuses to write one that is not.
//
// V8 keeps a script whose source has even one non-ASCII character as a two-byte string: the bundle then costs twice
// its size in every process (measured with `npm run bench:footprint`, docs/BENCHMARKS.md). esbuild escapes strings
// itself (charset 'ascii') but not regex literals or kept comments; those are escaped here.

const NON_ASCII = /[^\x00-\x7f]/g;

/** \uXXXX is valid in strings, templates, regex literals, identifiers and comments alike (astral characters as pairs). */
export function escapeNonAscii(text) {
  return text.replace(NON_ASCII, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Offset of the first non-ASCII character, or -1. */
export function firstNonAscii(text) {
  return text.search(NON_ASCII);
}

/** The bundle text to write: escaped, then checked; throws (failing the build) if anything non-ASCII is left. */
export function asciiBundle(path, text) {
  const out = escapeNonAscii(text);
  const bad = firstNonAscii(out);
  if (bad >= 0) throw new Error(`build: ${path} is not pure ASCII at offset ${bad}: ${JSON.stringify(out.slice(Math.max(0, bad - 40), bad + 10))}`);
  return out;
}
