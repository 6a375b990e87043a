import type { Config } from "../../config.js";
import type { Scheduler } from "../../scheduler/scheduler.js";
import type { ModelStore } from "../../store/store.js";
import type { Metrics } from "../observe/metrics.js";

/** What the services share: configuration, the model store and the scheduler. */
export interface ServerContext {
  config: Config;
  store: ModelStore;
  scheduler: Scheduler;
  metrics: Metrics;
  /** Default num_thread: the physical cores available. */
  threads: number;
}

/** What a generation's stream is: the model by its stored name, and whether the runner streamed its tokens. */
export interface GenerationInfo {
  model: string;
  /** false: the runner delivered the text in one piece at the end (a non-streaming request). */
  streamed: boolean;
}

/** A service answer: one JSON object, or a stream of chunks that `collect` folds into the non-streaming reply. */
export type Reply =
  | { kind: "single"; body: object }
  | {
      kind: "stream";
      chunks: AsyncIterable<object>;
      collect: (chunks: object[]) => object;
      /** Set when the stream is a generation (for metrics). */
      generation?: GenerationInfo;
    };
