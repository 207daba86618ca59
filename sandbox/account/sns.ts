/**
 * Simulated SNS: topics that record every message published to them, validating as SNS does (a
 * subject of at most 100 printable ASCII characters on one line, a non-empty message).
 */
import {
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  SNSServiceException,
  type PublishCommandInput,
} from '@aws-sdk/client-sns';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import type { IdSource } from './ids';
import { awsError } from './sdk-errors';
import type { PublishedMessage } from './simulated-account';
import type { VirtualClock } from './virtual-clock';

const MAX_MESSAGE_BYTES = 256 * 1024;

export class SimulatedSns {
  readonly published: PublishedMessage[] = [];
  readonly client: SimulatedClient;

  constructor(
    private readonly topicArns: ReadonlySet<string>,
    private readonly clock: VirtualClock,
    private readonly ids: IdSource,
    faults: FaultInjector,
  ) {
    this.client = simulatedClient('sns', 'SNS', SNSServiceException, faults, [
      route(PublishCommand, (input) => this.publish(input)),
    ]);
  }

  /**
   * A publish by an AWS service (a CloudWatch alarm) whose delivery was authorized already: it does
   * not go through the SDK client, so faults injected for the orchestrator's own calls do not strike it.
   */
  publishAsService(input: PublishCommandInput): void {
    this.publish(input);
  }

  private publish(input: PublishCommandInput) {
    if (!input.TopicArn || !this.topicArns.has(input.TopicArn)) {
      throw awsError(NotFoundException, 'Topic does not exist', 404);
    }
    if (!input.Message) throw awsError(InvalidParameterException, 'Invalid parameter: Empty message');
    if (Buffer.byteLength(input.Message) > MAX_MESSAGE_BYTES) {
      throw awsError(InvalidParameterException, 'Invalid parameter: Message too long');
    }
    if (input.Subject !== undefined && !/^[\x20-\x7e]{1,100}$/.test(input.Subject)) {
      throw awsError(InvalidParameterException, 'Invalid parameter: Subject');
    }
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.MessageAttributes ?? {})) {
      attributes[name] = value.StringValue ?? '';
    }
    this.published.push({
      topicArn: input.TopicArn,
      ...(input.Subject !== undefined ? { subject: input.Subject } : {}),
      message: input.Message,
      attributes,
      at: this.clock.now().toISOString(),
    });
    return { MessageId: this.ids.uuid() };
  }
}
