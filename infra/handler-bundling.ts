/**
 * How every handler is bundled: the one definition the stack's NodejsFunctions use and the bench
 * reproduces with esbuild, so what the tests and the sandbox run is what ships.
 */
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { deployConfigDocument, type DeployConfig } from '../lambdas/domain/deploy-config';

export const handlerBundling: BundlingOptions & {
  readonly minify: boolean;
  readonly keepNames: boolean;
  readonly sourceMap: boolean;
  readonly mainFields: string[];
} = {
  forceDockerBundling: false,
  format: OutputFormat.CJS,
  minify: true,
  // Step Functions routes Retry/Catch on `error.name`, which the Node.js runtime reports as the
  // error type: minifying must not rename the error classes (or any other function).
  keepNames: true,
  sourceMap: true,
  // The SDK is bundled, not taken from the runtime: the functions run exactly the SDK version
  // the tests ran against (the runtime's copy is upgraded by AWS at any time). The ESM builds
  // let esbuild tree-shake the modules a handler never reaches.
  bundleAwsSDK: true,
  mainFields: ['module', 'main'],
};

/**
 * The identifier lambdas/handlers/runtime.ts reads the configuration from, replaced by esbuild with
 * the configuration's JSON text. Bundled rather than an environment variable: one copy of the file
 * the stack was built from, and no 4 KB limit on the variables of a function.
 */
export const BUNDLED_CONFIG_IDENTIFIER = '__DEPLOY_CONFIG__';

/** `define` for esbuild: the configuration as a string literal in the bundle. */
export function bundledConfigDefine(config: DeployConfig): Record<string, string> {
  return { [BUNDLED_CONFIG_IDENTIFIER]: JSON.stringify(JSON.stringify(deployConfigDocument(config))) };
}

/** The bundling of every function of a stack built from this configuration. */
export function bundlingWithConfig(config: DeployConfig): BundlingOptions {
  return { ...handlerBundling, define: bundledConfigDefine(config) };
}
