/**
 * What context and props change, and what they refuse: each refusal says what was received.
 * Bundling is skipped.
 */
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { OrchestratorStack } from '../../infra/orchestrator-stack';
import { environments } from '../support/afu9-config';
import { buildApp, synthTemplate } from './synth';

const noBundling = { 'aws:cdk:bundling-stacks': [] };

describe('OrchestratorStack configuration', () => {
  it('GIVEN notificationEmail in context WHEN synthesized THEN that address is subscribed to the topic by email', () => {
    // Act
    const { template } = synthTemplate({
      context: {
        notificationEmail: 'ops@example.com',
        infraSourceBucket: 'afu9-ci-artifacts',
        infraSourceKey: 'infra/main.zip',
      },
    });

    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({ Type: 'S3', Location: 'afu9-ci-artifacts/infra/main.zip' }),
    });
  });

  it('GIVEN an address that is not one WHEN the app is built THEN it refuses and echoes it', () => {
    // Act
    const build = () => buildApp({ context: { notificationEmail: 'ops at example' } });

    // Assess
    expect(build).toThrow(
      'notificationEmail must be one email address, like ops@example.com. Received: "ops at example".',
    );
  });

  it('GIVEN only half of the infrastructure source location WHEN the app is built THEN it asks for both', () => {
    // Act
    const build = () => buildApp({ context: { infraSourceBucket: 'afu9-ci-artifacts' } });

    // Assess
    expect(build).toThrow(
      /Set both infraSourceBucket and infraSourceKey, or neither.*Received: bucket "afu9-ci-artifacts", key undefined/,
    );
  });

  it('GIVEN a task role that is not an IAM role ARN WHEN the app is built THEN it refuses and echoes the list', () => {
    // Act
    const build = () => buildApp({ context: { taskRoleArns: 'afu9-task-role' } });

    // Assess
    expect(build).toThrow('Received: ["afu9-task-role"].');
  });

  it('GIVEN an environment in another region WHEN the stack is built THEN it refuses, since its events would never arrive', () => {
    // Prepare
    const app = new App({ context: noBundling });
    const elsewhere = { ...environments.staging, region: 'us-east-1' };

    // Act
    const build = () =>
      new OrchestratorStack(app, 'Elsewhere', {
        env: { region: 'eu-central-1' },
        config: {
          displayName: 'AFU-9',
          environments: { staging: elsewhere, production: environments.production },
        },
      });

    // Assess
    expect(build).toThrow(/must be in the stack's region eu-central-1.*Received: staging in us-east-1\./);
  });

  it('GIVEN ledgerRetentionDays in context WHEN synthesized THEN every function keeps records that long', () => {
    // Act
    const { template } = synthTemplate({ context: { ledgerRetentionDays: '730' } });

    // Assess
    const functions = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: {
          Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: Match.anyValue() }) },
        },
      }),
    );
    expect(functions.length).toBe(14);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.LEDGER_RETENTION_DAYS).toBe('730');
    }
  });

  it('GIVEN no ledgerRetentionDays WHEN synthesized THEN records are kept the 400-day default', () => {
    const { template } = synthTemplate({});
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LEDGER_RETENTION_DAYS: '400' }) },
    });
  });

  it('GIVEN a retention that is not a whole number of days WHEN the app is built THEN it refuses and echoes it', () => {
    expect(() => buildApp({ context: { ledgerRetentionDays: '0.5' } })).toThrow(
      'ledgerRetentionDays must be a whole number of days, at least 1. Received: 0.5.',
    );
    expect(() => buildApp({ context: { ledgerRetentionDays: 'a year' } })).toThrow(
      'Context "ledgerRetentionDays" must be a number. Received: "a year".',
    );
  });

  it('GIVEN no environments WHEN the stack is built THEN it refuses', () => {
    // Act
    const build = () =>
      new OrchestratorStack(new App({ context: noBundling }), 'Empty', {
        config: { displayName: 'AFU-9', environments: {} },
      });

    // Assess
    expect(build).toThrow('OrchestratorStack needs at least one environment to deploy to. Received: none.');
  });
});
