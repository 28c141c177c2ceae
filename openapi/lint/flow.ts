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
