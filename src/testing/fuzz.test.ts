import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz.ts';

describe('fuzz smoke', () => {
  it('50,000 hostile frames into a live 3-node cluster: it keeps electing and committing, safety holds', async () => {
    const result = await runFuzz({ seed: 7, frames: 50_000 });
    expect(result.frames).toBe(50_000);
    expect(result.decodable).toBeGreaterThan(1_000); // the lies got past the codec, to the engine
    expect(result.acknowledged).toBeGreaterThan(100);
  });
});
