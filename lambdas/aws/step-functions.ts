/**
 * Step Functions and CloudFormation calls the `afu9-deploy` CLI makes against a real account:
 * read the orchestrator stack's outputs (the state machine, the table), start a deployment, read an
 * execution and its history.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import type { AwsClients, SendOnly } from './clients';

/** The orchestrator stack's name and the output that holds the state machine ARN. */
export const ORCHESTRATOR_STACK_NAME = 'Afu9DeployOrchestrator';
/** Name of the deployment state machine; fixed so functions can be granted on it without a reference cycle. */
export const STATE_MACHINE_NAME = 'Afu9Deployment';
export const STATE_MACHINE_OUTPUT_KEY = 'StateMachineArn';
/** The output that names the deployment table (wait records and the ledger). */
export const TABLE_OUTPUT_KEY = 'TableName';

export class ExecutionAlreadyStarted extends Error {
  override readonly name = 'ExecutionAlreadyStarted';
  constructor(
    readonly executionArn: string,
    options?: ErrorOptions,
  ) {
    super(`An execution named like this one already exists: ${executionArn}`, options);
  }
}

/** A value the CLI looks up in the orchestrator stack's outputs is not there. */
export class StackOutputNotFound extends Error {
  override readonly name = 'StackOutputNotFound';
}

/**
 * One output of the orchestrator stack. `override` names how a person gives the value instead
 * (a flag, an environment variable); the error says it along with what went wrong.
 */
export async function findStackOutput(
  cloudFormation: SendOnly<CloudFormationClient>,
  outputKey: string,
  override: string,
  stackName: string = ORCHESTRATOR_STACK_NAME,
): Promise<string> {
  let output: string | undefined;
  try {
    const result = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    output = result.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === outputKey)?.OutputValue;
  } catch (error) {
    throw new StackOutputNotFound(
      `Could not read the stack ${stackName}: ${(error as Error).message}. ` +
        'Deploy the orchestrator (`npx cdk deploy`), check your AWS credentials and region, ' +
        `or ${override}.`,
      { cause: error },
    );
  }
  if (!output) {
    throw new StackOutputNotFound(
      `The stack ${stackName} has no ${outputKey} output. Redeploy the orchestrator stack, or ${override}.`,
    );
  }
  return output;
}

export function findStateMachineArn(
  cloudFormation: SendOnly<CloudFormationClient>,
  stackName: string = ORCHESTRATOR_STACK_NAME,
): Promise<string> {
  return findStackOutput(
    cloudFormation,
    STATE_MACHINE_OUTPUT_KEY,
    'pass --state-machine-arn / set AFU9_STATE_MACHINE_ARN',
    stackName,
  );
}

/** The ARN an execution of `stateMachineArn` named `name` has (Step Functions' documented form). */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
}

/**
 * Starts an execution. Step Functions answers a repeated name with the same input by returning the
 * running execution; a finished or differently-started one raises ExecutionAlreadyExists, which
 * becomes ExecutionAlreadyStarted carrying the existing execution's ARN.
 */
export async function startExecution(
  clients: Pick<AwsClients, 'sfn'>,
  input: { stateMachineArn: string; name: string; input: unknown },
): Promise<{ executionArn: string; startDate: Date }> {
  try {
    const result = await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: input.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.input),
      }),
    );
    return { executionArn: result.executionArn!, startDate: result.startDate ?? new Date() };
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') {
      throw new ExecutionAlreadyStarted(executionArnFor(input.stateMachineArn, input.name), { cause: error });
    }
    throw error;
  }
}

export async function describeExecution(
  clients: Pick<AwsClients, 'sfn'>,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  return clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/** The history events after `afterEventId` (all of them when omitted), oldest first, every page read. */
export async function historySince(
  clients: Pick<AwsClients, 'sfn'>,
  executionArn: string,
  afterEventId = 0,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        nextToken,
        maxResults: 1000,
        includeExecutionData: true,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.filter((event) => (event.id ?? 0) > afterEventId);
}
