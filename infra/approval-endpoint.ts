/**
 * Where people decide a paused deployment: decide-approval's function URL with AuthType AWS_IAM,
 * so every request is SigV4-signed and AWS tells the function who the caller is. Anyone who may
 * approve gets the managed "approvers" policy: invoking this one URL, and only through IAM auth.
 * Lambda asks a function URL's caller for both lambda:InvokeFunctionUrl and (for URLs created
 * since October 2025) lambda:InvokeFunction through the URL.
 */
import { CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The stack outputs `afu9-deploy approve|deny` read. */
export const APPROVAL_URL_OUTPUT_KEY = 'ApprovalUrl';
export const APPROVERS_POLICY_OUTPUT_KEY = 'ApproversPolicyArn';

export interface ApprovalEndpointProps {
  readonly decideFunction: lambda.IFunction;
}

export class ApprovalEndpoint extends Construct {
  readonly url: lambda.FunctionUrl;
  readonly approversPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApprovalEndpointProps) {
    super(scope, id);
    this.url = new lambda.FunctionUrl(this, 'DecideUrl', {
      function: props.decideFunction,
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
    });
    const functionArn = props.decideFunction.functionArn;
    this.approversPolicy = new iam.ManagedPolicy(this, 'ApproversPolicy', {
      description:
        'AFU-9 deployment approvers: approve or deny a paused deployment (afu9-deploy approve|deny); the caller is recorded.',
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });
    new CfnOutput(scope, APPROVAL_URL_OUTPUT_KEY, {
      value: this.url.url,
      description: 'afu9-deploy approve|deny send the decision here (IAM-authenticated function URL)',
    });
    new CfnOutput(scope, APPROVERS_POLICY_OUTPUT_KEY, {
      value: this.approversPolicy.managedPolicyArn,
      description: 'Attach to the people (roles) who may approve or deny a paused deployment',
    });
  }
}
