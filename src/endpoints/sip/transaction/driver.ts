import type { Clock, Timer } from '../../../util/clock.js';
import type { Effect, MachineConfig, TimerName, Transition } from './types.js';

/**
 * Runs a pure transaction machine: owns its timers on the Clock, turns timer expiry into events
 * and passes every other effect to `perform`. Timer effects never reach `perform`.
 */
export class MachineDriver<S, E> {
  private readonly timers = new Map<TimerName, Timer>();

  constructor(
    private readonly clock: Clock,
    private current: S,
    private readonly transition: (state: S, event: E, config: MachineConfig) => Transition<S>,
    private readonly config: MachineConfig,
    private readonly timerEvent: (timer: TimerName) => E,
    private readonly perform: (effect: Effect) => void,
  ) {}

  get state(): S {
    return this.current;
  }

  dispatch(event: E): void {
    const { state, effects } = this.transition(this.current, event, this.config);
    this.current = state;
    for (const effect of effects) this.run(effect);
  }

  private run(effect: Effect): void {
    if (effect.type === 'start-timer') {
      this.timers.get(effect.timer)?.cancel();
      const name = effect.timer;
      this.timers.set(name, this.clock.setTimer(effect.ms, () => {
        this.timers.delete(name);
        this.dispatch(this.timerEvent(name));
      }));
      return;
    }
    if (effect.type === 'cancel-timer') {
      this.timers.get(effect.timer)?.cancel();
      this.timers.delete(effect.timer);
      return;
    }
    if (effect.type === 'terminate') {
      for (const timer of this.timers.values()) timer.cancel();
      this.timers.clear();
    }
    this.perform(effect);
  }
}
