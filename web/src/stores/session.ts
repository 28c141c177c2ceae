import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, call, onSessionChange, sessions } from '../api/client';
import { sessionFromTokens, STORAGE_KEY, type Session } from '../auth/session';
import { deviceTokenFor, rememberDevice } from '../auth/device';
import { live } from '../live';
import { lang } from '../i18n';
import type { Role, User } from '../api/types';

export const useSession = defineStore('session', () => {
  const session = ref<Session | null>(sessions.load());
  const user = computed(() => session.value?.user ?? null);
  const role = computed(() => (user.value?.role ?? null) as Role | null);
  const isStudioAdmin = computed(() => role.value === 'studio_admin' || role.value === 'platform_admin');
  // Users book; admins (studio and platform) do not: the server answers them
  // `booking_not_allowed`. Signed out, booking asks to sign in first.
  const mayBook = computed(() => role.value === null || role.value === 'user');

  onSessionChange((next) => (session.value = next));
  // Another tab signed in, refreshed or signed out.
  window.addEventListener('storage', (e) => {
    if (e.key !== STORAGE_KEY) return;
    session.value = sessions.load();
    if (session.value) void live.authenticate();
  });

  async function signIn(email: string, password: string) {
    // A body typed apart from the literal, so that `device_token` compiles
    // before and after the schema types name it.
    const device_token = deviceTokenFor(localStorage, email);
    const body = { email, password, ...(device_token ? { device_token } : {}) };
    const tokens = await call(api.POST('/api/v1/auth/login', { body }));
    rememberDevice(localStorage, email, tokens);
    sessions.save(sessionFromTokens(tokens));
    await live.authenticate();
  }

  async function register(body: { email: string; password: string; full_name: string; phone?: string | null }) {
    // Email is written in the language the visitor reads the site in.
    const tokens = await call(api.POST('/api/v1/auth/register', { body: { ...body, locale: lang.value } }));
    rememberDevice(localStorage, body.email, tokens);
    sessions.save(sessionFromTokens(tokens));
    await live.authenticate();
  }

  async function signOut() {
    const current = sessions.load();
    if (current) {
      await api.POST('/api/v1/auth/logout', { body: { refresh_token: current.refresh_token } }).catch(() => undefined);
    }
    sessions.save(null);
  }

  /** The user as the server answered just now (verified, appointed, their language changed). */
  function updateUser(fresh: User) {
    const current = sessions.load();
    if (current && current.user.id === fresh.id) sessions.save({ ...current, user: fresh });
  }

  return { session, user, role, isStudioAdmin, mayBook, signIn, register, signOut, updateUser };
});
