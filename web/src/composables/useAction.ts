// What a view does when the user asks for something: busy while it runs, the
// problem in words after it fails, and the server's field errors by field.
import { ref, type Ref } from 'vue';
import { problemOf, type ApiError } from '../api/errors';

export type FieldErrors = Record<string, string[]>;

export interface RunOptions {
  /** The words for a problem (default: its message); null shows none. May act first (restore a hold, note a 404). */
  explain?: (problem: ApiError) => string | null | Promise<string | null>;
  /** Whether `busy` is set while it runs (default true; a page's first load is not an action the user waits on). */
  busy?: boolean;
}

export function useAction() {
  const busy = ref(false);
  const error = ref<string | null>(null);
  const fields = ref<FieldErrors>({});

  /** Runs `work`; never throws: a failure ends in `error` and `fields`, and the result is undefined. */
  async function run<T>(work: () => Promise<T>, options: RunOptions = {}): Promise<T | undefined> {
    const marks = options.busy ?? true;
    if (marks) busy.value = true;
    error.value = null;
    fields.value = {};
    try {
      return await work();
    } catch (e) {
      const problem = problemOf(e);
      error.value = options.explain ? await options.explain(problem) : problem.message;
      fields.value = problem.fieldErrors;
      return undefined;
    } finally {
      if (marks) busy.value = false;
    }
  }

  /** `aria-invalid` for a field the server refused. */
  const invalid = (name: string): 'true' | undefined => (fields.value[name] ? 'true' : undefined);

  return { busy, error, fields, run, invalid };
}

/** An `explain` for loading a page's item: a 404 sets `notFound` (the page says so itself), anything else in words. */
export function notFoundInto(notFound: Ref<boolean>): (problem: ApiError) => string | null {
  return (problem) => {
    if (problem.status !== 404) return problem.message;
    notFound.value = true;
    return null;
  };
}
