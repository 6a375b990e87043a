// A transfer progress line as Ollama draws it:
//   pulling 6a0746a1ec1a: 45% ▕███████         ▏ 2.1 GB/4.7 GB  120 MB/s  21s
// The rate is measured over the last ten seconds (one sample a second at most); once complete
// the line keeps only the total.
import { humanBytes } from "../format.js";

interface Sample {
  at: number;
  value: number;
}

const MAX_SAMPLES = 10;

function pad(s: string, width: number): string {
  return " ".repeat(Math.max(0, width - s.length)) + s;
}

/** Seconds rounded like Go's Duration.Round(time.Second); at most two units ("1h5m", "99h+"). */
function eta(seconds: number): string {
  if (seconds >= 100 * 3600) return "99h+";
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${Math.floor(seconds / 60) % 60}m`;
  const s = Math.round(seconds);
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

export class Bar {
  private readonly started = Date.now();
  private stoppedAt: number | undefined;
  private current: number;
  private samples: Sample[] = [];

  constructor(
    readonly message: string,
    private readonly total: number,
    private readonly initial = 0,
  ) {
    this.current = initial;
    if (initial >= total) this.stoppedAt = Date.now();
  }

  set(value: number): void {
    value = Math.min(value, this.total);
    this.current = value;
    if (value >= this.total && this.stoppedAt === undefined) this.stoppedAt = Date.now();
    const now = Date.now();
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.at > 1000) {
      this.samples.push({ at: now, value });
      if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    }
  }

  private percent(): number {
    return this.total > 0 ? (this.current / this.total) * 100 : 0;
  }

  /** Bytes per second; 0 while unknown. */
  private rate(): number {
    const secs = (ms: number) => Math.round(ms / 1000);
    let bytes = 0;
    let seconds = 0;
    if (this.stoppedAt !== undefined) {
      bytes = this.current - this.initial;
      seconds = secs(this.stoppedAt - this.started);
    } else if (this.samples.length === 1) {
      bytes = this.samples[0]!.value - this.initial;
      seconds = secs(this.samples[0]!.at - this.started);
    } else if (this.samples.length > 1) {
      const first = this.samples[0]!;
      const last = this.samples[this.samples.length - 1]!;
      bytes = last.value - first.value;
      seconds = secs(last.at - first.at);
    }
    return seconds !== 0 ? bytes / seconds : 0;
  }

  render(width: number): string {
    const pre = `${this.message ? `${this.message.trim()} ` : ""}${pad(this.percent().toFixed(0), 3)}%`;
    const running = this.stoppedAt === undefined;
    let suf = running
      ? `${pad(humanBytes(this.current), 6)}/${pad(humanBytes(this.total), 6)}`
      : `${pad(humanBytes(this.total), 6)}${" ".repeat(7)}`;
    const rate = this.rate();
    if (running && rate > 0) {
      suf += `  ${pad(humanBytes(Math.trunc(rate)), 6)}/s`;
      suf += `  ${pad(eta(Math.trunc((this.total - this.current) / rate)), 6)}`;
    } else {
      suf += " ".repeat(18);
    }
    // Two boundary characters and a space on each side.
    const room = width - pre.length - suf.length - 5;
    const filled = Math.max(0, Math.trunc((room * this.percent()) / 100));
    return `${pre} ▕${"█".repeat(filled)}${" ".repeat(Math.max(0, room - filled))}▏ ${suf}`;
  }

  plain(): string {
    const size = this.current >= this.total ? humanBytes(this.total) : `${humanBytes(this.current)}/${humanBytes(this.total)}`;
    return `${this.message.trim()} ${this.percent().toFixed(0)}% ${size}`;
  }
}
