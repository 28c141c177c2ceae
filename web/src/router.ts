// Every screen has its own URL. The first path segments here are the ones the
// binary falls back to index.html for (crates/api/src/spa.rs CLIENT_ROUTES).
import { createRouter, createWebHistory } from 'vue-router';
import BoardView from './views/BoardView.vue';
import { sessions } from './api/client';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'board', component: BoardView, meta: { title: 'Live board' } },
    { path: '/auctions/:id(\\d+)', name: 'auction', component: () => import('./views/AuctionView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Auction' } },
    { path: '/events/:id(\\d+)', name: 'event', component: () => import('./views/EventView.vue'), props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Event' } },
    { path: '/me', name: 'me', component: () => import('./views/MeView.vue'), meta: { title: 'My bookings', auth: true } },
    { path: '/signin', name: 'signin', component: () => import('./views/SignInView.vue'), meta: { title: 'Sign in' } },
    { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { title: 'Create an account' } },
    { path: '/studio', name: 'studio', component: () => import('./views/studio/StudioHome.vue'), meta: { title: 'Studio', studio: true } },
    { path: '/studio/auctions/new', name: 'studio-new-auction', component: () => import('./views/studio/NewAuction.vue'), meta: { title: 'New auction', studio: true } },
    { path: '/studio/events/new', name: 'studio-new-event', component: () => import('./views/studio/NewEvent.vue'), meta: { title: 'New event', studio: true } },
    { path: '/studio/check-in', name: 'studio-check-in', component: () => import('./views/studio/CheckIn.vue'), meta: { title: 'Check in', studio: true } },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.vue'), meta: { title: 'Not found' } },
  ],
});

router.beforeEach((to) => {
  const session = sessions.load();
  if ((to.meta.auth || to.meta.studio) && !session) return { name: 'signin', query: { next: to.fullPath } };
  if (to.meta.studio && session && session.user.role === 'user') return { name: 'board' };
  return true;
});

router.afterEach((to) => {
  document.title = `${String(to.meta.title ?? '')} · HotHour`;
});
