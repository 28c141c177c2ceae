// Which studio the admin pages work on: a studio admin's own; a platform
// admin picks one (remembered for the tab).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, call } from '../api/client';
import type { Studio } from '../api/types';
import { useSession } from './session';

export const useStudio = defineStore('studio', () => {
  const session = useSession();
  const studios = ref<Studio[]>([]);
  const picked = ref<number | null>(Number(sessionStorage.getItem('hothour.studio')) || null);
  const studioId = computed(() => session.user?.studio_id ?? picked.value ?? studios.value[0]?.id ?? null);
  /** What a page that sent the admin back to the catalogue says there once ("“Salsa” is saved."). */
  const flash = ref<string | null>(null);

  async function load() {
    studios.value = (await call(api.GET('/api/v1/studios', { params: { query: { limit: 100 } } }))).items;
  }

  function pick(id: number) {
    picked.value = id;
    sessionStorage.setItem('hothour.studio', String(id));
  }

  return { studios, studioId, flash, load, pick };
});
