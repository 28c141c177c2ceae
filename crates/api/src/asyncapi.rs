//! The AsyncAPI 3.0 document of the live protocol (`openapi/asyncapi.json`,
//! served at `/api/v1/asyncapi.json`), derived from the types in
//! [`crate::live::protocol`]: each op and frame is one message whose payload
//! is its type's schema with the `op` or `type` field that names it.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::live::protocol::{
    AuctionChange, Auth, Authenticated, AvailabilityChange, ErrorFrame, EventHidden, Ping, Pong, PriceAlertFired,
    PriceUpdate, ReservationChange, RoomClosed, SessionEnded, Subscribe, Subscribed, Unsubscribe, Unsubscribed,
};
use crate::live::socket::{SLOW_CONSUMER, TOO_MANY_OPS};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// One message of the protocol: its name (the value of `op` or `type`), what
/// it says, and its payload's type.
struct Message {
    name: &'static str,
    summary: &'static str,
    payload: fn(&mut Schemas) -> Value,
}

fn payload_of<T: ToSchema>(schemas: &mut Schemas) -> Value {
    T::schemas(schemas);
    serde_json::to_value(T::schema()).expect("a schema serialises")
}

const fn message<T: ToSchema>(name: &'static str, summary: &'static str) -> Message {
    Message { name, summary, payload: payload_of::<T> }
}

/// What a client sends, told apart by `op`.
const CLIENT_OPS: [Message; 4] = [
    message::<Auth>("auth", "Sign the socket in with an access token"),
    message::<Subscribe>("subscribe", "Join a room; with `since`, resume after that `seq`"),
    message::<Unsubscribe>("unsubscribe", "Leave a room"),
    message::<Ping>("ping", "Ask for the server's time"),
];

/// What the server sends, told apart by `type`.
const SERVER_FRAMES: [Message; 26] = [
    message::<Authenticated>("authenticated", "The answer to `auth`"),
    message::<Subscribed>("subscribed", "The answer to `subscribe`: a snapshot, or the start of a replay"),
    message::<Unsubscribed>("unsubscribed", "The answer to `unsubscribe`"),
    message::<Pong>("pong", "The answer to `ping`"),
    message::<SessionEnded>("session_ended", "The socket's private rooms ended"),
    message::<RoomClosed>("room_closed", "The socket left a room it may no longer see (a hidden event)"),
    message::<ErrorFrame>("error", "An op refused, or a problem with the socket"),
    message::<PriceUpdate>("price_update", "An auction's price stepped (no `seq`)"),
    message::<AuctionChange>("turbo_triggered", "An auction's turbo phase started"),
    message::<AuctionChange>("auction_held", "An auction was grabbed and is held"),
    message::<AuctionChange>("auction_reopened", "An auction's hold ended unused; it is on sale again"),
    message::<AuctionChange>("auction_booked", "An auction's hold was confirmed: it is sold"),
    message::<AuctionChange>("auction_updated", "An auction was edited, cancelled or ended"),
    message::<AuctionChange>(
        "auction_deleted",
        "An auction no one had reserved was deleted (as it was): drop it; its room has nothing more to say",
    ),
    message::<AvailabilityChange>(
        "availability_changed",
        "An event was created, or its seats or details changed (a deleted or cancelled event is announced inactive)",
    ),
    message::<EventHidden>(
        "event_hidden",
        "An event left the catalogue for this socket (deactivated or deleted): said instead of its change",
    ),
    message::<ReservationChange>("hold_created", "A hold was created"),
    message::<ReservationChange>(
        "hold_offered",
        "Seats returned to a full event were offered to this user from its waiting list: a hold created for them \
         (on `user:{id}` only; the studio hears `hold_created`), to confirm like any hold before it lapses",
    ),
    message::<ReservationChange>("booking_confirmed", "A hold was confirmed"),
    message::<ReservationChange>("reservation_expired", "A hold lapsed"),
    message::<ReservationChange>("reservation_cancelled", "A reservation was cancelled"),
    message::<ReservationChange>("reservation_checked_in", "A booking was checked in at the door"),
    message::<ReservationChange>("reservation_no_show", "A booking was not checked in by the end of the grace period"),
    message::<ReservationChange>("payment_succeeded", "A hold's payment succeeded (it is confirmed)"),
    message::<ReservationChange>(
        "payment_refunded",
        "A payment went back in full (a lapsed or cancelled hold, a cancelled booking, or one that did not match)",
    ),
    message::<PriceAlertFired>(
        "price_alert",
        "An auction's price reached one of the user's price alerts (`user:` room only); the alert is gone",
    ),
];

