//! Typed identifiers, so an auction id can never be passed where a user id belongs.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}:{}", $prefix, self.0)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId, "user"
);
id_type!(
    /// A studio (the tenant).
    StudioId, "studio"
);
id_type!(
    /// A Dutch auction for one session slot.
    AuctionId, "auction"
);
id_type!(
    /// An event with a seat capacity.
    EventId, "event"
);
id_type!(
    /// A reservation (hold, booking) of a slot or of seats.
    ReservationId, "reservation"
);
id_type!(
    /// A user's price alert on an auction.
    AlertId, "alert"
);
