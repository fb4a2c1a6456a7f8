// Room.follow keeps an application's subscriptions on the room's current node and store: the
// first run at once, the next after a rejoin under a fresh id (the wedge reported by hand, as in
// join-room-wedge.test.ts), each after the previous run's unsubscribes, none after leave().
import { describe, expect, it } from 'vitest';
import { createIncarnationFollowers } from './incarnation-followers.ts';
import { joinLoneRoom } from './lone-room.test-support.ts';
import { collectingRejections } from './unhandled-rejections.test-support.ts';
import { reportWedge } from './wedge-report.test-support.ts';

describe('Room.follow', () => {
  it('subscribes to the current node and store, moves to the new ones after a rejoin, and lets go on leave', async () => {
    const { clock, room, events, report } = await joinLoneRoom(911, 'follow');
    await clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
    const firstId = room.id;
    const firstNode = room.node;

    const log: string[] = [];
    /** Roles each incarnation's subscription saw, by node id. */
    const roles = new Map<string, string[]>();
    room.follow(({ id, node, store }) => {
      log.push(`subscribe ${id}`);
      expect(node).toBe(room.node);
      expect(store).toBe(room.store);
      const seen: string[] = [];
      roles.set(id, seen);
      const unsubscribe = node.role.subscribe((role) => seen.push(role));
      return [unsubscribe, () => log.push(`unsubscribe ${id}`)];
    });
    // A follower that stops itself gets nothing more, and one that throws at the move does not keep the others back.
    let stoppedCalls = 0;
    const stop = room.follow(() => {
      stoppedCalls++;
      return () => undefined;
    });
    stop();
    stop();
    let throwingCalls = 0;
    room.follow(() => {
      throwingCalls++;
      if (throwingCalls > 1) throw new Error('an application subscription that broke');
    });
    expect(log).toEqual([`subscribe ${firstId}`]);

    const raised = await collectingRejections(async () => {
      const refusing = reportWedge(clock, report, { type: 'wedgeSuspected', from: firstId, localTerm: 1, remoteTerm: 1, voters: [firstId], gate: 'senderNotVoter' });
      expect(await clock.runUntil(() => events.some((event) => event.type === 'rejoined'), { timeoutMs: 10_000 })).toBe(true);
      refusing.stop();
    });
    expect(raised.map(String)).toEqual(['Error: an application subscription that broke']);
    const secondId = room.id;
    expect(secondId).not.toBe(firstId);
    expect(room.node).not.toBe(firstNode);
    expect(log).toEqual([`subscribe ${firstId}`, `unsubscribe ${firstId}`, `subscribe ${secondId}`]);
    await clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
    expect(roles.get(secondId)).toContain('leader');
    // The old node's watchables are no longer followed: nothing new is recorded for it.
    const firstRoles = [...(roles.get(firstId) ?? [])];
    expect(stoppedCalls).toBe(1);
    expect(throwingCalls).toBe(2);

    const leaving = room.leave();
    await clock.advance(100);
    await leaving;
    expect(log).toEqual([`subscribe ${firstId}`, `unsubscribe ${firstId}`, `subscribe ${secondId}`, `unsubscribe ${secondId}`]);
    expect(roles.get(firstId)).toEqual(firstRoles);
    // After leave, follow subscribes to nothing.
    expect(room.follow(() => void log.push('too late'))).toBeTypeOf('function');
    expect(log).not.toContain('too late');
  });
});

describe('createIncarnationFollowers', () => {
  it('refuses a subscribe that is not a function, or that returns anything but its unsubscribes', () => {
    const followers = createIncarnationFollowers<unknown, unknown>();
    const current = {} as Parameters<typeof followers.add>[1];
    expect(() => followers.add('nope' as unknown as () => undefined, current)).toThrow(/Room.follow needs a function/);
    expect(() => followers.add(() => 42 as unknown as () => void, current)).toThrow(/must return its unsubscribe functions/);
    expect(() => followers.add(() => [() => undefined, 'x'] as unknown as Array<() => void>, current)).toThrow(/must return its unsubscribe functions/);
  });
});
