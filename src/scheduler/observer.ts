// What the scheduler reports as it works, for whoever wants to count it (the server's metrics). The
// scheduler knows nothing of metrics; every callback is optional.
export interface SchedulerObserver {
  /** A request got its slot (after waiting for it, or for a load), `waitSeconds` after it asked. */
  leased?(model: string, waitSeconds: number): void;
  /** A runner process exited without the scheduler closing it (a crash, a kill). */
  runnerDied?(model: string): void;
}
