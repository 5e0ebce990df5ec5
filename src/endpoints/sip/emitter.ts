/**
 * A minimal typed event emitter. Listeners run synchronously in registration order; an exception
 * in a listener propagates to whoever caused the event (normally a socket callback), as with
 * Node's EventEmitter.
 */
export type EventMap = Record<string, unknown[]>;

export class TypedEmitter<E extends EventMap> {
  private handlers: { [K in keyof E]?: Array<(...args: E[K]) => void> } = {};

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    (this.handlers[event] ??= []).push(listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const list = this.handlers[event];
    if (list) this.handlers[event] = list.filter((l) => l !== listener);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.handlers[event]?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const listener of [...(this.handlers[event] ?? [])]) listener(...args);
  }
}
