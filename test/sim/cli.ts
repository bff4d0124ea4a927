/**
 * The simulator's command line (`npm run sim -- --help` for the options):
 *   npm run sim -- --from 1 --seeds 1000 --modes tamper-state,f2   a targeted sweep
 *   npm run sim -- --seed 42 --quick --trace                        replay one seed exactly
 * A failure prints the command that replays it.
 */
import { simMain } from "./entry.js";

process.exit(await simMain(process.argv.slice(2)));
