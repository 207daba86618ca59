/**
 * The simulated EventBridge default bus: AWS services put events, rules (subscribers with a
 * filter) receive them. Delivery timing and faults are applied by `emit`, as EventBridge delivers
 * service events a few seconds late and on a best-effort basis.
 */
import type { FaultInjector } from './faults';
import type { IdSource } from './ids';
import type { BusEvent, EventBus } from './simulated-account';
import type { VirtualClock } from './virtual-clock';

interface Subscription {
  readonly filter: (event: BusEvent) => boolean;
  readonly deliver: (event: BusEvent) => void;
}

export class SimulatedEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly delivered: BusEvent[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly faults: FaultInjector,
    private readonly ids: IdSource,
    private readonly envelope: { readonly account: string; readonly region: string },
    private readonly deliverySeconds: number,
  ) {}

  get history(): readonly BusEvent[] {
    return this.delivered;
  }

  put(event: BusEvent): void {
    this.delivered.push(event);
    for (const subscription of [...this.subscriptions]) {
      if (subscription.filter(event)) subscription.deliver(event);
    }
  }

  subscribe(filter: (event: BusEvent) => boolean, deliver: (event: BusEvent) => void): () => void {
    const subscription = { filter, deliver };
    this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  /**
   * An AWS service emits an event now: it reaches the bus after the delivery delay, unless a fault
   * drops, duplicates or delays it.
   */
  emit(
    source: string,
    detailType: string,
    resources: readonly string[],
    detail: Record<string, unknown>,
  ): BusEvent {
    const event: BusEvent = {
      version: '0',
      id: this.ids.uuid(),
      'detail-type': detailType,
      source,
      account: this.envelope.account,
      time: this.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region: this.envelope.region,
      resources,
      detail,
    };
    for (const extraSeconds of this.faults.planEvent(event).deliveries) {
      this.clock.schedule((this.deliverySeconds + extraSeconds) * 1000, `deliver ${detailType}`, () =>
        this.put(event),
      );
    }
    return event;
  }
}
