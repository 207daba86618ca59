/**
 * The CDK app (`cdk.json` runs it with tsx): the orchestrator stack, configured from context, with
 * cdk-nag's AwsSolutions pack as a validation plugin, so an unacknowledged finding fails synthesis.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ORCHESTRATOR_STACK_NAME } from '../lambdas/aws/step-functions';
import { environments } from '../lambdas/domain/environments';
import { orchestratorPropsFromContext } from './context';
import { OrchestratorStack } from './orchestrator-stack';

export function createApp(app: App = new App()): { app: App; stack: OrchestratorStack } {
  // One region for all environments (the stack validates it); the account comes from the
  // credentials when there are any, and the stack stays account-agnostic when there are none.
  const [region] = [...new Set(Object.values(environments).map((env) => env.region))];
  const stack = new OrchestratorStack(app, ORCHESTRATOR_STACK_NAME, {
    ...orchestratorPropsFromContext(app.node),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
    description: 'AFU-9 deployment orchestrator: Step Functions workflow, Lambdas, triggers, diff gate build',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (require.main === module) {
  createApp().app.synth();
}
