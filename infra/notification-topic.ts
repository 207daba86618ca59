/**
 * The SNS topic every deployment outcome and every alarm goes to, encrypted with a customer managed
 * key. The topic policy `enforceSSL` creates replaces SNS's default policy, so every service that
 * publishes as its own principal needs an explicit statement here, in the topic policy and in the key
 * policy both: the only such publisher is CloudWatch, for this stack's alarms.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /** The configuration's `displayName`: email notifications come from `<displayName> deployments`. */
  readonly displayName: string;
  /**
   * An address subscribed to the topic by email (AWS sends it a confirmation link first).
   *
   * @default - no subscription; subscribe people or chat integrations to the topic yourself
   */
  readonly email?: string;
}

const CLOUDWATCH = 'cloudwatch.amazonaws.com';

/** The ARN CloudWatch sends as `aws:SourceArn` when the alarm named `alarmName` publishes. */
export function alarmArn(scope: Construct, alarmName: string): string {
  return Stack.of(scope).formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: alarmName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

export class NotificationTopic extends Construct {
  /** Encrypts the topic only (the diff build has a key of its own). */
  readonly key: kms.Key;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: 'AFU-9 deployment orchestrator: encrypts the notification topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });

    this.topic = new sns.Topic(this, 'Topic', {
      // SNS allows 100 characters; the configuration's displayName has at most 40.
      displayName: `${props.displayName} deployments`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) {
      this.topic.addSubscription(new EmailSubscription(props.email));
    }
  }

  /**
   * Lets CloudWatch publish the named alarms of this account to the topic, and use the topic's key
   * to do so. The ARNs are built from the names rather than referenced: the key policy is part of
   * the key, which the topic and so the alarms depend on, and a reference back would be a cycle.
   */
  allowAlarmsToPublish(alarmNames: readonly string[]): void {
    if (alarmNames.length === 0) {
      throw new Error(
        'allowAlarmsToPublish needs the names of the alarms that notify the topic. Received: none.',
      );
    }
    const conditions = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': alarmNames.map((name) => alarmArn(this, name)) },
    };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackAlarmsToPublish',
        principals: [new iam.ServicePrincipal(CLOUDWATCH)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions,
      }),
    );
    // SNS encrypts what CloudWatch publishes with a data key it requests on CloudWatch's behalf.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackAlarmsToUseTopicKey',
        principals: [new iam.ServicePrincipal(CLOUDWATCH)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      }),
    );
  }
}
