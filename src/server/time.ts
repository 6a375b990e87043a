// Timestamps the way Go's encoding/json prints time.Time (RFC 3339, fraction with trailing zeros trimmed).

function fraction(ms: number): string {
  return ms ? `.${String(ms).padStart(3, "0").replace(/0+$/, "")}` : "";
}

/** `created_at`: UTC with a `Z`. */
export function utcTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, `${fraction(d.getUTCMilliseconds())}Z`);
}

/** `modified_at` / `expires_at`: server-local time with a numeric offset. */
export function localTimestamp(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const zone = off === 0 ? "Z" : `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${fraction(d.getMilliseconds())}${zone}`
  );
}
