import { systemClock } from '../../src/clock';

describe('systemClock', () => {
  it('sleeps for the time asked', async () => {
    const started = Date.now();
    await systemClock.sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('ends a sleep as soon as its signal fires, with the reason given', async () => {
    const controller = new AbortController();
    const reason = new Error('run over');
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
  });
});
