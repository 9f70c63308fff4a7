/** What /proc tells of a running process: CPU time consumed and memory held. */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** clock ticks per second of /proc/PID/stat (USER_HZ: 100 on every Linux port that runs node). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time of the process and of the children it waited for, in ms
 * (utime + stime + cutime + cstime of /proc/PID/stat; 10 ms resolution).
 */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime..cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

export function memory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(match[1]);
  };
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/**
 * Wait until the process has used no CPU for `quietMs` (its work done, only
 * timers left), or `timeoutMs` passed; false on timeout.
 */
export async function waitForIdle(pid: number, quietMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuMs(pid);
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = cpuMs(pid);
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return true;
    }
  }
  return false;
}
