/**
 * What the benchmark reads from /proc about the processes under a `wrangler dev`: the workerd PIDs,
 * their memory and their CPU time. Linux only.
 */
import { readFileSync } from "node:fs";
import { descendants } from "../../test/support/proc-tree.js";

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** PIDs of the workerd processes under a wrangler PID. */
export const workerdPids = (wranglerPid: number): number[] =>
  descendants(wranglerPid).filter((p) => commOf(p) === "workerd");

/** VmRSS and its split (RssAnon: heap etc.; RssFile: mapped files; RssShmem) in KiB; zeros if gone. */
export function memKiB(pid: number): { rss: number; anon: number; file: number; shmem: number } {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    /* gone */
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile"), shmem: field("RssShmem") };
}

const CLOCK_TICKS = 100;

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat (0 if gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields 14 and 15 (utime, stime) in clock ticks; after ")" they are at index 11 and 12
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
