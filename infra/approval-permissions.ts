/**
 * What the approval functions may do (docs/approvals.md): request-approval records the pending
 * approval and tells people, expire-approval records an expiry, decide-approval records a decision
 * and resumes the paused state. Only decide-approval may complete a task token, and only of this
 * state machine; nobody but these three touches the approval items.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { HandlerName, type HandlerFunctions } from './handler-functions';
import { acknowledgeWildcardAction } from './nag';

export interface ApprovalPermissionsProps {
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  /** Built from the state machine's name, not referenced: the state machine references the functions. */
  readonly stateMachineArn: string;
}

export function grantApprovalPermissions(functions: HandlerFunctions, props: ApprovalPermissionsProps): void {
  const requestApproval = functions.get(HandlerName.requestApproval);
  // A retried RequestApproval reads the record its first attempt wrote (conditional put).
  props.table.grant(requestApproval, 'dynamodb:PutItem', 'dynamodb:GetItem');
  props.topic.grantPublish(requestApproval);
  acknowledgeWildcardAction(
    requestApproval.role!,
    'kms:GenerateDataKey*',
    'Publishing to the KMS-encrypted topic needs a data key from the topic key; the grant is on that one key.',
  );

  props.table.grant(functions.get(HandlerName.expireApproval), 'dynamodb:GetItem', 'dynamodb:UpdateItem');

  const decideApproval = functions.get(HandlerName.decideApproval);
  // Finds the execution's pending approval (one partition), records the decision conditionally.
  props.table.grant(decideApproval, 'dynamodb:Query', 'dynamodb:UpdateItem');
  decideApproval.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: [props.stateMachineArn] }),
  );
}
