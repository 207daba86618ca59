/**
 * What a run's input says, and a run started from a raw input (`simulate --input`): the environment
 * the input is about, the account a raw event names, the history a raw event implies (made to
 * happen in the account first), and where the input goes (an execution, or the event bus).
 */
import {
  environmentNamed,
  type EnvironmentConfig,
  type Environments,
} from '../../lambdas/domain/environments';
import { parseTriggerInput } from '../../lambdas/domain/trigger-events';
import type { BusEvent } from '../account/simulated-account';
import type { SandboxAccount } from './account-port';
import type { Scenario } from '../scenarios';
import { rehearsalEnvironment } from '../scenarios/configured';
import { releasePushes } from './release-pushes';
import type { Simulation } from './simulation';

/** The service's ARN in `accountId`, or in any account when none is given (reading a raw input). */
function serviceArnMatches(resource: string, env: EnvironmentConfig, accountId?: string): boolean {
  return new RegExp(
    `^arn:aws[a-z-]*:ecs:${env.region}:${accountId ?? '\\d{12}'}:service/${env.clusterName}/${env.serviceName}$`,
  ).test(resource);
}

/**
 * The raw inputs the stack's rules act on, for making their history before a run (the image a push
 * names, the failed deployment an event names); the run itself routes events by the template's rules.
 */
const rules = {
  ecrPush(event: BusEvent, environments: Environments): boolean {
    const detail = event.detail;
    return (
      event.source === 'aws.ecr' &&
      event['detail-type'] === 'ECR Image Action' &&
      detail['action-type'] === 'PUSH' &&
      detail.result === 'SUCCESS' &&
      Object.values(environments).some((env) =>
        env.containers.some((container) => container.repository === detail['repository-name']),
      )
    );
  },
  ecsDeployment(
    event: BusEvent,
    eventNames: readonly string[],
    accountId: string,
    environments: Environments,
  ): boolean {
    return (
      event.source === 'aws.ecs' &&
      event['detail-type'] === 'ECS Deployment State Change' &&
      eventNames.includes(String(event.detail.eventName)) &&
      event.resources.some((resource) =>
        Object.values(environments).some((env) => serviceArnMatches(resource, env, accountId)),
      )
    );
  },
};

/**
 * The Parameters keys a state fills from `$$.Execution.StartTime`. aws-local-stepfunctions always sets

/** The environment a run is about: the one its input names, else the one rehearsals deploy to. */
export function environmentOf(input: unknown, environments: Environments): EnvironmentConfig {
  try {
    const trigger = parseTriggerInput(input);
    const named =
      trigger.kind === 'start' ? environmentNamed(environments, trigger.input.environment) : undefined;
    if (named) return named;
    if (trigger.kind === 'ecs-deployment-state-change') {
      const found = Object.values(environments).find((env) =>
        trigger.event.resources.some((resource) => serviceArnMatches(resource, env)),
      );
      if (found) return found;
    }
  } catch {
    // An input the workflow will reject is still run; the run is about the rehearsal's environment then.
  }
  return rehearsalEnvironment(environments);
}

/** A raw event is played in the account it names, so its ARNs are the sandbox's own. */
export function eventAccount(input: unknown): string | undefined {
  const account = (input as { account?: unknown } | null)?.account;
  return typeof account === 'string' && /^\d{12}$/.test(account) ? account : undefined;
}

function recognised(input: unknown) {
  try {
    return parseTriggerInput(input);
  } catch {
    return undefined;
  }
}

/**
 * What happened before an input was sent, made to happen in the account: the scenario's own image
 * is in ECR as its world has it; a push event's image is in ECR (the event says it was pushed); the
 * failed ECS deployment an event names ran and failed on the service; the images a start input
 * names are in ECR only with `pushed`, and otherwise stay missing as the account would have them.
 * Returns a line for each.
 */
export async function makeHistory(
  sandbox: SandboxAccount,
  scenario: Scenario,
  input: unknown,
  pushed: boolean,
): Promise<string[]> {
  const own = scenario.trigger;
  if (own.kind === 'start') sandbox.provideRequestedImages(own.input);
  else if (own.kind === 'push') sandbox.pushImage(own.repository, own.tag, { emitEvent: false });
  else {
    const environment = rehearsalEnvironment(sandbox.account.environments);
    for (const push of releasePushes(environment, own.tag, own.containers))
      sandbox.pushImage(push.repository, push.tag, { emitEvent: false });
  }
  const trigger = recognised(input);
  if (trigger?.kind === 'start') {
    const missing = await sandbox.missingImages(trigger.input);
    if (missing.length === 0) return [];
    if (pushed) {
      sandbox.provideRequestedImages(trigger.input, { pushed: true });
      return [`history: CI pushed ${missing.join(', ')} to ECR (--pushed)`];
    }
    return [
      `not in ECR, never pushed in this world: ${missing.join(', ')}; the account refuses the deployment as AWS ` +
        'would (give --pushed to treat the images the input names as pushed first)',
    ];
  }
  const { environments } = sandbox.account;
  if (trigger?.kind === 'ecr-image-action' && rules.ecrPush(input as BusEvent, environments)) {
    const detail = trigger.event.detail;
    const tag = detail['image-tag'];
    if (tag === undefined) return [];
    sandbox.pushImage(detail['repository-name'], tag, {
      emitEvent: false,
      ...(detail['image-digest'] !== undefined ? { digest: detail['image-digest'] } : {}),
    });
    return [
      `history: CI pushed ${detail['repository-name']}:${tag} (${detail['image-digest'] ?? 'no digest'}) to ECR`,
    ];
  }
  if (
    trigger?.kind === 'ecs-deployment-state-change' &&
    rules.ecsDeployment(
      input as BusEvent,
      ['SERVICE_DEPLOYMENT_FAILED'],
      sandbox.account.accountId,
      environments,
    )
  ) {
    const env = environmentOf(input, environments);
    const { deploymentId, reason } = trigger.event.detail;
    await sandbox.failDeployment(env, deploymentId);
    return [
      `history: ECS deployment ${deploymentId} of ${env.serviceName} ran a build that crashes on boot and failed` +
        (reason ? ` (${reason})` : ''),
    ];
  }
  return [];
}

/**
 * `--input`: an execution input starts an execution as `start-execution` would; a raw event goes
 * onto the bus, where the stack's rules route it (or nothing does, as AWS would never deliver it).
 */
export function startWithRawInput(
  simulation: Pick<Simulation, 'startFromInput' | 'note' | 'executions'>,
  sandbox: SandboxAccount,
  input: unknown,
  label: string,
  executionName?: string,
): void {
  const trigger = recognised(input);
  if (trigger === undefined || trigger.kind === 'start') {
    // An input the workflow cannot read is still started: ResolveRequest refuses it, as in AWS.
    simulation.startFromInput(input, `start-execution with ${label}`, executionName);
    return;
  }
  const description =
    trigger.kind === 'other-event'
      ? `a ${trigger.detailType} event from ${trigger.source}`
      : `the event in ${label}`;
  simulation.note(`EventBridge receives ${description}`);
  sandbox.account.bus.put(input as BusEvent);
  if (simulation.executions.length === 0) {
    simulation.note('no rule of the orchestrator stack starts an execution for it: nothing runs, as in AWS');
  }
}
