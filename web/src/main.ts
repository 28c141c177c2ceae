import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { router } from './router';
import { useConfig } from './stores/config';
import { ticker } from './time/ticker';
import './styles.css';

const app = createApp(App).use(createPinia()).use(router);
void useConfig().load();
ticker.start();
app.mount('#app');
