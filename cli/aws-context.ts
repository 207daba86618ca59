/**
 * What the commands that act on a real AWS account share: clients made once, the region, how the
 * state machine and the deployment table are found (flag, then an environment variable, then the
 * orchestrator stack's output), and a clock and sleep that tests replace.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  createAwsClients,
  createCloudFormationClient,
  type AwsClients,
  type SendOnly,
} from '../lambdas/aws/clients';
import { findStackOutput, findStateMachineArn, TABLE_OUTPUT_KEY } from '../lambdas/aws/step-functions';

export interface CliAwsDeps {
  readonly clients: (region: string) => AwsClients;
  readonly cloudFormation: (region: string) => SendOnly<CloudFormationClient>;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export const realAwsDeps: CliAwsDeps = {
  clients: (region) => createAwsClients({ region }),
  cloudFormation: (region) => createCloudFormationClient({ region }),
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function regionFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'eu-central-1';
}

export async function resolveStateMachineArn(
  deps: CliAwsDeps,
  region: string,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return flag ?? env.AFU9_STATE_MACHINE_ARN ?? findStateMachineArn(deps.cloudFormation(region));
}

export async function resolveTableName(
  deps: CliAwsDeps,
  region: string,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return (
    flag ??
    env.AFU9_DEPLOYMENT_TABLE ??
    findStackOutput(deps.cloudFormation(region), TABLE_OUTPUT_KEY, 'pass --table / set AFU9_DEPLOYMENT_TABLE')
  );
}
