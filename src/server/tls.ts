// HTTPS: the certificate and key named by CORRAL_TLS_CERT and CORRAL_TLS_KEY, read at startup.
import { readFileSync } from "node:fs";
import type { Config } from "../config.js";

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** Undefined for plain HTTP; throws with a message naming the variable at fault. */
export function loadTls(config: Config): TlsFiles | undefined {
  const { tlsCert, tlsKey } = config;
  if (!tlsCert && !tlsKey) return undefined;
  if (!tlsCert || !tlsKey) {
    const [set, unset] = tlsCert ? ["CORRAL_TLS_CERT", "CORRAL_TLS_KEY"] : ["CORRAL_TLS_KEY", "CORRAL_TLS_CERT"];
    throw new Error(`${set} is set but ${unset} is not: HTTPS needs both a certificate and its private key (PEM files), or neither for plain HTTP`);
  }
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${name} ${JSON.stringify(path)}: ${(e as Error).message}`);
    }
  };
  return { cert: read("CORRAL_TLS_CERT", tlsCert), key: read("CORRAL_TLS_KEY", tlsKey) };
}
