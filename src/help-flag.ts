/** `runbook-router <command> --help` (or -h), and nothing else: every command answers it with its usage and exit 0. */
export const asksForHelp = (args: readonly string[]): boolean => args.length === 1 && (args[0] === '--help' || args[0] === '-h');
