// Every screen has its own URL. The first path segments here are the ones the
// binary falls back to index.html for (crates/api/src/spa.rs CLIENT_ROUTES).
import { createRouter, createWebHistory, type LocationQueryValue } from 'vue-router';
import BoardView from './views/BoardView.vue';
import { sessions } from './api/client';
import type { Role } from './api/types';
import { accessTo, type ScreenMeta } from './auth/guard';
import { lang, t } from './i18n';
import { watch } from 'vue';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'board', component: BoardView, meta: { title: 'title.board' } },
    { path: '/auctions/:id(\\d+)', name: 'auction', component: () => import('./views/AuctionView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.auction' } },
    { path: '/events/:id(\\d+)', name: 'event', component: () => import('./views/EventView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.event' } },
    { path: '/me', name: 'me', component: () => import('./views/MeView.vue'), meta: { title: 'title.me', auth: true } },
    { path: '/unsubscribe', name: 'unsubscribe', component: () => import('./views/UnsubscribeView.vue'), meta: { title: 'alerts.unsubscribeTitle' } },
    { path: '/signin', name: 'signin', component: () => import('./views/SignInView.vue'), meta: { title: 'title.signin' } },
    // Emailed links: verify the address, reset the password, accept an invitation (`?token=`).
    { path: '/verify', name: 'verify', component: () => import('./views/account/VerifyView.vue'), meta: { title: 'accounts.title_verify' } },
    { path: '/forgot', name: 'forgot', component: () => import('./views/account/ForgotView.vue'), meta: { title: 'accounts.title_forgot' } },
    { path: '/reset', name: 'reset', component: () => import('./views/account/ResetView.vue'), meta: { title: 'accounts.title_reset' } },
    { path: '/invitations/accept', name: 'invitation', component: () => import('./views/account/InvitationView.vue'), meta: { title: 'accounts.title_invitation' } },
    { path: '/privacy', name: 'privacy', component: () => import('./views/PrivacyView.vue'), meta: { title: 'leaving.privacyTitle' } },
    { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { title: 'title.register' } },
    { path: '/studio', name: 'studio', component: () => import('./views/studio/StudioHome.vue'), meta: { title: 'title.studio', studio: true } },
    // `?from=<id>`: a copy of that auction or event, prefilled.
    { path: '/studio/auctions/new', name: 'studio-new-auction', component: () => import('./views/studio/NewAuction.vue'), props: (r) => ({ from: idOf(r.query.from) }), meta: { title: 'title.newAuction', studio: true } },
    { path: '/studio/auctions/:id(\\d+)/edit', name: 'studio-edit-auction', component: () => import('./views/studio/NewAuction.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.editAuction', studio: true } },
    { path: '/studio/events/new', name: 'studio-new-event', component: () => import('./views/studio/NewEvent.vue'), props: (r) => ({ from: idOf(r.query.from) }), meta: { title: 'title.newEvent', studio: true } },
    { path: '/studio/events/:id(\\d+)/edit', name: 'studio-edit-event', component: () => import('./views/studio/NewEvent.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.editEvent', studio: true } },
    { path: '/studio/dashboard', name: 'studio-dashboard', component: () => import('./views/studio/StudioDashboard.vue'), meta: { title: 'title.dashboard', studio: true } },
    // The door: the day's sessions, their rosters and check-in (`?date=YYYY-MM-DD&session=event-12`).
    { path: '/studio/door', name: 'studio-door', component: () => import('./views/studio/DoorView.vue'), meta: { title: 'title.door', studio: true } },
    // The old check-in screen's address, kept for bookmarks.
    { path: '/studio/check-in', redirect: { name: 'studio-door' } },
    { path: '/admin', name: 'admin', component: () => import('./views/admin/AdminHome.vue'), meta: { title: 'title.admin', admin: true } },
    { path: '/admin/studios/new', name: 'admin-new-studio', component: () => import('./views/admin/StudioForm.vue'), meta: { title: 'title.newStudio', admin: true } },
    { path: '/admin/studios/:id(\\d+)', name: 'admin-studio', component: () => import('./views/admin/StudioForm.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.editStudio', admin: true } },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.vue'), meta: { title: 'title.notFound' } },
  ],
});

/** A positive id from the query (`?from=12`), else undefined. */
function idOf(value: LocationQueryValue | LocationQueryValue[] | undefined): number | undefined {
  const id = Number(Array.isArray(value) ? value[0] : value);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

router.beforeEach((to) => {
  const access = accessTo(to.meta as ScreenMeta, (sessions.load()?.user.role ?? null) as Role | null);
  if (access === 'sign-in') return { name: 'signin', query: { next: to.fullPath } };
  if (access === 'board') return { name: 'board' };
  return true;
});

// The tab's title, in the page's language (meta.title is a catalogue key).
function title() {
  const key = router.currentRoute.value.meta.title;
  document.title = `${typeof key === 'string' ? t(key) : ''} · ${t('app.name')}`;
}
router.afterEach(title);
watch(lang, title);
