/**
 * What CloudWatch does when an alarm of the stack goes to ALARM: it notifies each of the alarm's
 * actions (SNS topics), each notification authorized as AWS authorizes it.
 */
import type { SimulatedAccount } from '../account/simulated-account';
import type { DeployedStack } from '../assembly/cloud-assembly';
import type { PolicySource } from '../iam/authorize';
import { alarmNotification } from '../iam/deliveries';
import type { AlarmNotification } from './cloudwatch';
import type { AuthorizationRecord } from './function-clients';
import { judgeDelivery } from './service-deliveries';

/** What notifying an alarm's actions needs from the simulation. */
export interface AlarmActionContext {
  readonly account: Pick<SimulatedAccount, 'publishAsService'>;
  readonly stack: Pick<DeployedStack, 'encryptionKeys'>;
  readonly policies: PolicySource;
  /** Where each judged notification is recorded, in order. */
  readonly authorizations: AuthorizationRecord[];
  readonly note: (text: string) => void;
}

/** An alarm in ALARM notifies each of its actions, as CloudWatch (`cloudwatch.amazonaws.com`) publishing. */
export function deliverAlarm(
  context: AlarmActionContext,
  { alarm, subject, message }: AlarmNotification,
): void {
  const { note } = context;
  note(`CloudWatch alarm ${alarm.name} goes to ALARM`);
  for (const action of alarm.alarmActions) {
    if (!action.startsWith('arn:aws:sns:')) {
      throw new Error(
        `Alarm ${alarm.logicalId} has the action ${action}; the sandbox delivers alarm actions to SNS topics only.`,
      );
    }
    const topicKmsKeyArn = context.stack.encryptionKeys.get(action);
    const verdict = judgeDelivery(
      `CloudWatch alarm ${alarm.name}`,
      alarmNotification({
        alarmArn: alarm.arn,
        topicArn: action,
        ...(topicKmsKeyArn ? { topicKmsKeyArn } : {}),
      }),
      context.policies,
    );
    context.authorizations.push(...verdict.records);
    if (!verdict.allowed) {
      note(`CloudWatch may not notify ${action} of alarm ${alarm.name}: AccessDenied, ${verdict.reason}`);
      continue;
    }
    context.account.publishAsService(action, subject, message);
    note(`CloudWatch notifies the topic: ${subject}`);
  }
}
