/**
 * Once per `jest` run: the current stack synthesized into cdk.out (or the up-to-date one reused), so
 * every sandbox test runs the same bundles, built once, with the stack's own bundling options.
 */
import { currentAssembly } from '../../sandbox/assembly/current-assembly';

export default async function globalSetup(): Promise<void> {
  await currentAssembly((message) => process.stderr.write(`\n${message}\n`));
}
