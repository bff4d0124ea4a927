#!/usr/bin/env node
// The `aspec` command of the built package (`dist/client/bin/main.js`, the `bin` in package.json): plain
// Node, no tsx. Inside the repository `client/bin/aspec.js` runs the TypeScript sources without a build.
import { main } from "../cli.js";

process.exitCode = await main(process.argv.slice(2));
