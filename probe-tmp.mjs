import {getLlama, LlamaCompletion, TokenBias} from "node-llama-cpp";
const gpu = process.argv[3] === "auto" ? "auto" : false;
const T = Number(process.argv[4] ?? 1);
const llama = await getLlama({gpu, build:"never", maxThreads:T});
const model = await llama.loadModel({modelPath: process.argv[2]});
const ctx = await model.createContext({contextSize:2048, threads:T, sequences:1});
const seq = ctx.getSequence();
const comp = new LlamaCompletion({contextSequence: seq});
const prompt = model.tokenize("Once upon a time, in a small village by the sea, there lived an old fisherman who", true);
for (const mode of ["onToken","bias","onToken","bias","none","none"]) {
  await seq.clearHistory();
  let first; const noBias = new TokenBias(model.tokenizer);
  const opts = {maxTokens:128, temperature:0.8, topK:40, topP:0.9, minP:0, seed:42, repeatPenalty:false};
  if (mode==="onToken") opts.onToken = () => { first ??= performance.now(); };
  if (mode==="bias") opts.tokenBias = () => { first ??= performance.now(); return noBias; };
  const t0 = performance.now();
  await comp.generateCompletion(prompt, opts);
  const end = performance.now();
  console.log(gpu, mode, "total", (end-t0).toFixed(0), first ? "tok/s " + (128/((end-first)/1000)).toFixed(1) : "", "overall", (128/((end-t0)/1000)).toFixed(1));
}
await llama.dispose();
