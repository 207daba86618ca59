/**
 * Simulated CloudFormation: the environments' infrastructure stacks, each with a status that moves
 * over virtual time once an update starts, as CloudFormation moves it (CloudFormation User Guide,
 * "Stack status codes"):
 *
 *   complete:         UPDATE_IN_PROGRESS → UPDATE_COMPLETE_CLEANUP_IN_PROGRESS → UPDATE_COMPLETE
 *   rollback:         UPDATE_IN_PROGRESS → UPDATE_ROLLBACK_IN_PROGRESS
 *                       → UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS → UPDATE_ROLLBACK_COMPLETE
 *   rollback-failed:  UPDATE_IN_PROGRESS → UPDATE_ROLLBACK_IN_PROGRESS → UPDATE_ROLLBACK_FAILED
 *
 * with the stack events CloudFormation writes on the way (the failing resource's CREATE_FAILED or UPDATE_FAILED and
 * its reason), and the stack's outputs. DescribeStacks and DescribeStackEvents answer from the
 * status at the current virtual time. Only updates are modelled: every stack exists (CREATE_COMPLETE)
 * when the account is created.
 */
import {
  CloudFormationServiceException,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import { awsErrorByName } from './sdk-errors';
import type { VirtualClock } from './virtual-clock';

/** DescribeStackEvents returns at most this many events per call. */
const STACK_EVENTS_PAGE_SIZE = 100;

/** How an update ends, and what fails on the way when it does not complete. */
export type StackUpdateEnding =
  | { readonly kind: 'complete' }
  | {
      readonly kind: 'rollback' | 'rollback-failed';
      /** The resource whose creation or update fails, as a CloudFormation event names it. */
      readonly failingResource: {
        readonly logicalId: string;
        readonly type: string;
        /** A resource the update adds fails to create; one it changes fails to update. */
        readonly operation: 'create' | 'update';
        readonly reason: string;
      };
    };

/**
 * typical: seconds CloudFormation spends in each phase of an update of a small stack (a parameter, a
 * security group rule, a task definition). Real updates of a database or a service take minutes; the
 * rehearsal keeps the order of events, not their length.
 */
export const STACK_UPDATE_SECONDS = { update: 60, cleanup: 10, rollback: 45 } as const;

interface Phase {
  readonly status: string;
  readonly atMs: number;
  readonly reason?: string;
}

interface SimulatedStack {
  readonly name: string;
  readonly stackId: string;
  readonly createdAtMs: number;
  readonly outputs: readonly { readonly OutputKey: string; readonly OutputValue: string }[];
  lastUpdatedAtMs?: number;
  /** Status changes of the stack itself, oldest first. */
  phases: Phase[];
  /** Resource events of the updates, oldest first. */
  resourceEvents: { readonly atMs: number; readonly event: StackEvent }[];
}

export class SimulatedCloudFormation {
  private readonly stacks = new Map<string, SimulatedStack>();
  readonly client: SimulatedClient;

  constructor(
    account: { readonly accountId: string; readonly region: string },
    private readonly clock: VirtualClock,
    faults: FaultInjector,
    stackNames: readonly string[],
  ) {
    const createdAtMs = clock.nowMillis() - 30 * 24 * 3600 * 1000;
    stackNames.forEach((name, index) => {
      const id = `${(0x1a2b3c4d + index).toString(16)}-0000-11ef-9a2b-0a1b2c3d4e5f`;
      this.stacks.set(name, {
        name,
        stackId: `arn:aws:cloudformation:${account.region}:${account.accountId}:stack/${name}/${id}`,
        createdAtMs,
        outputs: [{ OutputKey: 'StackName', OutputValue: name }],
        phases: [{ status: 'CREATE_COMPLETE', atMs: createdAtMs }],
        resourceEvents: [],
      });
    });
    this.client = simulatedClient(
      'cloudformation',
      'CloudFormation',
      CloudFormationServiceException,
      faults,
      [
        route(DescribeStacksCommand, (input) => {
          const stack = this.stackNamed(input.StackName);
          const current = this.currentPhase(stack);
          return {
            Stacks: [
              {
                StackId: stack.stackId,
                StackName: stack.name,
                CreationTime: new Date(stack.createdAtMs),
                ...(stack.lastUpdatedAtMs !== undefined && {
                  LastUpdatedTime: new Date(stack.lastUpdatedAtMs),
                }),
                StackStatus: current.status as never,
                ...(current.reason && { StackStatusReason: current.reason }),
                Outputs: current.status.endsWith('_IN_PROGRESS')
                  ? []
                  : stack.outputs.map((output) => ({ ...output })),
              },
            ],
          };
        }),
        route(DescribeStackEventsCommand, (input) => {
          const stack = this.stackNamed(input.StackName);
          // As AWS: newest first, at most 100 events a page, NextToken to read further back.
          const events = this.eventsOf(stack).reverse();
          const from = input.NextToken === undefined ? 0 : Number(input.NextToken);
          const page = events.slice(from, from + STACK_EVENTS_PAGE_SIZE);
          const next = from + STACK_EVENTS_PAGE_SIZE;
          return { StackEvents: page, ...(next < events.length ? { NextToken: String(next) } : {}) };
        }),
      ],
    );
  }

  /** The stack's ARN, for the IAM checks of a call that names it; undefined when there is no such stack. */
  stackArn(nameOrArn: string): string | undefined {
    if (nameOrArn.startsWith('arn:')) return nameOrArn;
    return this.stacks.get(nameOrArn)?.stackId;
  }

  /** The stack's status now. */
  status(name: string): string {
    return this.currentPhase(this.stackNamed(name)).status;
  }

  /**
   * Starts an update (what `cdk deploy` asks of CloudFormation) and plans its course; returns the
   * virtual time at which the stack reaches its terminal status, and that status.
   */
  startUpdate(
    name: string,
    ending: StackUpdateEnding,
  ): { readonly endsAtMs: number; readonly finalStatus: string } {
    const stack = this.stackNamed(name);
    const current = this.currentPhase(stack).status;
    if (current.endsWith('_IN_PROGRESS')) {
      throw awsErrorByName(
        CloudFormationServiceException,
        'ValidationError',
        `Stack:${stack.stackId} is in ${current} state and can not be updated.`,
        'client',
        400,
      );
    }
    const start = this.clock.nowMillis();
    const { update, cleanup, rollback } = STACK_UPDATE_SECONDS;
    stack.lastUpdatedAtMs = start;
    const at = (seconds: number) => start + seconds * 1000;
    const phases: Phase[] = [{ status: 'UPDATE_IN_PROGRESS', atMs: start, reason: 'User Initiated' }];
    if (ending.kind === 'complete') {
      phases.push(
        { status: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', atMs: at(update) },
        { status: 'UPDATE_COMPLETE', atMs: at(update + cleanup) },
      );
    } else {
      const { logicalId, type, operation, reason } = ending.failingResource;
      const failedReason = `The following resource(s) failed to ${operation}: [${logicalId}]. `;
      const failedStatus = `${operation.toUpperCase()}_FAILED`;
      stack.resourceEvents.push({
        atMs: at(update),
        event: this.resourceEvent(stack, at(update), logicalId, type, failedStatus, reason),
      });
      phases.push({ status: 'UPDATE_ROLLBACK_IN_PROGRESS', atMs: at(update), reason: failedReason });
      if (ending.kind === 'rollback') {
        phases.push(
          { status: 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', atMs: at(update + rollback) },
          { status: 'UPDATE_ROLLBACK_COMPLETE', atMs: at(update + rollback + cleanup) },
        );
      } else {
        // Rolling back a created resource deletes it; rolling back a change updates it again. That fails too.
        const undo = operation === 'create' ? 'delete' : 'update';
        stack.resourceEvents.push({
          atMs: at(update + rollback),
          event: this.resourceEvent(
            stack,
            at(update + rollback),
            logicalId,
            type,
            `${undo.toUpperCase()}_FAILED`,
            reason,
          ),
        });
        phases.push({
          status: 'UPDATE_ROLLBACK_FAILED',
          atMs: at(update + rollback),
          reason: `The following resource(s) failed to ${undo}: [${logicalId}]. `,
        });
      }
    }
    stack.phases = [...stack.phases, ...phases];
    const last = phases.at(-1)!;
    return { endsAtMs: last.atMs, finalStatus: last.status };
  }

  private stackNamed(nameOrArn: string | undefined): SimulatedStack {
    const stack = [...this.stacks.values()].find(
      (candidate) => candidate.name === nameOrArn || candidate.stackId === nameOrArn,
    );
    if (!stack) {
      throw awsErrorByName(
        CloudFormationServiceException,
        'ValidationError',
        `Stack with id ${nameOrArn ?? ''} does not exist`,
        'client',
        400,
      );
    }
    return stack;
  }

  private currentPhase(stack: SimulatedStack): Phase {
    const now = this.clock.nowMillis();
    return stack.phases.filter((phase) => phase.atMs <= now).at(-1)!;
  }

  /** The stack's events up to now, oldest first: its own status changes and its resources'. */
  private eventsOf(stack: SimulatedStack): StackEvent[] {
    const now = this.clock.nowMillis();
    const own = stack.phases.map((phase) => ({
      atMs: phase.atMs,
      event: this.resourceEvent(
        stack,
        phase.atMs,
        stack.name,
        'AWS::CloudFormation::Stack',
        phase.status,
        phase.reason,
      ),
    }));
    return [...own, ...stack.resourceEvents]
      .filter((entry) => entry.atMs <= now)
      .sort((a, b) => a.atMs - b.atMs)
      .map((entry) => entry.event);
  }

  private resourceEvent(
    stack: SimulatedStack,
    atMs: number,
    logicalId: string,
    type: string,
    status: string,
    reason?: string,
  ): StackEvent {
    return {
      StackId: stack.stackId,
      EventId: `${logicalId}-${status}-${atMs}`,
      StackName: stack.name,
      LogicalResourceId: logicalId,
      PhysicalResourceId: logicalId === stack.name ? stack.stackId : `${stack.name}-${logicalId}`,
      ResourceType: type,
      Timestamp: new Date(atMs),
      ResourceStatus: status as never,
      ...(reason && { ResourceStatusReason: reason }),
    };
  }
}
