/**
 * The surface of the simulated AWS account that the sandbox runner drives. Implemented in
 * `sandbox/account/` (ECS, ECR, Secrets Manager, SNS, S3, DynamoDB, SSM Parameter Store, Step Functions task tokens,
 * EventBridge) on one VirtualClock; handlers reach it only through `clients` (the same `send`
 * surface as the SDK), never through these extra methods.
 */
import type { StackUpdateEnding } from './cloudformation';
import type { AwsClients } from '../../lambdas/aws/clients';
import type { EnvironmentName, Environments } from '../../lambdas/domain/environments';
import type { Item } from './dynamodb/expressions';
import type { ApiFault, CallHook, EventFault } from './faults';
import type { SecretCondition } from './secrets-manager';
import type { StoredParameter } from './ssm';
import type { ExecutionRecord } from './sfn';
import type { VirtualClock } from './virtual-clock';

/** An event as EventBridge delivers it (the documented envelope). */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

export interface EventBus {
  /** Delivers an event to every subscriber whose filter accepts it (as an EventBridge rule would). */
  put(event: BusEvent): void;
  /** Returns an unsubscribe function. */
  subscribe(filter: (event: BusEvent) => boolean, deliver: (event: BusEvent) => void): () => void;
  /** Every event ever put, in order. */
  readonly history: readonly BusEvent[];
}

/** How a revision of the Control Center behaves when ECS starts it in the sandbox. */
export type RevisionBehaviour =
  /** Starts and passes health checks. */
  | { readonly kind: 'healthy' }
  /** Essential container exits at boot with this exit code. */
  | { readonly kind: 'crash-on-boot'; readonly exitCode: number }
  /** Starts but never passes the container / ELB health check. */
  | { readonly kind: 'fail-health-check' }
  /** Starts, passes ECS health checks, but the app answers 503 on readiness (smoke fails). */
  | { readonly kind: 'not-ready' };

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly at: string;
}

