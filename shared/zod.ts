/**
 * The one zod the project uses: `zod/mini` (tree-shakable, so the browser SDK carries only the
 * schemas it uses) with zod's English messages, the same text the API has always answered with.
 * Only English is loaded: `z.locales.en()` would pull every locale into the bundle.
 *
 * Import it as a namespace (`import * as z from "./zod.js"`), which lets a bundler keep only what
 * is used; importing it is what installs the messages.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
