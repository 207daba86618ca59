/**
 * Faults given to the Task states of a run's first execution (`taskFaults`): each attempt of a state
 * meets the next fault left for it, failing before its work or after it as Step Functions reports.
 */
import type { SimulatedExecution, TaskCall } from './execution';
import type { Scheduler } from './scheduler';
import { namedError } from './service-values';

/**
 * What Step Functions reports for one attempt of a Task state instead of its answer: a Lambda
 * crash (`Lambda.ServiceException`), a function timeout (`Sandbox.Timedout`), a CodeBuild error.
 */
export interface TaskFault {
  readonly error: string;
  readonly cause: string;
  /**
   * `before`: the function never ran (the invoke failed, or it crashed before its first call);
   * `after`: it did all its work and the answer was lost (a timeout after its last call).
   * @default 'before'
   */
  readonly strikes?: 'before' | 'after';
  /** Virtual seconds the failed attempt takes (a timeout lasts the function's whole timeout). @default 0 */
  readonly seconds?: number;
}

/** Per Task state, the faults its attempts meet in turn (each attempt takes the next one). */
export type TaskFaults = Readonly<Record<string, readonly TaskFault[]>>;

/** What the faults need from the simulation. */
export interface TaskFaultContext {
  /** The run's first execution, the only one faults strike. */
  readonly firstExecution: () => SimulatedExecution | undefined;
  readonly scheduler: Pick<Scheduler, 'sleep'>;
  readonly note: (text: string) => void;
}

export class TaskFaultQueue {
  private readonly faults: Map<string, TaskFault[]>;

  constructor(
    taskFaults: TaskFaults,
    private readonly context: TaskFaultContext,
  ) {
    this.faults = new Map(Object.entries(taskFaults).map(([state, faults]) => [state, [...faults]]));
  }

  /** The fault this attempt of a state of the first execution meets, if one is left for it. */
  take(call: TaskCall): TaskFault | undefined {
    if (call.execution !== this.context.firstExecution()) return undefined;
    const fault = this.faults.get(call.stateName)?.shift();
    if (fault) {
      this.context.note(
        `${call.stateName} of ${call.execution.name} fails with ${fault.error} ` +
          `(${fault.strikes === 'after' ? 'after its work was done' : 'before it did anything'})`,
      );
    }
    return fault;
  }

  async strike(fault: TaskFault, call: TaskCall): Promise<never> {
    if (fault.seconds) {
      await this.context.scheduler.sleep(fault.seconds * 1000, `${call.stateName}: ${fault.error}`);
    }
    throw namedError(fault.error, fault.cause);
  }

  /** Runs one attempt of a Task state, failing it before or after its work when a fault is due. */
  async around(call: TaskCall, work: () => Promise<unknown>): Promise<unknown> {
    const fault = this.take(call);
    if (fault && fault.strikes !== 'after') return this.strike(fault, call);
    const output = await work();
    return fault ? this.strike(fault, call) : output;
  }
}
