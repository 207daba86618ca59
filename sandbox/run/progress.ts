/** What the runner reports while a simulation runs, for a live timeline. */
import type { SimulatedExecution, StateRecord } from './execution';

export type ProgressEvent =
  | {
      readonly kind: 'run-started';
      readonly at: number;
      readonly scenario: string;
      readonly summary: string;
      readonly accountId: string;
      readonly region: string;
      readonly serviceName: string;
      readonly taskDefinition: string | null;
      readonly liveServiceUrl: string;
    }
  | { readonly kind: 'execution-started'; readonly at: number; readonly execution: SimulatedExecution }
  | {
      readonly kind: 'state';
      readonly at: number;
      readonly execution: SimulatedExecution;
      readonly record: StateRecord;
    }
  | { readonly kind: 'execution-ended'; readonly at: number; readonly execution: SimulatedExecution }
  /** Something that happened in the account or on the bus, worth a line of its own. */
  | { readonly kind: 'note'; readonly at: number; readonly text: string };
