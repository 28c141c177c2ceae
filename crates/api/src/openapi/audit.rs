//! The audit entry as the document describes it: one schema per action,
//! told apart by `action`, each with the `details` the domain records for it
//! (`hothour_domain::audit`), so a generated client can read them.

use hothour_domain::AuditAction;
use hothour_domain::audit::{AUCTION_FIELDS, EVENT_FIELDS, STUDIO_FIELDS};
use serde_json::{Map, Value, json};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

fn text() -> Value {
    json!({ "type": "string" })
}

fn instant() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn date() -> Value {
    json!({ "type": "string", "format": "date" })
}

fn id() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

/// An object whose every listed property is always sent.
fn object(description: &str, properties: Vec<(&str, Value)>) -> Value {
    let required: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    let properties: Map<String, Value> = properties.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    json!({ "type": "object", "description": description, "required": required, "properties": properties })
}

/// The changes of an edit: only the fields that changed appear.
fn changes(what: &str, fields: &[&str]) -> Value {
    let properties: Map<String, Value> =
        fields.iter().map(|field| ((*field).to_owned(), schema("AuditChange"))).collect();
    object(
        &format!(
            "What the edit changed: each changed field of the {what}, as the API names it, with its value before and after; fields left as they were are not listed."
        ),
        vec![("changes", json!({ "type": "object", "properties": properties, "additionalProperties": false }))],
    )
}

fn auction_facts(when: &str) -> Value {
    object(
        &format!("The auction as {when}."),
        vec![
            ("title", text()),
            ("start_price", schema("Money")),
            ("floor_price", schema("Money")),
            ("starts_at", instant()),
            ("ends_at", instant()),
            ("scheduled_at", instant()),
        ],
    )
}

fn event_facts(when: &str) -> Value {
    object(
        &format!("The event as {when}."),
        vec![
            ("title", text()),
            ("capacity", json!({ "type": "integer", "minimum": 0 })),
            ("price", schema("Money")),
            ("starts_at", instant()),
            ("ends_at", instant()),
        ],
    )
}

/// The `details` of each action.
fn details(action: AuditAction) -> Value {
    match action {
        AuditAction::AuctionCreate => auction_facts("created (a weekly repeat records one entry per auction)"),
        AuditAction::AuctionUpdate => changes("auction", AUCTION_FIELDS),
        AuditAction::AuctionCancel => object(
            "The auction cancelled, and the hold or booking cancelled with it (null when there was none).",
            vec![
                ("title", text()),
                ("previous_status", schema("AuctionStatus")),
                ("cancelled_reservation", json!({ "oneOf": [schema("AuditedReservation"), { "type": "null" }] })),
            ],
        ),
        AuditAction::AuctionTurbo => object(
            "Turbo started by hand, and the price at that moment.",
            vec![("title", text()), ("price", schema("Money"))],
        ),
        AuditAction::AuctionDelete => auction_facts("it was when deleted (no one had ever reserved it)"),
        AuditAction::EventCreate => event_facts("created"),
        AuditAction::EventUpdate => changes("event", EVENT_FIELDS),
        AuditAction::EventDelete => event_facts("it was when deleted"),
        AuditAction::EventCancel => object(
            "The event as it was when cancelled, and every hold and booking cancelled with it.",
            vec![
                ("title", text()),
                ("capacity", json!({ "type": "integer", "minimum": 0 })),
                ("price", schema("Money")),
                ("starts_at", instant()),
                ("ends_at", instant()),
                ("cancelled_reservations", json!({ "type": "array", "items": schema("AuditedReservation") })),
            ],
        ),
        AuditAction::ReservationCancel => schema("AuditedReservation"),
        AuditAction::ReservationCheckIn => schema("AuditedReservation"),
        AuditAction::PaymentSucceeded | AuditAction::PaymentRefunded => schema("AuditedReservation"),
        AuditAction::StudioRemoveAdmin => object(
            "Who stopped being the studio's admin (the entry's target is `user:{id}`); their role is `user` now.",
            vec![("user_id", id()), ("email", text())],
        ),
        AuditAction::StudioCreate => object(
            "The studio as created.",
            vec![("name", text()), ("address", text()), ("timezone", schema("TimeZone"))],
        ),
        AuditAction::StudioUpdate => changes("studio", STUDIO_FIELDS),
        AuditAction::StudioAssignAdmin => object(
            "Who was made the studio's admin (the entry's target is `user:{id}`), and their role and studio until then.",
            vec![
                ("user_id", id()),
                ("email", text()),
                ("previous_role", schema("UserRole")),
                ("previous_studio_id", nullable("integer")),
            ],
        ),
        AuditAction::AccountDelete => object(
            "Someone deleted their own account (the entry's actor and target are `user:{id}`; in the studio's log if they ran it): their role and studio until then. Nothing personal is kept.",
            vec![("user_id", id()), ("previous_role", schema("UserRole")), ("previous_studio_id", nullable("integer"))],
        ),
        AuditAction::ReservationsExport => object(
            "The studio's reservations downloaded as CSV (the entry's target is `studio:{id}`): those whose session starts from `from` to `to`, both included, in the studio's time zone `timezone`.",
            vec![("from", date()), ("to", date()), ("timezone", schema("TimeZone"))],
        ),
    }
}

