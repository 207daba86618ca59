/**
 * The stack's bundled functions, one at a time, outside a workflow run: each built as the sandbox
 * builds it (its role's authorization, its template settings) in a fresh simulated account, for
 * inputs no workflow would pass it.
 */
import { readStackAssembly } from '../../sandbox/assembly/cloud-assembly';
import { environments } from './afu9-config';
import { currentAssembly } from '../../sandbox/assembly/current-assembly';
import { openSandboxAccount, type SandboxAccount } from '../../sandbox/run/account-port';
import { buildHandlers, type HandlerRecorders, type LambdaHandler } from '../../sandbox/run/handlers';
import { roleAuthorizer } from '../../sandbox/run/role-authorizer';
import { Scheduler } from '../../sandbox/run/scheduler';

export interface BundledFunctions {
  readonly sandbox: SandboxAccount;
  readonly recorders: HandlerRecorders;
  handler(handlerName: string): LambdaHandler;
}

/** Runs `use` with the bundled functions of the current stack, then closes the account. */
export async function withBundledFunctions<T>(use: (functions: BundledFunctions) => Promise<T>): Promise<T> {
  const assembly = readStackAssembly(await currentAssembly());
  const sandbox = await openSandboxAccount({ diffFixture: 'ecs-new-image.txt' }, { assembly, environments });
  try {
    const { stack } = sandbox;
    const scheduler = new Scheduler(sandbox.account.clock, { horizonMs: 3600_000, inFlightMs: 0 });
    const recorders: HandlerRecorders = { logLines: [], requests: [], authorizations: [] };
    const handlers = buildHandlers(
      sandbox.account,
      stack,
      roleAuthorizer(stack, sandbox.account),
      scheduler,
      recorders,
    );
    return await use({
      sandbox,
      recorders,
      handler(handlerName) {
        const found = handlers.get(handlerName);
        if (!found) throw new Error(`The stack has no function running ${handlerName}.`);
        return found;
      },
    });
  } finally {
    await sandbox.account.close();
  }
}
