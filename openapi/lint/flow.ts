// A strict client flow written against openapi-typescript's output of
// openapi/openapi.json: register → list → grab with Idempotency-Key →
// confirm, with a 409 handled by its `code` in an exhaustive switch and no
// casts. Compiled (not run) by scripts/lint-openapi.sh with `tsc --strict`.
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];

type GrabOp = Json<"/api/v1/auctions/{id}/grab", "post">;
type GrabConflict = GrabOp["responses"][409]["content"]["application/problem+json"];
type ConfirmOp = Json<"/api/v1/reservations/{id}/confirm", "post">;
type ConfirmConflict = ConfirmOp["responses"][409]["content"]["application/problem+json"];
type AlertOp = Json<"/api/v1/auctions/{id}/alerts", "post">;
type AlertConflict = AlertOp["responses"][409]["content"]["application/problem+json"];
type JoinWaitlistOp = Json<"/api/v1/events/{id}/waitlist", "post">;
type JoinWaitlistConflict = JoinWaitlistOp["responses"][409]["content"]["application/problem+json"];

const base = "http://127.0.0.1:8080";

function never(value: never): never {
  throw new Error(`unhandled: ${JSON.stringify(value)}`);
}

function explainGrabConflict(problem: GrabConflict): string {
  switch (problem.code) {
    case "auction_on_hold":
      return "Someone holds it; watch for it to come back.";
    case "auction_already_booked":
      return "Sold.";
    case "auction_not_started":
      return "Not yet.";
    case "auction_closed":
      return "Over.";
    case "regrab_not_allowed":
      return "You let your hold lapse.";
    case "payment_required":
      return "Hold it, then pay for it.";
    case "idempotency_in_progress":
      return "Still working; retry with the same key.";
    default:
      return never(problem.code);
  }
}

function explainConfirmConflict(problem: ConfirmConflict): string {
  switch (problem.code) {
    case "hold_expired":
      return "Too late.";
    case "invalid_state":
      return "Not a hold any more.";
    case "payment_required":
      return "Pay first.";
    case "payment_processing":
      return "The payment is on its way; confirm again shortly.";
    default:
      return never(problem.code);
  }
}

function explainAlertConflict(problem: AlertConflict): string {
  switch (problem.code) {
    case "auction_closed":
      return "Over: nothing left to watch.";
    case "price_alert_exists":
      return "One alert per auction: remove it to set another amount.";
    default:
      return never(problem.code);
  }
}

export function explainJoinWaitlistConflict(problem: JoinWaitlistConflict): string {
  switch (problem.code) {
    case "seats_available":
      return "Seats are free now: hold them instead.";
    case "already_waiting":
      return "Already in line.";
    case "hold_already_exists":
      return "You hold seats of it already.";
    case "event_not_open":
      return "It has started.";
    case "event_cancelled":
      return "The studio called it off.";
    default:
      return never(problem.code);
  }
}

type DeleteMeOp = Json<"/api/v1/me", "delete">;
type DeleteMeConflict = DeleteMeOp["responses"][409]["content"]["application/problem+json"];

// Leaving: the only platform admin is refused, in words the client can act on.
export function explainDeleteMeConflict(problem: DeleteMeConflict): string {
  switch (problem.code) {
    case "last_platform_admin":
      return "Appoint another platform admin first.";
    default:
      return never(problem.code);
  }
}

function isProblem(value: unknown): value is Schemas["Problem"] {
  return typeof value === "object" && value !== null && "code" in value && "status" in value;
}

async function post<T>(path: string, body: unknown, headers: Record<string, string>): Promise<[number, T | Schemas["Problem"]]> {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const parsed: T | Schemas["Problem"] = await response.json();
  return [response.status, parsed];
}

export async function flow(): Promise<string> {
  const registration: Schemas["RegisterIn"] = { email: "ada@example.com", password: "correct horse", full_name: "Ada" };
  const [registered, tokens] = await post<Schemas["TokensOut"]>("/api/v1/auth/register", registration, {});
  if (registered !== 201 || isProblem(tokens)) return "could not register";
  const bearer: "Bearer" = tokens.token_type;
  const auth = { authorization: `${bearer} ${tokens.access_token}` };

  const status: Schemas["AuctionStatus"] = "ACTIVE";
  const listed = await fetch(`${base}/api/v1/auctions?status=${status}&limit=20`);
  const page: Schemas["AuctionPage"] = await listed.json();
  const auction = page.items.find((a) => a.status === "ACTIVE");
  if (auction === undefined) return "nothing to grab";
  const price: Schemas["Money"] = auction.current_price;

  const key: GrabOp["parameters"]["header"] = { "Idempotency-Key": crypto.randomUUID() };
  const grabBody: Schemas["GrabIn"] = { confirm: false };
  const [grabbed, hold] = await post<Schemas["ReservationOut"]>(`/api/v1/auctions/${auction.id}/grab`, grabBody, {
    ...auth,
    ...(key ?? {}),
  });
  if (isProblem(hold)) {
    if (grabbed === 409) {
      const code = hold.code;
      if (
        code === "auction_on_hold" ||
        code === "auction_already_booked" ||
        code === "auction_not_started" ||
        code === "auction_closed" ||
        code === "regrab_not_allowed" ||
        code === "idempotency_in_progress"
      ) {
        return explainGrabConflict({ ...hold, code });
      }
    }
    return `grab failed: ${hold.code}`;
  }
  const kind: Schemas["ReservationKind"] = hold.kind;

  const [confirmed, booking] = await post<Schemas["ReservationOut"]>(`/api/v1/reservations/${hold.id}/confirm`, {}, auth);
  if (isProblem(booking)) {
    const code = booking.code;
    if (confirmed === 409 && (code === "hold_expired" || code === "invalid_state")) {
      return explainConfirmConflict({ ...booking, code });
    }
    return `confirm failed: ${code}`;
  }
  const bookingCode: string | null = booking.booking_code;
  return `${kind} booked at ${price}: ${bookingCode ?? "no code"}`;
}

