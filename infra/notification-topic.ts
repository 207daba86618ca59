/**
 * The SNS topic every deployment outcome and every alarm goes to, encrypted with a customer managed
 * key that the services publishing to it are allowed to use.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /**
   * An address subscribed to the topic by email (AWS sends it a confirmation link first).
   *
   * @default - no subscription; subscribe people or chat integrations to the topic yourself
   */
  readonly email?: string;
}

export class NotificationTopic extends Construct {
  /** Also used for the CodeBuild project, so one key policy covers everything the stack encrypts. */
  readonly key: kms.Key;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps = {}) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: 'AFU-9 deployment orchestrator: encrypts the notification topic and diff builds',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    // An encrypted topic only receives what its publishers can encrypt: CloudWatch alarms and
    // EventBridge publish as their service principals, not as a role of this stack.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `AllowPublishFrom${service.split('.')[0]}`,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
    }

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'AFU-9 deployments',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) {
      this.topic.addSubscription(new EmailSubscription(props.email));
    }
  }
}
