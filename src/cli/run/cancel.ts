// Ctrl+C while a model answers cancels the request instead of killing the CLI.
export function cancelOnInterrupt(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.on("SIGINT", onSignal);
  return { signal: ac.signal, dispose: () => process.off("SIGINT", onSignal) };
}
