// Names for the generated schema types (src/api/schema.d.ts, `npm run gen`).
import type { components } from './schema';

type Schemas = components['schemas'];
export type Auction = Schemas['AuctionOut'];
export type AuctionInput = Schemas['AuctionIn'];
export type PriceStep = Schemas['PriceStepOut'];
export type EventItem = Schemas['EventOut'];
export type EventInput = Schemas['EventIn'];
export type Reservation = Schemas['ReservationOut'];
export type Tokens = Schemas['TokensOut'];
export type User = Schemas['UserOut'];
export type Studio = Schemas['StudioOut'];
export type Problem = Schemas['Problem'];
export type Turbo = Schemas['TurboIn'];

// The closed sets of SPEC §4, §6 and §7, as the contract (from the domain's own types) declares them.
export type AuctionStatus = Schemas['AuctionStatus'];
export type ReservationStatus = Schemas['ReservationStatus'];
export type Role = Schemas['UserRole'];