/// The state changes and price steps rooms carry (sent unasked).
const ROOM_EVENTS: [&str; 19] = [
    "price_update",
    "turbo_triggered",
    "auction_held",
    "auction_reopened",
    "auction_booked",
    "auction_updated",
    "auction_deleted",
    "availability_changed",
    "event_hidden",
    "hold_created",
    "hold_offered",
    "booking_confirmed",
    "reservation_expired",
    "reservation_cancelled",
    "reservation_checked_in",
    "reservation_no_show",
    "payment_succeeded",
    "payment_refunded",
    "price_alert",
];

/// Close codes the server uses, with what they mean.
fn close_codes() -> Value {
    let codes = [
        (1001, "The server is shutting down, or the socket stopped answering pings: reconnect"),
        (1002, "Protocol error (e.g. a frame over 16 KiB)"),
        (1013, "Too many sockets from this address (after an `error` `too_many_connections`): try again later"),
        (SLOW_CONSUMER, "Too slow: messages were piling up. Reconnect and resume with `since`"),
        (TOO_MANY_OPS, "Kept sending ops after `rate_limited` (more than a burst's worth refused in a row)"),
    ];
    codes.into_iter().map(|(code, meaning)| (code.to_string(), Value::from(meaning))).collect::<Map<_, _>>().into()
}

const DESCRIPTION: &str = "\
Live updates over one WebSocket: JSON text frames. A client sends ops \
(`auth`, `subscribe`, `unsubscribe`, `ping`, told apart by `op`); the server \
answers each and pushes the state changes of the rooms the socket joined \
(told apart by `type`).\n\n\
Rooms: `auction:{id}` and `event:{id}` (anyone), `user:{id}` (that user, \
after `auth`), `studio:{id}` (the studio's admins and platform admins), and \
`catalogue` (anyone): every auction's and event's change, a new one's \
included, so a list stays live without a room per item. An inactive event's \
room is its studio's admins' and platform admins' only: to anyone else it is \
`not_found`, and a socket that joined while it was public gets \
`room_closed` when it is deactivated or deleted, then nothing more of it. In \
the catalogue such an event's changes go to those who may see it; everyone \
else gets `event_hidden` (its id only). The catalogue has no state and no \
replay: its snapshot is empty, also when resuming; read the lists over REST \
after `subscribed`.\n\n\
Room data has the REST shapes: an auction is an `AuctionOut` (as `GET \
/api/v1/auctions/{id}`), an event an `EventOut`, a reservation a \
`ReservationOut`.\n\n\
State changes carry the room's `seq` and the stream's `epoch`. `seq` \
increases within a room but need not be contiguous: gaps are normal. To \
resume after a reconnect, `subscribe` with `since` set to the last `seq` \
seen: the missed events are replayed in order when still stored, else a \
fresh snapshot is sent. `price_update` is computed on each instance and \
carries no `seq`.\n\n\
Limits (rooms per socket, ops per second, sockets per client IP) are \
configuration; exceeding them is an `error` frame or a close code (see \
`x-close-codes` on the channel).";

