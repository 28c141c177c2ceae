// Loads more when the end of a list scrolls into view (IntersectionObserver).
// The list also shows a "more" button: the same action for a keyboard, a
// screen reader, or a browser without the observer.
import { onBeforeUnmount, onMounted, ref, watch } from 'vue';

/**
 * `sentinel` is the element at the end of the list. `more` runs while it is
 * in view and `ready()` (more exists, nothing is loading); after each load the
 * sentinel is looked at again, since it may still be in view.
 */
export function useMoreOnScroll(more: () => unknown, ready: () => boolean) {
  const sentinel = ref<HTMLElement | null>(null);
  let observer: IntersectionObserver | null = null;

  // Observing again reports whether it is in view now.
  const lookAgain = () => {
    const el = sentinel.value;
    if (!observer || !el) return;
    observer.unobserve(el);
    observer.observe(el);
  };

  onMounted(() => {
    if (typeof IntersectionObserver === 'undefined') return;
    observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting) && ready()) void more();
      },
      { rootMargin: '0px 0px 300px 0px' },
    );
    lookAgain();
  });
  watch(sentinel, (el, old) => {
    if (old) observer?.unobserve(old);
    if (el) observer?.observe(el);
  });
  watch(ready, (now) => now && lookAgain());
  onBeforeUnmount(() => observer?.disconnect());

  return { sentinel };
}
