import type { Command } from 'ioredis';
import { performance } from 'node:perf_hooks';

/** The message ioredis' own `commandTimeout` rejects with (isRedisUnavailable knows it). */
export const COMMAND_TIMED_OUT = 'Command timed out';

/** How often the sweep looks: a twentieth of the deadline, between 10 and 100 ms. */
export function sweepIntervalMs(deadlineMs: number): number {
  return Math.min(100, Math.max(10, Math.floor(deadlineMs / 20)));
}

/**
 * One deadline for every command of a connection, kept by one sweep instead of one timer per
 * command. ioredis' `commandTimeout` arms a `setTimeout` for each command and clears it on the
 * answer: a timer made and unlinked per grab, which the rush's profile priced at ~12 us of the
 * API's CPU per grab. Here a command costs a clock read and two array slots; a sweep every
 * `sweepIntervalMs` rejects, with ioredis' own error, every command still unanswered past its
 * deadline.
 *
 * What must stay true:
 * - A command is never failed before `deadlineMs` has passed since it was sent, and at most one
 *   sweep interval after (the bound the API documents is the deadline plus that interval).
 * - Every command has the same deadline, so the queue is in deadline order: the sweep stops at
 *   the first entry that is neither answered nor due, and each entry is looked at once when it
 *   leaves the queue. An entry answered early waits behind an older unanswered one; the queue
 *   holds at most one deadline's worth of commands.
 * - A command sent again (ioredis resends unanswered commands after a reconnect) keeps its
 *   first, earlier deadline: its second entry finds it already failed or answered.
 * - Failing a command that ioredis already failed another way (the connection closed) is a
 *   no-op: its promise is settled, and ioredis' reject only clears its own timers first.
 * - The sweep runs only while commands are outstanding, and never keeps the process alive.
 */
export class CommandDeadlines {
  private commands: (Command | undefined)[] = [];
  private dueAt: number[] = [];
  private head = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly deadlineMs: number,
    readonly intervalMs: number = sweepIntervalMs(deadlineMs),
  ) {}

  /** Starts the command's deadline now (called as ioredis sends it). */
  track(command: Command): void {
    this.commands.push(command);
    this.dueAt.push(performance.now() + this.deadlineMs);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.intervalMs);
      this.sweeper.unref();
    }
  }

  /** Commands tracked and not yet let go (answered, failed, or past their deadline). */
  get outstanding(): number {
    return this.commands.length - this.head;
  }

  /** Fails every unanswered command past its deadline; lets go of the answered ones in front. */
  sweep(now: number = performance.now()): void {
    const { commands, dueAt } = this;
    let head = this.head;
    while (head < commands.length) {
      const command = commands[head] as Command;
      if (!command.isResolved) {
        if (dueAt[head] > now) break;
        command.reject(new Error(COMMAND_TIMED_OUT));
      }
      commands[head] = undefined;
      head++;
    }
    if (head === commands.length) {
      this.commands = [];
      this.dueAt = [];
      this.head = 0;
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    } else if (head > 4096 && head * 2 > commands.length) {
      // Keep the arrays from growing for good while the queue never empties (a long rush).
      this.commands = commands.slice(head);
      this.dueAt = dueAt.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }
}

/** The part of a Redis or Cluster connection the deadline wraps: every command passes here. */
interface SendsCommands {
  sendCommand(command: Command, ...rest: never[]): unknown;
}

/**
 * Gives every command sent on `client` the deadline (see CommandDeadlines). ioredis routes every
 * command through the client's `sendCommand`, auto-pipelined ones and a pipeline's included
 * (Pipeline.exec sends each queued command through it), and on a cluster before it picks a node,
 * so the deadline also covers the wait in the cluster's own queue while no node is reachable.
 */
export function keepCommandDeadline<C extends SendsCommands>(client: C, deadlineMs: number): C {
  const deadlines = new CommandDeadlines(deadlineMs);
  const send = client.sendCommand;
  client.sendCommand = function (this: C, command: Command, ...rest: never[]): unknown {
    deadlines.track(command);
    return send.call(this, command, ...rest);
  };
  return client;
}