// A price alert: "tell me under 150.00"; it may fire at once.
export async function watch(token: string, auction: number): Promise<string> {
  const body: Schemas["PriceAlertIn"] = { below: "150.00" };
  const [status, alert] = await post<Schemas["PriceAlertOut"]>(`/api/v1/auctions/${auction}/alerts`, body, {
    authorization: `Bearer ${token}`,
  });
  if (isProblem(alert)) {
    const code = alert.code;
    if (status === 409 && (code === "auction_closed" || code === "price_alert_exists")) {
      return explainAlertConflict({ ...alert, code });
    }
    return `alert failed: ${code}`;
  }
  return alert.fired ? `told at once: ${alert.auction.current_price}` : `watching under ${alert.below}`;
}

// Reading the audit log: `action` tells the entry's `details` apart, so each
// action's facts are typed (issue 19: a bare object would be unreadable).
export async function auditSummary(token: string): Promise<string[]> {
  const response = await fetch(`${base}/api/v1/audit-log?limit=20`, { headers: { authorization: `Bearer ${token}` } });
  const page: Schemas["AuditPage"] = await response.json();
  return page.items.map((entry) => {
    switch (entry.action) {
      case "studio.assign_admin": {
        const previous: Schemas["UserRole"] = entry.details.previous_role;
        return `${entry.details.email} (user ${entry.details.user_id}, was ${previous}) now runs studio ${entry.studio_id}`;
      }
      case "event.update":
        return `event changed: ${Object.keys(entry.details.changes).join(", ")}`;
      case "reservation.cancel": {
        const price: Schemas["Money"] = entry.details.total_price;
        return `cancelled ${entry.details.quantity} seat(s) of user ${entry.details.user_id} worth ${price}`;
      }
      case "auction.cancel":
        return `${entry.details.title} cancelled${entry.details.cancelled_reservation === null ? "" : " with its booking"}`;
      default:
        return `${entry.action} on ${entry.target}`;
    }
  });
}

// Accepting a studio admin invitation from its emailed link: every refusal
// the contract names for it, handled by its `code` in an exhaustive switch.
type AcceptOp = Json<"/api/v1/invitations/accept", "post">;
type AcceptProblem =
  | AcceptOp["responses"][400]["content"]["application/problem+json"]
  | AcceptOp["responses"][403]["content"]["application/problem+json"]
  | AcceptOp["responses"][409]["content"]["application/problem+json"]
  | AcceptOp["responses"][410]["content"]["application/problem+json"]
  | AcceptOp["responses"][422]["content"]["application/problem+json"];

function explainAcceptProblem(code: AcceptProblem["code"]): string {
  switch (code) {
    case "token_invalid":
      return "The link is not valid (replaced or revoked): ask for a new invitation.";
    case "token_expired":
      return "The invitation expired: ask for a new one.";
    case "token_used":
      return "The invitation was accepted already.";
    case "invitation_for_another_address":
      return "Sign in with the address the invitation was sent to.";
    case "already_administers_a_studio":
      return "You run another studio already.";
    case "malformed_json":
    case "bad_body":
    case "validation_failed":
      return "The request was garbled.";
    default:
      return never(code);
  }
}

export async function acceptInvitation(accessToken: string, token: string): Promise<string> {
  const body: Schemas["EmailTokenIn"] = { token };
  const [status, answer] = await post<Schemas["UserOut"]>("/api/v1/invitations/accept", body, {
    authorization: `Bearer ${accessToken}`,
  });
  if (isProblem(answer)) {
    if (status === 400 || status === 403 || status === 409 || status === 410 || status === 422) {
      const code = answer.code;
      if (
        code === "token_invalid" ||
        code === "token_expired" ||
        code === "token_used" ||
        code === "invitation_for_another_address" ||
        code === "already_administers_a_studio" ||
        code === "malformed_json" ||
        code === "bad_body" ||
        code === "validation_failed"
      ) {
        return explainAcceptProblem(code);
      }
    }
    return `accept failed: ${answer.code}`;
  }
  const verified: boolean = answer.email_verified;
  return `now ${answer.role} of studio ${answer.studio_id ?? "none"} (verified: ${verified})`;
}
