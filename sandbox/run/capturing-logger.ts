/**
 * The handlers' Powertools Logger in the sandbox: the same structured lines a Lambda would write,
 * kept in memory instead of printed, so the simulation's output stays a timeline a person reads
 * and tests can still inspect every line (for example, to prove no secret value is ever logged).
 */
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';

export class CapturingLogger extends Logger {
  constructor(
    private readonly lines: string[],
    options: ConstructorOptions = {},
  ) {
    super(options);
  }

  /** The line Powertools would have printed, kept instead. */
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.lines.push(JSON.stringify(log.getAttributes()));
  }

  /** Child loggers (`createChild`) keep writing to the same lines. */
  protected override createLogger(options?: ConstructorOptions): Logger {
    return new CapturingLogger(this.lines, options);
  }
}
