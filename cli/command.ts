/** One `afu9-deploy` sub-command: its own options, help text and run function live in one file. */
export interface CliIo {
  /** Results: what a script may parse. */
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics for a person. */
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text, printed by `afu9-deploy <name> --help` and on usage errors. */
  readonly usage: string;
  /** Returns the process exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** Exit code for a usage error, shared by every command (docs/cli.md). */
export const USAGE_ERROR_EXIT = 2;

/** A usage error: the message says what was wrong and how to call the command instead. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
