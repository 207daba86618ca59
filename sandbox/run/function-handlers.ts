/**
 * The stack's functions as the sandbox invokes them: a handler found by its name or by its
 * function's ARN, crashing before it runs when the scenario gives its function a fault.
 */
import type { DeployedFunction } from '../assembly/cloud-assembly';
import type { FunctionFault } from '../scenarios';
import type { LambdaHandler } from './handlers';
import { namedError } from './service-values';

export class FunctionHandlers {
  constructor(
    private readonly functions: readonly DeployedFunction[],
    private readonly handlers: ReadonlyMap<string, LambdaHandler>,
    private readonly functionFaults: ReadonlyMap<string, FunctionFault>,
    private readonly note: (text: string) => void,
  ) {}

  functionWithArn(functionArn: string): DeployedFunction {
    const fn = this.functions.find((candidate) => candidate.functionArn === functionArn);
    if (!fn) {
      throw new Error(
        `The sandbox has no function ${functionArn}; the definition names a function the stack lacks.`,
      );
    }
    return fn;
  }

  handlerNamed(handlerName: string): LambdaHandler {
    const handler = this.handlers.get(handlerName);
    if (!handler) {
      throw new Error(
        `The stack has no function running the ${handlerName} handler (POWERTOOLS_SERVICE_NAME ${handlerName}).`,
      );
    }
    const fault = this.functionFaults.get(handlerName);
    if (!fault) return handler;
    return () => {
      this.note(`${handlerName} crashes: ${fault.error}: ${fault.message}`);
      return Promise.reject(namedError(fault.error, fault.message));
    };
  }

  handlerFor(functionArn: string): LambdaHandler {
    return this.handlerNamed(this.functionWithArn(functionArn).handlerName);
  }
}
