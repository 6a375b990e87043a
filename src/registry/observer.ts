// What pulls and pushes report as they move bytes, for whoever counts them (the server's metrics).
export interface RegistryObserver {
  /** `bytes` crossed the network: blob data received by a pull or sent by a push. */
  transferred?(direction: "pull" | "push", bytes: number): void;
}
