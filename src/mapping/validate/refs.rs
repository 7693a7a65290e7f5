//! The field names each platform has, and which of them the service may write.

/// GHL contact fields a pair may name (webhook and API spelling).
pub const GHL_STANDARD: &[&str] = &[
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "companyName",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "dateOfBirth",
    "source",
    "dnd",
    "assignedTo",
    "id",
    "dateAdded",
    "dateUpdated",
];

/// GHL contact fields the API does not let us write.
pub const GHL_READ_ONLY: &[&str] = &["id", "dateAdded", "dateUpdated"];

/// Tovuti core user fields a pair may name.
pub const TOVUTI_CORE: &[&str] = &[
    "name",
    "username",
    "email",
    "status",
    "requireReset",
    "id",
    "registerDate",
    "lastvisitDate",
];

/// Tovuti core fields set by Tovuti itself.
pub const TOVUTI_READ_ONLY: &[&str] = &["id", "registerDate", "lastvisitDate"];
