// Every screen has its own URL. The first path segments here are the ones the
// binary falls back to index.html for (crates/api/src/spa.rs CLIENT_ROUTES).
import { createRouter, createWebHistory } from 'vue-router';
import BoardView from './views/BoardView.vue';
import { sessions } from './api/client';
import { lang, t } from './i18n';
import { watch } from 'vue';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'board', component: BoardView, meta: { title: 'title.board' } },
    { path: '/auctions/:id(\\d+)', name: 'auction', component: () => import('./views/AuctionView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.auction' } },
    { path: '/events/:id(\\d+)', name: 'event', component: () => import('./views/EventView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'title.event' } },
    { path: '/me', name: 'me', component: () => import('./views/MeView.vue'), meta: { title: 'title.me', auth: true } },
    { path: '/signin', name: 'signin', component: () => import('./views/SignInView.vue'), meta: { title: 'title.signin' } },
    { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { title: 'title.register' } },
    { path: '/studio', name: 'studio', component: () => import('./views/studio/StudioHome.vue'), meta: { title: 'title.studio', studio: true } },
    { path: '/studio/auctions/new', name: 'studio-new-auction', component: () => import('./views/studio/NewAuction.vue'), meta: { title: 'title.newAuction', studio: true } },
    { path: '/studio/events/new', name: 'studio-new-event', component: () => import('./views/studio/NewEvent.vue'), meta: { title: 'title.newEvent', studio: true } },
    { path: '/studio/check-in', name: 'studio-check-in', component: () => import('./views/studio/CheckIn.vue'), meta: { title: 'title.checkIn', studio: true } },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.vue'), meta: { title: 'title.notFound' } },
  ],
});

router.beforeEach((to) => {
  const session = sessions.load();
  if ((to.meta.auth || to.meta.studio) && !session) return { name: 'signin', query: { next: to.fullPath } };
  if (to.meta.studio && session && session.user.role === 'user') return { name: 'board' };
  return true;
});

// The tab's title, in the page's language (meta.title is a catalogue key).
function title() {
  const key = router.currentRoute.value.meta.title;
  document.title = `${typeof key === 'string' ? t(key) : ''} · ${t('app.name')}`;
}
router.afterEach(title);
watch(lang, title);
