/** A push-to-pull bridge: callbacks push values, an async iterator consumes them in order. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting?: () => void;
  private ended = false;
  private failure?: unknown;

  push(item: T) {
    this.items.push(item);
    this.wake();
  }
  end() {
    this.ended = true;
    this.wake();
  }
  fail(err: unknown) {
    this.failure = err;
    this.ended = true;
    this.wake();
  }
  private wake() {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((r) => (this.waiting = r));
    }
  }
}
