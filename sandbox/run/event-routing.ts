/**
 * EventBridge as the stack's rules route: each enabled rule's matching events go to its targets,
 * each delivery authorized as AWS authorizes it. A state machine target starts an execution; the
 * wake-up function is invoked asynchronously; an event that may not be delivered goes to the
 * target's dead-letter queue, if EventBridge may send it there.
 */
import type { BusEvent, EventBus } from '../account/simulated-account';
import type { SimulatedSqs } from '../account/sqs';
import type { DeployedRule, DeployedStack } from '../assembly/cloud-assembly';
import type { PolicySource } from '../iam/authorize';
import { ruleSendsToQueue } from '../iam/deliveries';
import type { SimulatedCloudWatch } from './cloudwatch';
import { authorizeDelivery, patternMatches } from './deliveries';
import type { ExecutionTrigger } from './execution';
import type { AuthorizationRecord } from './function-clients';
import { eventsMetric } from './metrics';
import { deadLetterAttributes, judgeDelivery } from './service-deliveries';
import { jsonCopy, uuidFrom } from './service-values';

/** What routing events needs from the simulation. */
export interface EventRoutingContext {
  readonly bus: EventBus;
  readonly stack: DeployedStack;
  readonly policies: PolicySource;
  /** Where each judged delivery is recorded, in order. */
  readonly authorizations: AuthorizationRecord[];
  readonly cloudwatch: Pick<SimulatedCloudWatch, 'record'>;
  readonly sqs: Pick<SimulatedSqs, 'send'>;
  readonly note: (text: string) => void;
  /** Starts an execution of the state machine (refused when the name was used). */
  readonly startExecution: (name: string, input: unknown, trigger: ExecutionTrigger) => void;
  /** Invokes the wake-up function asynchronously with the event. */
  readonly deliverDeploymentEvent: (event: BusEvent) => void;
}

export class EventRouting {
  private deliveries = 0;

  constructor(private readonly context: EventRoutingContext) {}

  /** EventBridge routes as the template's enabled rules do, each delivery authorized as AWS authorizes it. */
  routeEvents(): void {
    const { bus, stack } = this.context;
    for (const rule of stack.rules.filter((candidate) => candidate.enabled)) {
      for (const target of rule.targets) {
        const deliver = this.deliveryTo(rule, target.arn);
        bus.subscribe(
          (event) => patternMatches(rule, event),
          (event) => {
            const verdict = authorizeDelivery(stack, rule, target);
            this.context.authorizations.push(verdict.record);
            if (verdict.allowed) {
              deliver(event);
              return;
            }
            this.context.note(
              `EventBridge rule ${rule.name} may not deliver to ${target.arn}: AccessDenied, ${verdict.reason}`,
            );
            this.context.cloudwatch.record(eventsMetric('FailedInvocations', rule.name));
            this.sendToDeadLetterQueue(rule, target, event, verdict.reason);
          },
        );
      }
    }
  }

  /**
   * An event EventBridge could not deliver goes to the target's dead-letter queue, if the queue's
   * policy lets EventBridge send it for this rule; otherwise it is gone.
   */
  private sendToDeadLetterQueue(
    rule: DeployedRule,
    target: DeployedRule['targets'][number],
    event: BusEvent,
    why: string,
  ): void {
    const { note } = this.context;
    if (!target.deadLetterArn) {
      note(`the event is dropped: the target of rule ${rule.name} has no dead-letter queue`);
      return;
    }
    const queue = this.context.stack.queues.find((candidate) => candidate.arn === target.deadLetterArn);
    if (!queue) {
      throw new Error(
        `Rule ${rule.logicalId} names the dead-letter queue ${target.deadLetterArn}, which is not a queue of the stack; ` +
          "the sandbox models the template's queues only.",
      );
    }
    const verdict = judgeDelivery(
      `EventBridge rule ${rule.name}`,
      ruleSendsToQueue({
        ruleArn: rule.arn,
        queueArn: queue.arn,
        ...(queue.kmsKeyArn ? { queueKmsKeyArn: queue.kmsKeyArn } : {}),
      }),
      this.context.policies,
    );
    this.context.authorizations.push(...verdict.records);
    if (!verdict.allowed) {
      this.context.cloudwatch.record(eventsMetric('InvocationsFailedToBeSentToDlq', rule.name));
      note(
        `EventBridge may not send the event to the dead-letter queue ${queue.name} either (AccessDenied, ${verdict.reason}): the event is dropped`,
      );
      return;
    }
    note(`EventBridge parks the event in the dead-letter queue ${queue.name}`);
    this.context.sqs.send(
      queue.arn,
      JSON.stringify(event),
      deadLetterAttributes({ ruleArn: rule.arn, targetArn: target.arn, errorMessage: why }),
    );
  }

  /** What a delivery to the target does: start an execution, or invoke the wake-up function. */
  private deliveryTo(rule: DeployedRule, targetArn: string): (event: BusEvent) => void {
    const { stack } = this.context;
    if (targetArn === stack.stateMachineArn) return (event) => this.startFromEvent(event);
    if (stack.functions.find((fn) => fn.functionArn === targetArn)?.handlerName === 'deployment-event') {
      return (event) => this.context.deliverDeploymentEvent(event);
    }
    throw new Error(
      `Rule ${rule.logicalId} targets ${targetArn}, which the sandbox does not simulate as an EventBridge target. ` +
        'Simulate it in sandbox/run/event-routing.ts before adding the target to the stack.',
    );
  }

  private startFromEvent(event: BusEvent): void {
    this.deliveries += 1;
    const detail = event.detail;
    const what =
      event.source === 'aws.ecr'
        ? `ECR push ${String(detail['repository-name'])}:${String(detail['image-tag'] ?? '')}`
        : `ECS ${String(detail.eventName)} ${String(detail.deploymentId)}`;
    // EventBridge's StartExecution names an execution with a fresh UUID on every delivery.
    this.context.startExecution(uuidFrom(`${event.id}#${this.deliveries}`), jsonCopy(event), {
      kind: 'eventbridge',
      description: `EventBridge rule on ${what}`,
    });
  }
}
