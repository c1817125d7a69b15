/** The first command word of a `linkward` argv (skips options and the value of -c/--config); shared by the entry and the CLI. */

/** Options of the root program that take a separate value (their value is not a command word). */
const VALUE_OPTIONS = /^(-c|--config)$/;

/** First non-option word after the script path, e.g. `check` in `linkward -c f.yaml check --json`; undefined when none. */
export function firstCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  return args.find((a, i) => !a.startsWith('-') && !(i > 0 && VALUE_OPTIONS.test(args[i - 1] ?? '')));
}
