// An auction kept current: the REST shape, with each frame of its room merged in.
import { computed, reactive, type ComputedRef } from 'vue';
import type { Auction } from '../api/types';
import type { AuctionLive } from './frames';
import { livePrice, scheduleOf } from '../domain/pricing';
import { ticker } from '../time/ticker';

export function mergeLive(auction: Auction, data: Partial<AuctionLive>): void {
  const { id: _id, ...fields } = data;
  Object.assign(auction, fields);
  ticker.wakeAt(auction.next_change_at ? Date.parse(auction.next_change_at) : null);
}

export interface LiveView {
  price: number;
  nextAt: number | null;
}

/** The price and next drop at the page's one shared `now`. */
export function usePrice(auction: Auction): ComputedRef<LiveView> {
  const schedule = computed(() => scheduleOf(auction));
  return computed(() => {
    const view = livePrice(auction, schedule.value, ticker.now.value);
    ticker.wakeAt(view.nextAt);
    return view;
  });
}

export function liveAuction(auction: Auction): Auction {
  const live = reactive(auction) as Auction;
  ticker.wakeAt(live.next_change_at ? Date.parse(live.next_change_at) : null);
  return live;
}
