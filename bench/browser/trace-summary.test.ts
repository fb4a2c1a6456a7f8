// bench:browser-trace's summary: per-thread task time, task sources, longest tasks and their
// insides, and the light-load timeline without duplicates.
import { describe, expect, it } from 'vitest';
import { summarizeTrace, taskTimeline, type TraceEvent } from './trace-summary.ts';

const meta = (pid: number, tid: number, name: string, process: string): TraceEvent[] => [
  { name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } },
  { name: 'process_name', ph: 'M', pid, tid, ts: 0, args: { name: process } },
];
const task = (tid: number, ts: number, dur: number, func: string, name = 'ThreadControllerImpl::RunTask'): TraceEvent => ({ name, cat: 'toplevel', ph: 'X', pid: 1, tid, ts, dur, args: { src_file: 'third_party/blink/renderer/core/x.cc', src_func: func } });
const nested = (tid: number, ts: number, dur: number, name: string): TraceEvent => ({ name, cat: 'blink', ph: 'X', pid: 1, tid, ts, dur });

const events: TraceEvent[] = [
  ...meta(1, 10, 'CrRendererMain', 'Renderer'),
  ...meta(1, 11, 'DedicatedWorker thread', 'Renderer'),
  task(10, 1_000, 5_000, 'OnMessage'),
  nested(10, 1_100, 4_000, 'SerializedScriptValueFactory::deserialize'),
  task(10, 7_000, 1_000, 'DOMTimer'),
  task(11, 2_000, 80_000, 'Notify'),
  task(11, 2_000, 79_000, 'Notify', 'SimpleWatcher::OnHandleReady'),
  nested(11, 3_000, 70_000, 'SerializedScriptValueFactory::create'),
];

describe('summarizeTrace', () => {
  it('totals tasks per thread, names their sources, and shows what the longest spent its time in', () => {
    const text = summarizeTrace(events, 3000).join('\n');
    expect(text).toMatch(/6\.0 ms\s+2\s+Renderer \/ CrRendererMain/);
    expect(text).toMatch(/5\.0 ms\s+1\s+core\/x\.cc OnMessage/);
    expect(text).toContain('80.0 ms: SerializedScriptValueFactory::create 70.0');
    // The handler nested in the 80 ms task is not counted again.
    expect(text).toMatch(/80\.0 ms\s+1\s+Renderer \/ DedicatedWorker thread/);
  });
});

describe('taskTimeline', () => {
  it('lists tasks in time order from the first, each once (a nested top-level event is left out)', () => {
    const lines = taskTimeline(events, 10).slice(2);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\s+0\.0\s+5\.0\s+Renderer\/CrRendererMain\s+x\.cc OnMessage/);
    expect(lines[1]).toMatch(/^\s+1\.0\s+80\.0\s+Renderer\/DedicatedWorker thread/);
    expect(lines[2]).toMatch(/^\s+6\.0\s+1\.0\s+Renderer\/CrRendererMain\s+x\.cc DOMTimer/);
  });
});
