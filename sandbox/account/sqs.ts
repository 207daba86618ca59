/**
 * Simulated SQS: the stack's queues (the rule dead-letter queue, the on-failure queue of an
 * asynchronously invoked function), holding what services deliver to them. Nothing in the stack
 * reads them, so a message stays until a person deals with it, as in the account.
 */
import type { IdSource } from './ids';
import type { VirtualClock } from './virtual-clock';

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  /** String message attributes (EventBridge names the rule and the error in them). */
  readonly attributes: Readonly<Record<string, string>>;
  /** ISO time it was sent. */
  readonly sentAt: string;
}

/** SQS's limit on a message. */
const MAX_MESSAGE_BYTES = 256 * 1024;

export class SimulatedSqs {
  private readonly queues: Map<string, QueueMessage[]>;
  private readonly sentListeners: ((queueArn: string) => void)[] = [];

  constructor(
    queueArns: readonly string[],
    private readonly clock: VirtualClock,
    private readonly ids: IdSource,
  ) {
    this.queues = new Map(queueArns.map((arn) => [arn, []]));
  }

  /** The messages waiting in the queue, oldest first. */
  messages(queueArn: string): readonly QueueMessage[] {
    return [...this.known(queueArn)];
  }

  /** Sends a message on behalf of a service whose delivery was authorized already. */
  send(queueArn: string, body: string, attributes: Readonly<Record<string, string>> = {}): QueueMessage {
    const queue = this.known(queueArn);
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
      throw new Error(
        `A message of ${Buffer.byteLength(body)} bytes exceeds SQS's 256 KB limit (${queueArn}).`,
      );
    }
    const message = { messageId: this.ids.uuid(), body, attributes, sentAt: this.clock.now().toISOString() };
    queue.push(message);
    for (const listener of this.sentListeners) listener(queueArn);
    return message;
  }

  /** Calls `listener` after each message sent, with the queue's ARN. */
  onSent(listener: (queueArn: string) => void): void {
    this.sentListeners.push(listener);
  }

  private known(queueArn: string): QueueMessage[] {
    const queue = this.queues.get(queueArn);
    if (!queue) {
      throw new Error(
        `The sandbox has no queue ${queueArn}; only the template's queues exist in the account.`,
      );
    }
    return queue;
  }
}
