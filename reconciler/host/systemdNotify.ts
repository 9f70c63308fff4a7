/**
 * sd_notify(3) for `dm-remap run` under systemd (Type=notify): READY=1 once
 * the first pass is done, STATUS= lines, STOPPING=1 on SIGTERM.
 *
 * The protocol is a datagram on the unix socket named by $NOTIFY_SOCKET, but
 * Node (18 and 20 alike) has no unix datagram sockets, and a native addon
 * would defeat the single-file bundle. So the message is sent by
 * systemd-notify(1), which ships with systemd itself, with `--pid=` naming
 * this process: run as root, systemd-notify sends the datagram with our pid
 * in its credentials, so systemd files it under the main process even after
 * systemd-notify has exited (without `--pid`, a short-lived sender can exit
 * before systemd looks up its cgroup, and the message is dropped). The units
 * also say NotifyAccess=all, which covers a systemd-notify that could not
 * forge the pid (no CAP_SYS_ADMIN). Outside systemd ($NOTIFY_SOCKET unset)
 * nothing is sent.
 */
import { spawn } from 'node:child_process';

export interface Notifier {
  /** Sends `fields` (e.g. READY=1, STATUS=...); resolves to whether systemd-notify succeeded. */
  notify(fields: Record<string, string>): Promise<boolean>;
}

export function systemdNotifier(env: NodeJS.ProcessEnv, pid: number = process.pid): Notifier | undefined {
  if (!env.NOTIFY_SOCKET) return undefined;
  return {
    notify: (fields) =>
      new Promise((resolve) => {
        const assignments = Object.entries(fields).map(
          ([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`,
        );
        const child = spawn('systemd-notify', [`--pid=${pid}`, ...assignments], {
          stdio: 'ignore',
          env,
        });
        child.on('error', () => resolve(false));
        child.on('close', (status) => resolve(status === 0));
      }),
  };
}