/// The schemas the live protocol shares with the REST API are taken from the
/// finished OpenAPI document (money as `Money`, always-sent fields required),
/// together with whatever they refer to, so a frame's `data` is exactly what
/// REST answers.
fn with_rest_shapes(derived: impl Iterator<Item = (String, Value)>) -> Map<String, Value> {
    let rest = &crate::openapi_document()["components"]["schemas"];
    let mut schemas: std::collections::BTreeMap<String, Value> =
        derived.map(|(name, schema)| (name.clone(), rest.get(&name).cloned().unwrap_or(schema))).collect();
    let mut pending: Vec<String> = schemas.values().flat_map(referenced).collect();
    while let Some(name) = pending.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        if let Some(schema) = rest.get(&name) {
            pending.extend(referenced(schema));
            schemas.insert(name, schema.clone());
        }
    }
    schemas.into_iter().collect()
}

/// The component names a schema refers to.
fn referenced(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Value::String(target)) => {
                    target.strip_prefix("#/components/schemas/").map(str::to_owned).into_iter().collect()
                }
                _ => referenced(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(referenced).collect(),
        _ => Vec::new(),
    }
}

/// The AsyncAPI document.
pub fn document() -> Value {
    let mut schemas = Schemas::new();
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    for (tag, group) in [("op", &CLIENT_OPS[..]), ("type", &SERVER_FRAMES[..])] {
        for message in group {
            let payload = tagged((message.payload)(&mut schemas), tag, message.name);
            messages.insert(
                message.name.to_owned(),
                json!({ "name": message.name, "summary": message.summary, "payload": payload }),
            );
            channel_messages
                .insert(message.name.to_owned(), json!({ "$ref": format!("#/components/messages/{}", message.name) }));
        }
    }
    let schemas = with_rest_shapes(
        schemas.into_iter().map(|(name, schema)| (name, serde_json::to_value(schema).expect("a schema serialises"))),
    );
    let refs = |names: &[&str]| -> Value {
        names.iter().map(|name| json!({ "$ref": format!("#/channels/live/messages/{name}") })).collect()
    };
    let answered = |op: &str, summary: &str, replies: &[&str]| {
        json!({
            "action": "receive",
            "channel": { "$ref": "#/channels/live" },
            "summary": summary,
            "messages": refs(&[op]),
            "reply": { "channel": { "$ref": "#/channels/live" }, "messages": refs(replies) },
        })
    };
    let sent = |summary: &str, names: &[&str]| json!({ "action": "send", "channel": { "$ref": "#/channels/live" }, "summary": summary, "messages": refs(names) });
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "HotHour live updates",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:8080",
                "protocol": "ws",
                "description": "A server run with `just run`; in production, wss:// on the API's host",
            },
        },
        "channels": {
            "live": {
                "address": "/api/v1/ws",
                "title": "Live updates",
                "description": "One socket per client; its rooms, ops and frames.",
                "messages": channel_messages,
                "x-close-codes": close_codes(),
            },
        },
        "operations": {
            "auth": answered("auth", "Sign in", &["authenticated", "session_ended", "error"]),
            "subscribe": answered("subscribe", "Join a room", &["subscribed", "error"]),
            "unsubscribe": answered("unsubscribe", "Leave a room", &["unsubscribed"]),
            "ping": answered("ping", "Ask for the time", &["pong"]),
            "roomEvents": sent("State changes and price steps of the joined rooms", &ROOM_EVENTS),
            "sessionEnded": sent("The private rooms ended with the sign-in behind them", &["session_ended"]),
            "roomClosed": sent("A room ended for a socket that may no longer see it", &["room_closed"]),
            "socketErrors": sent("Errors no op asked for (over the rate, too many sockets)", &["error"]),
        },
        "components": { "messages": messages, "schemas": schemas },
    })
}

