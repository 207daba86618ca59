/**
 * What the commands that act on a real AWS account share: clients made once per profile and region,
 * how the state machine and the deployment table are found (flag, then an environment variable,
 * then the orchestrator stack's output), and a clock and sleep that tests replace.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  createAwsClients,
  createCloudFormationClient,
  type AwsClients,
  type SendOnly,
} from '../lambdas/aws/clients';
import { findStackOutput, findStateMachineArn, TABLE_OUTPUT_KEY } from '../lambdas/aws/step-functions';
import type { AwsTarget } from './aws-failure';

export type { AwsTarget } from './aws-failure';

export interface CliAwsDeps {
  readonly clients: (target: AwsTarget) => AwsClients;
  readonly cloudFormation: (target: AwsTarget) => SendOnly<CloudFormationClient>;
  /** `status` reads an infrastructure release's running build. */
  readonly codeBuild: (target: AwsTarget) => SendOnly<CodeBuildClient>;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Only the CLI reads CodeBuild (`status`); no function bundles this client. */
function createCodeBuildClient(target: AwsTarget): SendOnly<CodeBuildClient> {
  return new CodeBuildClient({
    region: target.region,
    maxAttempts: 5,
    retryMode: 'standard',
    ...(target.profile !== undefined && { profile: target.profile }),
  });
}

export const realAwsDeps: CliAwsDeps = {
  clients: (target) => createAwsClients(target),
  cloudFormation: (target) => createCloudFormationClient(target),
  codeBuild: (target) => createCodeBuildClient(target),
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function regionFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'eu-central-1';
}

/**
 * The account a command talks to, from `--profile` and `--region`, then the usual variables
 * (`AWS_PROFILE` is what the SDK would read itself; naming it lets errors name it too).
 */
export function awsTargetFrom(
  values: { readonly profile?: string; readonly region?: string },
  env: NodeJS.ProcessEnv,
): AwsTarget {
  const profile = values.profile ?? (env.AWS_PROFILE || undefined);
  return { region: regionFrom(values.region, env), ...(profile && { profile }) };
}

export async function resolveStateMachineArn(
  deps: CliAwsDeps,
  target: AwsTarget,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return flag ?? env.AFU9_STATE_MACHINE_ARN ?? findStateMachineArn(deps.cloudFormation(target));
}

export async function resolveTableName(
  deps: CliAwsDeps,
  target: AwsTarget,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return (
    flag ??
    env.AFU9_DEPLOYMENT_TABLE ??
    findStackOutput(deps.cloudFormation(target), TABLE_OUTPUT_KEY, 'pass --table / set AFU9_DEPLOYMENT_TABLE')
  );
}