/// `AuditAuctionCreate` for `auction.create`.
fn variant_name(action: AuditAction) -> String {
    let words: String = action
        .as_str()
        .split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    format!("Audit{words}")
}

/// Replaces the derived `AuditOut` (with its untyped `details`) by a union
/// of one schema per action, and adds the schemas they share.
pub fn add_schemas(schemas: &mut Map<String, Value>) {
    let base = schemas.remove("AuditOut").expect("AuditOut is derived");
    let mut mapping = Map::new();
    let mut variants = Vec::new();
    for action in AuditAction::ALL {
        let name = variant_name(action);
        let mut variant = base.clone();
        variant["description"] = json!(format!("An entry of action `{}`.", action.as_str()));
        variant["properties"]["action"] = json!({ "type": "string", "enum": [action.as_str()] });
        variant["properties"]["details"] = details(action);
        mapping.insert(action.as_str().to_owned(), json!(format!("#/components/schemas/{name}")));
        variants.push(schema(&name));
        schemas.insert(name, variant);
    }
    schemas.insert(
        "AuditOut".into(),
        json!({
            "description": "An administrative action: who (`actor_id`) did what (`action`) to what (`target`, e.g. `auction:42`), and `details` whose shape depends on the action.",
            "oneOf": variants,
            "discriminator": { "propertyName": "action", "mapping": mapping },
        }),
    );
    schemas.insert(
        "AuditChange".into(),
        object(
            "A field's value before and after an edit, as the API shows it.",
            vec![
                ("from", json!({ "description": "The value before." })),
                ("to", json!({ "description": "The value after." })),
            ],
        ),
    );
    schemas.insert(
        "AuditedReservation".into(),
        object(
            "The reservation acted on, as it was until then: whose, for what, how many seats and for how much.",
            vec![
                ("reservation_id", id()),
                ("kind", schema("ReservationKind")),
                ("auction_id", nullable("integer")),
                ("event_id", nullable("integer")),
                ("user_id", id()),
                ("previous_status", schema("ReservationStatus")),
                ("quantity", json!({ "type": "integer", "minimum": 1 })),
                ("total_price", schema("Money")),
                ("booking_code", nullable("string")),
            ],
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_named_after_their_action() {
        assert_eq!(variant_name(AuditAction::StudioAssignAdmin), "AuditStudioAssignAdmin");
        assert_eq!(variant_name(AuditAction::ReservationCheckIn), "AuditReservationCheckIn");
    }
}
