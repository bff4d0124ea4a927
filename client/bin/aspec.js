#!/usr/bin/env node
// The `aspec` command: loads the TypeScript CLI through tsx's ESM API (no build step).
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../cli.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
