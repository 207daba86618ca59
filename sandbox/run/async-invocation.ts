/**
 * Lambda's asynchronous invocation of the wake-up function, as EventBridge invokes it: retries after
 * a function error as the function's EventInvokeConfig says, and the record of an event it gives up
 * on sent to the on-failure destination.
 */
import type { BusEvent } from '../account/simulated-account';
import type { IdSource } from '../account/ids';
import type { SimulatedSqs } from '../account/sqs';
import type { VirtualClock } from '../account/virtual-clock';
import type { DeployedFunction, DeployedStack } from '../assembly/cloud-assembly';
import type { PolicySource } from '../iam/authorize';
import { onFailureDestination } from '../iam/deliveries';
import type { SimulatedCloudWatch } from './cloudwatch';
import type { FunctionHandlers } from './function-handlers';
import type { AuthorizationRecord } from './function-clients';
import { lambdaMetric } from './metrics';
import type { Scheduler } from './scheduler';
import { invocationRecord, judgeDelivery, type GiveUpCondition } from './service-deliveries';
import { jsonCopy } from './service-values';

/**
 * Lambda's asynchronous invocation after a function error: the first retry a minute later, the
 * second two minutes after that (the EventInvokeConfig decides how many are made).
 */
const ASYNC_RETRY_DELAYS_SECONDS = [60, 120] as const;

/** What invoking a function asynchronously needs from the simulation. */
export interface AsyncInvocationContext {
  readonly stack: DeployedStack;
  readonly functions: FunctionHandlers;
  readonly clock: VirtualClock;
  readonly scheduler: Pick<Scheduler, 'spawn' | 'sleep'>;
  /** Where Lambda's request ids come from. */
  readonly serviceIds: IdSource;
  readonly policies: PolicySource;
  /** Where each judged delivery is recorded, in order. */
  readonly authorizations: AuthorizationRecord[];
  readonly cloudwatch: Pick<SimulatedCloudWatch, 'record'>;
  readonly sqs: Pick<SimulatedSqs, 'send'>;
  readonly note: (text: string) => void;
}

export class AsyncInvocation {
  constructor(private readonly context: AsyncInvocationContext) {}

  /**
   * The wake-up Lambda, invoked asynchronously as EventBridge does. After a function error Lambda
   * retries as the function's EventInvokeConfig says (a minute, then two minutes later), and gives up
   * on an event that would be older than its maximum age; then it sends the invocation record to the
   * on-failure destination, as the function's role.
   */
  deliverDeploymentEvent(event: BusEvent): void {
    const { clock, scheduler, note } = this.context;
    const handler = this.context.functions.handlerNamed('deployment-event');
    const fn = this.context.stack.functions.find(
      (candidate) => candidate.handlerName === 'deployment-event',
    )!;
    const config = fn.asyncInvocation;
    const label =
      event['detail-type'] === 'ECS Task State Change'
        ? `TASK_STOPPED ${String(event.detail.startedBy)} ${String(event.detail.taskArn).split('/').pop()}`
        : `${String(event.detail.eventName)} ${String(event.detail.deploymentId)}`;
    note(`EventBridge delivers ${label} to the deployment-event function`);
    const receivedMs = clock.nowMillis();
    const requestId = this.context.serviceIds.uuid();
    void scheduler.spawn(async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await handler(jsonCopy(event));
          return;
        } catch (error) {
          this.context.cloudwatch.record(lambdaMetric('Errors', fn.functionName));
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          const delay =
            attempt < config.maximumRetryAttempts ? ASYNC_RETRY_DELAYS_SECONDS[attempt] : undefined;
          const tooOld =
            delay !== undefined &&
            clock.nowMillis() + delay * 1000 - receivedMs > config.maximumEventAgeSeconds * 1000;
          if (delay === undefined || tooOld) {
            const condition: GiveUpCondition = tooOld ? 'EventAgeExceeded' : 'RetriesExhausted';
            note(
              `deployment-event failed on ${label} after ${attempt + 1} attempt(s) (${message}); ` +
                `Lambda gives up on it (${condition})`,
            );
            this.sendToOnFailureDestination(fn, event, {
              requestId,
              condition,
              approximateInvokeCount: attempt + 1,
              error,
            });
            return;
          }
          note(`deployment-event failed on ${label} (${message}); Lambda retries in ${delay} s`);
          await scheduler.sleep(delay * 1000, `deployment-event retry ${label}`);
        }
      }
    });
  }

  /** Lambda hands the record of an event that failed for good to the on-failure destination, if any. */
  private sendToOnFailureDestination(
    fn: DeployedFunction,
    event: BusEvent,
    failure: {
      requestId: string;
      condition: GiveUpCondition;
      approximateInvokeCount: number;
      error: unknown;
    },
  ): void {
    const { stack, note } = this.context;
    const destination = fn.asyncInvocation.onFailureArn;
    if (!destination) {
      note(`${fn.handlerName} has no on-failure destination: Lambda drops the event`);
      return;
    }
    const queue = stack.queues.find((candidate) => candidate.arn === destination);
    if (!queue) {
      throw new Error(
        `The on-failure destination of ${fn.logicalId} is ${destination}, which is not a queue of the stack; ` +
          "the sandbox models the template's SQS queues as destinations.",
      );
    }
    const verdict = judgeDelivery(
      `Lambda on-failure destination of ${fn.handlerName}`,
      onFailureDestination({
        functionRole: {
          kind: 'role',
          roleArn: fn.roleArn,
          sessionArn: `arn:aws:sts::${stack.accountId}:assumed-role/${fn.roleName}/${fn.functionName}`,
          accountId: stack.accountId,
        },
        destinationArn: queue.arn,
        ...(queue.kmsKeyArn ? { destinationKmsKeyArn: queue.kmsKeyArn } : {}),
      }),
      this.context.policies,
    );
    this.context.authorizations.push(...verdict.records);
    if (!verdict.allowed) {
      this.context.cloudwatch.record(lambdaMetric('DestinationDeliveryFailures', fn.functionName));
      note(
        `Lambda may not send the failed event to ${queue.name} as ${fn.handlerName}'s role (AccessDenied, ${verdict.reason}): the event is lost`,
      );
      return;
    }
    note(`Lambda sends the record of the failed event to the on-failure queue ${queue.name}`);
    this.context.sqs.send(
      queue.arn,
      invocationRecord({
        at: this.context.clock.now(),
        requestId: failure.requestId,
        functionArn: fn.functionArn,
        condition: failure.condition,
        approximateInvokeCount: failure.approximateInvokeCount,
        requestPayload: event,
        error: failure.error,
      }),
    );
  }
}
