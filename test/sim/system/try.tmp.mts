import { runSystemSeed, formatSystemFailure } from "./run.js";
const from = Number(process.argv[2] ?? 1), n = Number(process.argv[3] ?? 3);
for (let s = from; s < from + n; s++) {
  const r = await runSystemSeed(s, { quick: true });
  console.log(s, r.ok, r.ms + "ms", "acked", r.acked, "cert", r.certifiedOps, "seqs", r.certifiedSeqs, "settle", r.ticksToSettle, JSON.stringify(r.counts));
  if (!r.ok) console.log(formatSystemFailure(r).slice(0, 6000));
}
