/**
 * The whole-system simulator's command line (`npm run sim:system -- --help`):
 *   npm run sim:system -- --from 1 --seeds 1000     a sweep
 *   npm run sim:system -- --seed 42 --trace         replay one seed exactly
 * A failure prints the command that replays it.
 */
import { systemMain } from "./entry.js";

process.exit(await systemMain(process.argv.slice(2)));
