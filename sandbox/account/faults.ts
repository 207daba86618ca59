/**
 * Fault injection for the sandbox: make a given API call fail (throttling, a 5xx, any AWS error
 * code) a number of times, and drop, duplicate or delay a given EventBridge event. Handlers see
 * an injected API error as they would see it from AWS after the SDK's own retries gave up.
 */
import type { BusEvent } from './simulated-account';

export type SimulatedService =
  'ecs' | 'ecr' | 'secretsManager' | 'sns' | 's3' | 'sfn' | 'dynamodb' | 'ssm' | 'cloudformation';

export interface ApiFault {
  readonly service: SimulatedService;
  /** The command's name without the `Command` suffix, e.g. `DescribeServices`. */
  readonly command: string;
  /** AWS error code to throw, e.g. `ThrottlingException`, `ServerException`, `ServiceUnavailable`. */
  readonly error: string;
  readonly message?: string;
  /** How many matching calls fail; afterwards the call works again. @default 1 */
  readonly times?: number;
  /** Matching calls that succeed before the fault strikes. @default 0 */
  readonly after?: number;
}

export interface EventFault {
  readonly detailType?: string;
  /** `detail.eventName` (ECS deployment events) to match. */
  readonly eventName?: string;
  /** `detail.deploymentId` to match. */
  readonly deploymentId?: string;
  readonly action: 'drop' | 'duplicate' | 'delay';
  /** For `delay`: extra seconds before delivery; for `duplicate`: seconds between the two copies. */
  readonly seconds?: number;
  /** How many matching events are affected. @default 1 */
  readonly times?: number;
}

/** Error codes that AWS answers with a 5xx; every other injected code is a 4xx client error. */
const serverErrorStatus: Readonly<Record<string, number>> = {
  ServerException: 500,
  InternalServerError: 500,
  InternalFailure: 500,
  InternalServiceError: 500,
  InternalError: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
};

export function statusForErrorCode(code: string): { fault: 'client' | 'server'; httpStatusCode: number } {
  const status = serverErrorStatus[code];
  return status ? { fault: 'server', httpStatusCode: status } : { fault: 'client', httpStatusCode: 400 };
}

/** Something that happens in the account just before a given API call is answered (a race). */
export interface CallHook {
  readonly service: SimulatedService;
  /** The command's name without the `Command` suffix, e.g. `UpdateService`. */
  readonly command: string;
  /** Matching calls answered before the hook runs. @default 0 */
  readonly after?: number;
  /** Runs once, synchronously, before the call is answered. */
  readonly action: () => void;
}

interface ArmedCallHook {
  readonly hook: CallHook;
  skipsLeft: number;
  done: boolean;
}

interface ArmedApiFault {
  readonly fault: ApiFault;
  skipsLeft: number;
  failuresLeft: number;
}

interface ArmedEventFault {
  readonly fault: EventFault;
  left: number;
}

export interface EventPlan {
  /** Delays (seconds after the normal delivery delay) at which copies are delivered; empty = dropped. */
  readonly deliveries: readonly number[];
}

export class FaultInjector {
  private readonly apiFaults: ArmedApiFault[] = [];
  private readonly eventFaults: ArmedEventFault[] = [];
  private readonly callHooks: ArmedCallHook[] = [];
  private hanging = false;
  /** Every fault that struck, in order, for reports and assertions. */
  readonly struck: string[] = [];

  inject(fault: ApiFault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`A fault needs times >= 1. Received: ${fault.times}`);
    }
    this.apiFaults.push({ fault, skipsLeft: fault.after ?? 0, failuresLeft: times });
  }

  injectEvent(fault: EventFault): void {
    this.eventFaults.push({ fault, left: fault.times ?? 1 });
  }

  duringCall(hook: CallHook): void {
    this.callHooks.push({ hook, skipsLeft: hook.after ?? 0, done: false });
  }

  /** Runs the hooks armed for this call (each once, when its turn comes). */
  runCallHooks(service: SimulatedService, command: string): void {
    for (const armed of this.callHooks) {
      if (armed.done || armed.hook.service !== service || armed.hook.command !== command) continue;
      if (armed.skipsLeft > 0) {
        armed.skipsLeft -= 1;
        continue;
      }
      armed.done = true;
      this.struck.push(`${service}.${command}: interleaved`);
      armed.hook.action();
    }
  }

  /** Makes the live service accept connections and never answer (a hanging smoke target). */
  hangLiveService(hang = true): void {
    this.hanging = hang;
  }

  get liveServiceHangs(): boolean {
    return this.hanging;
  }

  /** The fault this call must fail with, if one is armed for it. */
  takeApiFault(service: SimulatedService, command: string): ApiFault | undefined {
    for (const armed of this.apiFaults) {
      if (armed.fault.service !== service || armed.fault.command !== command || armed.failuresLeft === 0)
        continue;
      if (armed.skipsLeft > 0) {
        armed.skipsLeft -= 1;
        continue;
      }
      armed.failuresLeft -= 1;
      this.struck.push(`${service}.${command}: ${armed.fault.error}`);
      return armed.fault;
    }
    return undefined;
  }

  /** How an event is delivered: once, never, twice, or later. */
  planEvent(event: BusEvent): EventPlan {
    const armed = this.eventFaults.find((a) => a.left > 0 && eventMatches(a.fault, event));
    if (!armed) return { deliveries: [0] };
    armed.left -= 1;
    const label = `${event['detail-type']} ${String(event.detail.eventName ?? '')}`.trim();
    this.struck.push(`event ${armed.fault.action}: ${label}`);
    switch (armed.fault.action) {
      case 'drop':
        return { deliveries: [] };
      case 'duplicate':
        return { deliveries: [0, armed.fault.seconds ?? 0] };
      case 'delay':
        return { deliveries: [armed.fault.seconds ?? 0] };
    }
  }
}

function eventMatches(fault: EventFault, event: BusEvent): boolean {
  if (fault.detailType !== undefined && fault.detailType !== event['detail-type']) return false;
  if (fault.eventName !== undefined && fault.eventName !== event.detail.eventName) return false;
  if (fault.deploymentId !== undefined && fault.deploymentId !== event.detail.deploymentId) return false;
  return true;
}
