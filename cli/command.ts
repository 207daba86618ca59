/** One `afu9-deploy` sub-command: its own options, help text and run function live in one file. */
import { colourEnabled, paint, type Paint } from './colour';

export interface CliIo {
  /** Results: what a script may parse. */
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics for a person. */
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  /** Which streams are a terminal (colour is for terminals); absent means neither. */
  readonly tty?: { readonly stdout: boolean; readonly stderr: boolean };
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text, printed by `afu9-deploy <name> --help` and on usage errors. */
  readonly usage: string;
  /**
   * Whether a run with these arguments reads the deployment configuration (so, without --config,
   * the CLI says which file it read). Absent: it never does.
   */
  readonly readsConfiguration?: (argv: readonly string[]) => boolean;
  /** Returns the process exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/**
 * The exit codes every command shares (docs/cli.md). `diff-gate` and `validate:diff` keep their
 * verdict codes (0 PASS/WARN, 1 BLOCKED, 2 ERROR); `status` adds 4 for "still running".
 */
export const ExitCode = {
  /** Done, or nothing to do. */
  ok: 0,
  /** The deployment failed or was refused (blocked, rejected, rolled back, timed out), or a check found a problem. */
  failed: 1,
  /** The command line is wrong: nothing was attempted. */
  usage: 2,
  /** AWS could not be reached, or the credentials are missing, expired or denied. */
  awsUnavailable: 3,
} as const;

/** Exit code for a usage error, shared by every command (docs/cli.md). */
export const USAGE_ERROR_EXIT = ExitCode.usage;

/** A usage error: the message says what was wrong and how to call the command instead. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Colours for one output stream of `io`, honouring NO_COLOR and FORCE_COLOR. */
export function paintFor(io: CliIo, stream: 'stdout' | 'stderr'): Paint {
  return paint(colourEnabled(io.env, io.tty?.[stream] ?? false));
}
