import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { router } from './router';
import { i18n, startLanguage } from './i18n';
import { useConfig } from './stores/config';
import { ticker } from './time/ticker';
import './styles.css';

startLanguage();
const app = createApp(App).use(createPinia()).use(i18n).use(router);
void useConfig().load();
ticker.start();
app.mount('#app');
