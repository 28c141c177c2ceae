// The tab's live connection and the Vue side of it.
import { onScopeDispose, ref } from 'vue';
import { LiveSocket, type RoomHandler, type SocketLike } from './socket';
import { accessToken, sessions } from '../api/client';
import { serverClock } from '../time/clock';
import { ticker } from '../time/ticker';

/** null until a page joins a room and the socket first opens or fails. */
export const liveConnected = ref<boolean | null>(null);

export const live = new LiveSocket({
  connect: () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // The DOM's handler types are narrower than SocketLike's; only these members are used.
    return new WebSocket(`${scheme}://${location.host}/api/v1/ws`) as unknown as SocketLike;
  },
  clock: serverClock,
  token: accessToken,
  onStatus: (connected) => {
    liveConnected.value = connected;
    ticker.tick();
  },
  onSessionEnded: () => {
    const session = sessions.load();
    if (session) void sessions.refresh(session.access_token).then((fresh) => fresh && live.authenticate());
  },
});

/** Joins `room` for as long as the calling component (or effect scope) lives. */
export function useRoom(room: string, handler: RoomHandler): void {
  const leave = live.join(room, handler);
  onScopeDispose(leave);
}
