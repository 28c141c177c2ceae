// "Are you sure?" before a destructive action: one <dialog> for the page
// (ConfirmDialog.vue in App.vue), asked through a promise.
import { shallowRef } from 'vue';

export interface Question {
  /** The dialog's heading ("Cancel this booking?"). */
  title: string;
  /** What will happen, naming the item. */
  body: string;
  /** The destructive button's words ("Yes, cancel it"). */
  yes: string;
  /** The safe button's words ("Keep it"). */
  no: string;
}

export const asking = shallowRef<(Question & { answer: (yes: boolean) => void }) | null>(null);

/** Resolves true only if the person chose `yes`. */
export function confirmFirst(question: Question): Promise<boolean> {
  asking.value?.answer(false);
  return new Promise((resolve) => {
    asking.value = {
      ...question,
      answer: (yes) => {
        asking.value = null;
        resolve(yes);
      },
    };
  });
}
