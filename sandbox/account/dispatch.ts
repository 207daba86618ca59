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

/**
 * `<namespace>#<Operation>` of an SDK v3 command, e.g. `com.amazonaws.ecs#UpdateService`: read from
 * the operation schema every command carries (a lib-dynamodb command, from the client command it
 * wraps). A Lambda bundle carries its own copy of the SDK, so its commands are instances of other
 * classes than the sandbox's: they are recognised by what they ask for, not by their class.
 */
export function operationOf(command: unknown): string | undefined {
  const candidate = command as { schema?: unknown; clientCommand?: { schema?: unknown } } | null;
  const schema = candidate?.clientCommand?.schema ?? candidate?.schema;
  if (!Array.isArray(schema) || typeof schema[1] !== 'string' || typeof schema[2] !== 'string') {
    return undefined;
  }
  return `${schema[1]}#${schema[2]}`;
}

/** Routes one SDK command (of this class, or of a bundle's copy of it) to the function that answers it. */
export function route<C extends SdkCommandClass>(
  command: C,
  handle: (input: InstanceType<C>['input']) => object | Promise<object>,
): CommandRoute {
  const operation = operationOf(new (command as unknown as new (input: object) => object)({}));
  if (!operation) {
    throw new Error(
      `${command.name} carries no operation schema; the AWS SDK's command layout changed. ` +
        'Update operationOf in sandbox/account/dispatch.ts.',
    );
  }
  return {
    name: command.name,
    matches: (candidate) => operationOf(candidate) === operation,
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
