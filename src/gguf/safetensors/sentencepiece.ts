// Reads a SentencePiece `tokenizer.model` (a protobuf ModelProto) without a protobuf library: only the
// fields GGUF needs (pieces with score and type, special ids, the dummy-prefix flag).
export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: number }[];
  /** 1 unigram, 2 BPE, 3 word, 4 char */
  modelType: number;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  addDummyPrefix: boolean;
}

/** SentencePiece piece types, which GGUF's token_type reuses: 1 normal ... 6 byte. */
export const PIECE_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

class Proto {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
    start = 0,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated tokenizer.model (varint)");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) throw new Error("invalid tokenizer.model (varint too long)");
    }
    return Number(BigInt.asIntN(64, result)); // int32 fields store negatives sign-extended
  }
  /** Visits each field; `fn` must consume the value (or the value is skipped when it returns false). */
  fields(fn: (field: number, wire: number, p: Proto) => boolean): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = key >>> 3;
      const wire = key & 7;
      if (fn(field, wire, this)) continue;
      this.skip(wire);
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else if (wire === 2) this.pos += this.varint();
    else throw new Error(`invalid tokenizer.model (wire type ${wire})`);
    if (this.pos > this.end) throw new Error("truncated tokenizer.model");
  }
  sub(): Proto {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error("truncated tokenizer.model (message)");
    this.pos = start + len;
    return new Proto(this.buf, start + len, start);
  }
  float(): number {
    if (this.pos + 4 > this.end) throw new Error("truncated tokenizer.model (float)");
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  string(): string {
    const p = this.sub();
    return this.buf.toString("utf8", p.pos, p.end);
  }
}

export function parseSentencePiece(buf: Buffer): SentencePieceModel {
  const m: SentencePieceModel = { pieces: [], modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, addDummyPrefix: true };
  new Proto(buf).fields((field, wire, p) => {
    if (wire !== 2) return false;
    if (field === 1) {
      const piece = { piece: "", score: 0, type: PIECE_TYPE.NORMAL as number };
      p.sub().fields((f, w, q) => {
        if (f === 1 && w === 2) piece.piece = q.string();
        else if (f === 2 && w === 5) piece.score = q.float();
        else if (f === 3 && w === 0) piece.type = q.varint();
        else return false;
        return true;
      });
      m.pieces.push(piece);
    } else if (field === 2) {
      p.sub().fields((f, w, q) => {
        if (w !== 0) return false;
        const v = q.varint();
        if (f === 3) m.modelType = v;
        else if (f === 40) m.unkId = v;
        else if (f === 41) m.bosId = v;
        else if (f === 42) m.eosId = v;
        else if (f === 43) m.padId = v;
        return true;
      });
    } else if (field === 3) {
      p.sub().fields((f, w, q) => {
        if (f === 3 && w === 0) m.addDummyPrefix = q.varint() !== 0;
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  if (m.pieces.length === 0) throw new Error("tokenizer.model holds no pieces");
  return m;
}
