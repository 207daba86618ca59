/**
 * The CDK app (`cdk.json` runs it with tsx): the orchestrator stack, built from the deployment
 * configuration (`-c config=<path>`, default `deploy.config.json`) and configured from context, with
 * cdk-nag's AwsSolutions pack as a validation plugin, so an unacknowledged finding fails synthesis.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ORCHESTRATOR_STACK_NAME } from '../lambdas/aws/step-functions';
import { configPathFromContext, orchestratorPropsFromContext } from './context';
import { loadDeployConfig } from './deploy-config-file';
import { OrchestratorStack } from './orchestrator-stack';

export function createApp(app: App = new App()): { app: App; stack: OrchestratorStack } {
  // One region for all environments (the stack validates it); the account comes from the
  // credentials when there are any, and the stack stays account-agnostic when there are none.
  const config = loadDeployConfig(configPathFromContext(app.node));
  const [region] = [...new Set(Object.values(config.environments).map((env) => env.region))];
  const stack = new OrchestratorStack(app, ORCHESTRATOR_STACK_NAME, {
    ...orchestratorPropsFromContext(app.node),
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
    description: 'Deployment orchestrator: Step Functions workflow, Lambdas, triggers, diff gate build',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (require.main === module) {
  createApp().app.synth();
}
