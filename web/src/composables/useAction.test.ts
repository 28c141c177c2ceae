import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { useAction } from './useAction';

const refused = () =>
  new ApiError(422, 'validation_failed', { errors: { title: ['must not be empty'] }, detail: 'Some fields need fixing.' });

describe('useAction', () => {
  it('is busy while the work runs and returns its result', async () => {
    const action = useAction();
    let release!: (value: number) => void;
    const running = action.run(() => new Promise<number>((resolve) => (release = resolve)));
    expect(action.busy.value).toBe(true);
    release(7);
    expect(await running).toBe(7);
    expect(action.busy.value).toBe(false);
    expect(action.error.value).toBeNull();
  });

  it('turns a problem into its message and field errors, and does not throw', async () => {
    const action = useAction();
    const problem = refused();
    expect(await action.run(() => Promise.reject(problem))).toBeUndefined();
    expect(action.busy.value).toBe(false);
    expect(action.error.value).toBe(problem.message);
    expect(action.fields.value).toEqual({ title: ['must not be empty'] });
    expect(action.invalid('title')).toBe('true');
    expect(action.invalid('price')).toBeUndefined();
  });

  it('clears the last problem when it runs again', async () => {
    const action = useAction();
    await action.run(() => Promise.reject(refused()));
    const running = action.run(() => Promise.resolve());
    expect(action.error.value).toBeNull();
    expect(action.fields.value).toEqual({});
    await running;
    expect(action.error.value).toBeNull();
  });

  it('words anything that is not a problem as a network failure', async () => {
    const action = useAction();
    await action.run(() => Promise.reject(new TypeError('fetch failed')));
    expect(action.error.value).toBe(new ApiError(0, 'network').message);
  });

  it('lets the view word a problem, or show none', async () => {
    const action = useAction();
    await action.run(() => Promise.reject(new ApiError(404, 'not_found')), { explain: async (p) => (p.status === 404 ? 'gone' : p.message) });
    expect(action.error.value).toBe('gone');
    await action.run(() => Promise.reject(new ApiError(404, 'not_found')), { explain: () => null });
    expect(action.error.value).toBeNull();
  });

  it('leaves busy alone when asked to', async () => {
    const action = useAction();
    let release!: () => void;
    const running = action.run(() => new Promise<void>((resolve) => (release = resolve)), { busy: false });
    expect(action.busy.value).toBe(false);
    release();
    await running;
    expect(action.busy.value).toBe(false);
  });
});