/// `payload` (an object schema) with a required `field` whose value is `name`, first.
fn tagged(payload: Value, field: &str, name: &str) -> Value {
    let Value::Object(mut payload) = payload else {
        panic!("a message payload is an object schema");
    };
    let mut properties = Map::new();
    properties.insert(field.to_owned(), json!({ "type": "string", "const": name }));
    if let Some(Value::Object(own)) = payload.remove("properties") {
        properties.extend(own);
    }
    let mut required = vec![Value::from(field)];
    if let Some(Value::Array(own)) = payload.remove("required") {
        required.extend(own);
    }
    payload.insert("properties".into(), Value::Object(properties));
    payload.insert("required".into(), Value::Array(required));
    // A frame holds exactly these fields.
    payload.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(payload)
}

/// The document as committed in `openapi/asyncapi.json`.
pub fn asyncapi_json() -> String {
    serde_json::to_string_pretty(&document()).expect("the AsyncAPI document serialises")
}

/// `GET /api/v1/asyncapi.json`
pub async fn serve() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.get_or_init(asyncapi_json).as_str())
}

#[cfg(test)]
mod tests {
    use hothour_domain::EventKind;

    use super::*;

    #[test]
    fn every_state_change_is_a_room_event_with_its_own_message() {
        let frames: Vec<&str> = SERVER_FRAMES.iter().map(|message| message.name).collect();
        for kind in EventKind::ALL {
            assert!(ROOM_EVENTS.contains(&kind.as_str()), "{} is not listed as a room event", kind.as_str());
        }
        for name in ROOM_EVENTS {
            assert!(frames.contains(&name), "{name} has no message");
        }
        assert!(frames.contains(&"event_hidden") && ROOM_EVENTS.contains(&"event_hidden"));
        assert_eq!(ROOM_EVENTS.len(), EventKind::ALL.len() + 2, "the state changes, price_update and event_hidden");
    }

    #[test]
    fn the_subscribe_schema_states_what_the_server_accepts() {
        let document = document();
        let subscribe = &document["components"]["messages"]["subscribe"]["payload"]["properties"];
        assert_eq!(subscribe["since"]["maximum"].as_i64(), Some(crate::live::protocol::MAX_SINCE));
        assert_eq!(subscribe["since"]["minimum"].as_i64(), Some(0));
        let pattern = subscribe["room"]["pattern"].as_str().unwrap();
        let rooms = [
            "auction:42",
            "event:1",
            "user:7",
            "studio:3",
            "auction:007",
            "catalogue",
            "auction:0",
            "lobby:1",
            "event:-1",
            "catalogue:1",
            "Catalogue",
        ];
        for room in rooms {
            let parsed = hothour_domain::Room::parse(room).is_some() || room == crate::live::catalogue::ROOM;
            assert_eq!(matches_room_pattern(pattern, room), parsed, "{room} against {pattern}");
        }
    }

    /// The room pattern, `^((a|b|…):0*[1-9][0-9]*|catalogue)$`, checked without a regex engine.
    fn matches_room_pattern(pattern: &str, room: &str) -> bool {
        let kinds = pattern.trim_start_matches("^((").split_once("):").unwrap().0;
        assert!(pattern.ends_with("):0*[1-9][0-9]*|catalogue)$"), "the pattern changed shape: {pattern}");
        if room == "catalogue" {
            return true;
        }
        let Some((kind, id)) = room.split_once(':') else { return false };
        let digits = id.trim_start_matches('0');
        kinds.split('|').any(|k| k == kind) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }

    #[test]
    fn every_payload_names_its_message() {
        let document = document();
        let messages = &document["components"]["messages"];
        for (tag, group) in [("op", &CLIENT_OPS[..]), ("type", &SERVER_FRAMES[..])] {
            for message in group {
                let payload = &messages[message.name]["payload"];
                assert_eq!(payload["properties"][tag]["const"], message.name);
                assert_eq!(payload["required"][0], tag);
            }
        }
        assert_eq!(messages.as_object().unwrap().len(), CLIENT_OPS.len() + SERVER_FRAMES.len(), "names are unique");
    }
}
