// A Hugging Face safetensors directory → one GGUF file, streamed tensor by tensor.
import { readFile } from "node:fs/promises";
import { GgmlType, GgufValueType } from "../types.js";
import { writeGguf, type GgufWriteValue } from "../writer.js";
import { archMetadata, parseHfConfig } from "./hf-config.js";
import { openSafetensorsModel, SafetensorsError } from "./reader.js";
import { extraTensors, planTensors, toWriteTensor } from "./tensors.js";
import { tokenizerMetadata } from "./tokenizer.js";

export interface ConvertResult {
  arch: string;
  tensors: number;
}

/** Model weight files; adapter weights (PEFT) and anything else are not part of the model. */
export const isModelWeights = (name: string) => name.endsWith(".safetensors") && !/(^|\/)adapter_model[^/]*\.safetensors$/.test(name);

/**
 * Converts the files of a Hugging Face model directory (relative name → path on disk) to a GGUF at
 * `output`. Throws SafetensorsError for input that cannot be converted.
 */
export async function convertSafetensors(files: Map<string, string>, output: string, name = "model"): Promise<ConvertResult> {
  const configPath = files.get("config.json");
  if (!configPath) throw new SafetensorsError("config.json is missing from the safetensors files");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(configPath, "utf8"));
  } catch (e) {
    throw new SafetensorsError(`config.json: ${(e as Error).message}`);
  }
  const model = parseHfConfig(config, name);
  const plans = planTensors(model, await openSafetensorsModel(files, isModelWeights));
  const nVocab = plans.find((p) => p.name === "token_embd.weight")!.source.shape[0]!;
  const tensors = [...plans.map(toWriteTensor), ...extraTensors(model)];

  // general.file_type from the 2-D weights: all F32 → 0, F16 → 1, BF16 → 32.
  const big = tensors.filter((t) => t.shape.length > 1).map((t) => t.type);
  const fileType = big.every((t) => t === GgmlType.F32) ? 0 : big.filter((t) => t === GgmlType.BF16).length > big.length / 2 ? 32 : 1;
  const meta: [string, GgufWriteValue][] = [
    ...archMetadata(model, nVocab),
    ["general.file_type", { type: GgufValueType.UINT32, value: fileType }],
    ...(await tokenizerMetadata(files, model.family, nVocab, config)),
  ];
  await writeGguf(output, meta, tensors);
  return { arch: model.arch, tensors: tensors.length };
}
