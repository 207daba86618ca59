/**
 * The surface of the simulated AWS account that the sandbox runner drives. Implemented in
 * `sandbox/account/` (ECS, ECR, Secrets Manager, SNS, S3, DynamoDB, Step Functions task tokens,
 * EventBridge) on one VirtualClock; handlers reach it only through `clients` (the same `send`
 * surface as the SDK), never through these extra methods.
 */
import type { AwsClients } from '../../lambdas/aws/clients';
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
  /** SDK-shaped clients bound to this account. */
  readonly clients: AwsClients;
  readonly bus: EventBus;
  /** Every SNS Publish, in order. */
  readonly published: readonly PublishedMessage[];
  /** Task tokens completed through SendTaskSuccess / SendTaskFailure, delivered as they happen. */
  onTaskTokenCompleted(listener: (completion: TaskTokenCompletion) => void): () => void;
  /** Base URL of the live local HTTP service standing in for the Control Center. */
  readonly liveServiceUrl: string;
  /** Stops the live service and every scheduled action. */
  close(): Promise<void>;
}
