/**
 * Errors the simulated account throws, shaped like the SDK's service exceptions (`name` = AWS error
 * code, `$fault`, `$metadata.httpStatusCode`, message) and, where the SDK has a class for the code,
 * an instance of that very class, so adapters that check `instanceof` or `name` behave as on AWS.
 */
import { randomUUID } from 'node:crypto';

/** The shape every SDK service exception has. */
export interface SdkServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode?: number };
}

/** What every SDK exception constructor accepts. */
interface ExceptionOptions {
  readonly message: string;
  readonly $metadata: {
    readonly httpStatusCode: number;
    readonly requestId: string;
    readonly attempts: number;
  };
}

export type ExceptionClass<E extends SdkServiceError> = new (options: ExceptionOptions) => E;

/** The base class each SDK client exports for its service (`ECSServiceException`, ...). */
export type ServiceExceptionBase = new (options: {
  name: string;
  $fault: 'client' | 'server';
  message: string;
  $metadata: ExceptionOptions['$metadata'];
}) => SdkServiceError;

function metadata(httpStatusCode: number): ExceptionOptions['$metadata'] {
  return { httpStatusCode, requestId: randomUUID(), attempts: 1 };
}

/** An instance of the SDK's own exception class for this error code. */
export function awsError<E extends SdkServiceError>(
  exceptionClass: ExceptionClass<E>,
  message: string,
  httpStatusCode = 400,
): E {
  return new exceptionClass({ message, $metadata: metadata(httpStatusCode) });
}

/** An error code the SDK has no class for (e.g. ECS throttling), on the service's base class. */
export function awsErrorByName(
  base: ServiceExceptionBase,
  name: string,
  message: string,
  fault: 'client' | 'server',
  httpStatusCode: number,
): SdkServiceError {
  return new base({ name, $fault: fault, message, $metadata: metadata(httpStatusCode) });
}

/** A command the simulated account does not implement: loud, never an empty answer. */
export class UnsupportedSandboxCommand extends Error {
  constructor(service: string, commandName: string) {
    super(
      `The sandbox's simulated ${service} does not support ${commandName}. ` +
        `Add it to the ${service} simulation in sandbox/account/ so the sandbox answers it as AWS would.`,
    );
    this.name = 'UnsupportedSandboxCommand';
  }
}
