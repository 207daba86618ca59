/**
 * The `send` surface of a simulated service: each command class the service supports is routed to
 * a function of the simulation; a hook armed for the call runs first (something that happens in the
 * account just then), an armed fault fails the call; anything else is refused by name. Outputs carry `$metadata` as the SDK's do.
 */
import { randomUUID } from 'node:crypto';
import type { FaultInjector, SimulatedService } from './faults';
import { statusForErrorCode } from './faults';
import { awsErrorByName, UnsupportedSandboxCommand, type ServiceExceptionBase } from './sdk-errors';

type SdkCommandClass = abstract new (...args: never[]) => { readonly input: object };

export interface CommandRoute {
  readonly name: string;
  readonly matches: (command: unknown) => boolean;
  readonly handle: (input: object) => object | Promise<object>;
}

/** Routes one SDK command class to the function that answers it. */
export function route<C extends SdkCommandClass>(
  command: C,
  handle: (input: InstanceType<C>['input']) => object | Promise<object>,
): CommandRoute {
  return {
    name: command.name,
    matches: (candidate) => candidate instanceof command,
    handle: handle as (input: object) => object | Promise<object>,
  };
}

export interface SimulatedClient {
  readonly send: (command: unknown) => Promise<object>;
  /** Names of the command classes this client answers, e.g. `DescribeServicesCommand`. */
  readonly supportedCommands: readonly string[];
}

export function simulatedClient(
  service: SimulatedService,
  serviceLabel: string,
  exceptionBase: ServiceExceptionBase,
  faults: FaultInjector,
  routes: readonly CommandRoute[],
): SimulatedClient {
  const send = async (command: unknown): Promise<object> => {
    const selected = routes.find((r) => r.matches(command));
    const commandName =
      (command as { constructor?: { name?: string } })?.constructor?.name ?? String(command);
    if (!selected) throw new UnsupportedSandboxCommand(serviceLabel, commandName);
    const operation = selected.name.replace(/Command$/, '');
    faults.runCallHooks(service, operation);
    const fault = faults.takeApiFault(service, operation);
    if (fault) {
      const { fault: kind, httpStatusCode } = statusForErrorCode(fault.error);
      throw awsErrorByName(
        exceptionBase,
        fault.error,
        fault.message ?? `Injected fault: ${fault.error} on ${serviceLabel} ${selected.name}.`,
        kind,
        httpStatusCode,
      );
    }
    const output = await selected.handle((command as { input: object }).input ?? {});
    return {
      ...output,
      $metadata: {
        httpStatusCode: 200,
        requestId: randomUUID(),
        attempts: 1,
        totalRetryDelay: 0,
      },
    };
  };
  return { send, supportedCommands: routes.map((r) => r.name) };
}