export interface TaskTokenCompletion {
  readonly token: string;
  readonly outcome: 'success' | 'failure';
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface SimulatedAccount {
  readonly accountId: string;
  readonly region: string;
  readonly clock: VirtualClock;
  /** The configured environments the account was seeded from. */
  readonly environments: Environments;
  /** SDK-shaped clients bound to this account. */
  readonly clients: AwsClients;
  readonly bus: EventBus;
  /** Every SNS Publish, in order. */
  readonly published: readonly PublishedMessage[];
  /** A publish by an AWS service (an alarm), already authorized; injected API faults do not strike it. */
  publishAsService(topicArn: string, subject: string, message: string): void;
  /** Task tokens completed through SendTaskSuccess / SendTaskFailure, delivered as they happen. */
  onTaskTokenCompleted(listener: (completion: TaskTokenCompletion) => void): () => void;
  /** Base URL of the live local HTTP service standing in for the configured service. */
  readonly liveServiceUrl: string;
  /** Base URL of the live service for one environment. */
  liveServiceUrlFor(environment: EnvironmentName): string;
  /** Stops the live service and every scheduled action. */
  close(): Promise<void>;

  /** Scenario controls: what AWS or a person would do outside the orchestrator. */
  readonly faults: FaultControl;
  readonly ecs: EcsControl;
  readonly ecr: EcrControl;
  readonly secretsManager: SecretsControl;
  readonly s3: S3Control;
  readonly sfn: SfnControl;
  readonly dynamodb: { items(tableName: string): Item[] };
  readonly ssm: SsmControl;
  readonly cloudformation: CloudFormationControl;
  /** Per client, the SDK command class names it answers (e.g. `DescribeServicesCommand`). */
  readonly supportedCommands: Readonly<Record<keyof AwsClients, readonly string[]>>;
}

export interface FaultControl {
  /** Fails the next matching API call(s) with an AWS error code. */
  inject(fault: ApiFault): void;
  /** Drops, duplicates or delays the next matching EventBridge event(s). */
  injectEvent(fault: EventFault): void;
  /** Makes the live service accept requests and never answer. */
  hangLiveService(hang?: boolean): void;
  /** Makes something happen in the account just before a given API call is answered. */
  duringCall(hook: CallHook): void;
  /** Every fault that struck, in order. */
  readonly struck: readonly string[];
}

/** The revision an environment's load balancer routes to. */
export interface ServingRevision {
  readonly taskDefinitionArn: string;
  readonly version: string;
  readonly behaviour: RevisionBehaviour;
}

export interface EcsControl {
  /** The revision with healthy, registered tasks (PRIMARY's first), or undefined when none. */
  servingRevision(environment: EnvironmentName): ServingRevision | undefined;
  /** The task definition of the service's PRIMARY deployment. */
  primaryTaskDefinition(environment: EnvironmentName): string;
  /**
   * ECS's circuit breaker fails the environment's deployment in progress now, as if its failed-task
   * threshold had just been reached (and rolls back when the service has rollback on). Returns
   * false when no deployment is in progress.
   */
  tripCircuitBreaker(environment: EnvironmentName): boolean;
  /** How a revision whose image has this tag or digest behaves from now on. */
  setBehaviour(imageTagOrDigest: string, behaviour: RevisionBehaviour): void;
  /** The newest revision number of a task definition family, whatever its status. */
  latestTaskDefinitionRevision(family: string): number | undefined;
  /** The ARN ECS resolves a bare family to: its newest ACTIVE revision. */
  latestActiveTaskDefinitionArn(family: string): string | undefined;
  /**
   * Deploys an image as someone outside the orchestrator would (e.g. the deployment a raw ECS
   * event describes): registers a revision from the service's current one with the primary
   * container on this image, and starts a deployment, with the given id when one is named.
   */
  deployImage(input: {
    readonly environment: EnvironmentName;
    readonly imageTag: string;
    readonly deploymentId?: string;
  }): { readonly taskDefinitionArn: string; readonly deploymentId: string };
}

export interface EcrControl {
  /** Pushes an image (emits `ECR Image Action`); returns its digest. */
  pushImage(
    repository: string,
    tag: string,
    options?: { readonly digest?: string; readonly emitEvent?: boolean },
  ): string;
  deleteImage(repository: string, tagOrDigest: string): void;
  /** The digest a tag points at, or undefined when the image is not there. */
  digestOf(repository: string, tag: string): string | undefined;
}

export interface SecretsControl {
  setCondition(name: string, condition: SecretCondition): void;
  arnOf(name: string): string;
  /** The full ARN of the secret a SecretId (name, ARN, ARN without suffix) names; undefined when none. */
  arnFor(secretId: string): string | undefined;
}

/** The infrastructure stacks, as CloudFormation holds them. */
export interface CloudFormationControl {
  /** Starts an update of the stack (what `cdk deploy` asks for); returns when and how it ends. */
  startUpdate(
    name: string,
    ending: StackUpdateEnding,
  ): { readonly endsAtMs: number; readonly finalStatus: string };
  /** The stack's status now. */
  status(name: string): string;
  /** The stack's ARN (with its id) for a name, or an ARN as it is; undefined for an unknown name. */
  stackArn(nameOrArn: string): string | undefined;
}

export interface SsmControl {
  /** Every parameter Parameter Store holds, by name. */
  parameters(): readonly StoredParameter[];
}

export interface S3Control {
  createBucket(name: string): void;
  putObject(bucket: string, key: string, body: string): void;
  getObjectText(bucket: string, key: string): string | undefined;
}

export interface SfnControl {
  /** A task token for a `waitForTaskToken` state. */
  issueToken(): string;
  /** Whether this token was issued by the account's Step Functions. */
  issued(token: string): boolean;
  /** The wait timed out: a late SendTask* gets TaskTimedOut. */
  expireToken(token: string): void;
  /** Makes DescribeExecution know an execution (and its status). */
  recordExecution(execution: ExecutionRecord): void;
  finishExecution(executionArn: string, status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'): void;
  /** Whether an execution of this ARN ran (Step Functions keeps a name taken for 90 days). */
  executionExists(executionArn: string): boolean;
}
