/**
 * The EventBridge rules that start deployments and wake waiting ones. Each target retries delivery
 * and parks what it finally cannot deliver in one encrypted dead-letter queue, so no trigger is
 * silently lost (alarms watch the queue). For the Lambda targets this covers only the delivery: once
 * Lambda accepted the event, EventBridge is done, and a function error is handled by the function's
 * asynchronous invocation config (AsyncInvocationFailures: two retries, then its on-failure queue).
 *
 * Duplicates: ECR delivers push events at least once, and EventBridge cannot name the executions it
 * starts, so a duplicate push starts a second execution. Deduplication is the workflow's job:
 * ResolveRequest records each deployment key in the table and ends a repeat as `ignored`.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag';

/** `detail.eventName` values of `ECS Deployment State Change` that end a deployment. */
export const DeploymentEndEvents = ['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED'] as const;

export interface DeploymentTriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Receives every deployment end event of the watched services and completes the waiting task token. */
  readonly deploymentEventFunction: lambda.IFunction;
  /** ECR repositories whose successful pushes start a deployment. */
  readonly repositoryNames: readonly string[];
  /**
   * The configured image tag prefixes (`imageTagPrefix` of each environment); only a push of a tag
   * with one of them starts a deployment.
   */
  readonly imageTagPrefixes: readonly string[];
  /** ECS services whose deployments are watched (service ARNs, as in the event's `resources`). */
  readonly serviceArns: readonly string[];
  /** The clusters those services run in (ARNs, as in a task event's `detail.clusterArn`). */
  readonly clusterArns: readonly string[];
  /** Those services' names; a task a service started carries `service:<name>` in `detail.group`. */
  readonly serviceNames: readonly string[];
}

export class DeploymentTriggers extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly imagePushRule: events.Rule;
  readonly deploymentFailedRule: events.Rule;
  readonly deploymentEndedRule: events.Rule;
  readonly taskStoppedRule: events.Rule;
  /** Every rule above. */
  readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: DeploymentTriggersProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      // SQS-managed encryption: EventBridge can deliver to it without a key policy of its own.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'SQS3',
      'This queue is itself the dead-letter queue of the EventBridge targets (EventBridge DLQs are set on the ' +
        'target, not as an SQS redrive policy, so the rule cannot see it); a queue behind it would only move the ' +
        'same messages again. The UndeliveredTriggers alarm watches it.',
    );

    // A start that cannot be delivered for two hours is better replayed by a person than late.
    const startDelivery = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 20,
      maxEventAge: Duration.hours(2),
    };

    this.imagePushRule = new events.Rule(this, 'ImagePushed', {
      description: 'A successful push of a configured tag to an AFU-9 repository starts a deployment',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': [...props.repositoryNames],
          // A multi-arch or attested push also pushes untagged child manifests and attestations, each
          // with its own event and no image-tag: only the tagged push may start an execution.
          'image-tag': props.imageTagPrefixes.map((prefix) => ({ prefix })),
        },
      },
    });
    this.imagePushRule.addTarget(new targets.SfnStateMachine(props.stateMachine, startDelivery));

    this.deploymentFailedRule = new events.Rule(this, 'DeploymentFailed', {
      description: 'A failed ECS deployment of an AFU-9 service starts the rollback branch',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        resources: [...props.serviceArns],
        detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
      },
    });
    this.deploymentFailedRule.addTarget(new targets.SfnStateMachine(props.stateMachine, startDelivery));

    this.deploymentEndedRule = new events.Rule(this, 'DeploymentEnded', {
      description: 'The end of an AFU-9 service deployment wakes the execution waiting for it',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        resources: [...props.serviceArns],
        detail: { eventName: [...DeploymentEndEvents] },
      },
    });
    // Past an hour the waiting execution has long woken up through its safety-net poll.
    const wakeDelivery = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 10,
      maxEventAge: Duration.hours(1),
    };
    this.deploymentEndedRule.addTarget(
      new targets.LambdaFunction(props.deploymentEventFunction, wakeDelivery),
    );

    // A stopped task of a rollout wakes its execution at once, so a stop that will not heal fails the
    // rollout before ECS's circuit breaker does. The pattern matches every cluster/service pair of
    // the lists; the function acts only on configured pairs and on the deployment in `startedBy`.
    this.taskStoppedRule = new events.Rule(this, 'TaskStopped', {
      description: 'A stopped task of an AFU-9 service wakes the execution waiting for its deployment',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [...props.clusterArns],
          group: props.serviceNames.map((name) => `service:${name}`),
          lastStatus: ['STOPPED'],
        },
      },
    });
    this.taskStoppedRule.addTarget(new targets.LambdaFunction(props.deploymentEventFunction, wakeDelivery));

    this.rules = [
      this.imagePushRule,
      this.deploymentFailedRule,
      this.deploymentEndedRule,
      this.taskStoppedRule,
    ];
  }
}
